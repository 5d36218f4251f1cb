import SessionLedger

/// One cell of a printed record.
public enum Cell {
    case string(String)
    case integer(Int64)
    case null
    /// Not there at all: left out of JSON objects, an empty cell elsewhere.
    case absent
    /// Already-encoded JSON (an object such as `meta`); CSV and tables show it as text.
    case json(String)

    public var text: String {
        switch self {
        case .string(let s): s
        case .integer(let n): String(n)
        case .null, .absent: ""
        case .json(let j): j
        }
    }
}

/// Prints records with fixed field names in one of the four formats of SPEC.md section 6.
///
/// Every format streams: `json` writes one array as it goes; `table` holds only its first
/// `tableSample` rows to size the columns, then prints every later row at those widths.
public struct RecordPrinter {
    public let format: OutputFormat
    public let fields: [String]
    /// Column titles for tables (defaults to the field names).
    public let titles: [String]
    public let output: RecordOutput
    private var rows: [[Cell]] = []
    private var widths: [Int]?
    private var count = 0
    static let tableSample = 1000

    public init(format: OutputFormat, fields: [String], titles: [String]? = nil, output: RecordOutput) {
        self.format = format
        self.fields = fields
        self.titles = titles ?? fields
        self.output = output
        if format == .csv { output.line(fields.map(RecordPrinter.csvCell).joined(separator: ",")) }
        if format == .json { output.write("[") }
    }

    public mutating func add(_ cells: [Cell]) {
        switch format {
        case .table:
            if let widths {
                output.line(RecordPrinter.tableLine(cells.map(\.text), widths))
            } else {
                rows.append(cells)
                if rows.count == RecordPrinter.tableSample { printTable() }
            }
        case .ndjson: output.line(object(cells))
        case .json: output.write((count == 0 ? "\n" : ",\n") + object(cells))
        case .csv: output.line(cells.map { RecordPrinter.csvCell($0.text) }.joined(separator: ","))
        }
        count += 1
    }

    /// Ends the output (closes the JSON array, prints the table).
    public mutating func finish() {
        switch format {
        case .json: output.line(count == 0 ? "]" : "\n]")
        case .table: if widths == nil { printTable() }
        case .ndjson, .csv: break
        }
        output.flush()
    }

    /// Writes what is pending (for `--follow`): a table sizes its columns on the rows it has.
    public mutating func flush() {
        if format == .table, widths == nil, !rows.isEmpty { printTable() }
        output.flush()
    }

    private func object(_ cells: [Cell]) -> String { RecordPrinter.object(fields: fields, cells: cells) }

    /// One JSON object with these field names (absent cells left out).
    public static func object(fields: [String], cells: [Cell]) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        for (name, cell) in zip(fields, cells) {
            if case .absent = cell { continue }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            CanonicalWriter.appendString(name, &out)
            out.append(UInt8(ascii: ":"))
            switch cell {
            case .string(let s): CanonicalWriter.appendString(s, &out)
            case .integer(let n): out.append(contentsOf: String(n).utf8)
            case .null: out.append(contentsOf: "null".utf8)
            case .absent: break
            case .json(let j): out.append(contentsOf: j.utf8)
            }
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func printTable() {
        guard !rows.isEmpty else {
            output.line("(none)")
            return
        }
        var widths = titles.map { $0.count }
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.text.count) }
        }
        output.line(RecordPrinter.tableLine(titles, widths))
        for row in rows { output.line(RecordPrinter.tableLine(row.map { $0.text }, widths)) }
        rows.removeAll()
        self.widths = widths
    }

    private static func tableLine(_ texts: [String], _ widths: [Int]) -> String {
        var parts: [String] = []
        for (i, text) in texts.enumerated() {
            let pad = i == texts.count - 1 ? 0 : max(0, widths[i] - text.count)
            parts.append(text + String(repeating: " ", count: pad))
        }
        return parts.joined(separator: "  ")
    }

    /// A CSV cell (RFC 4180 quoting), with cells that a spreadsheet would run as a formula
    /// (starting with `=`, `+`, `-`, `@`, tab or carriage return) prefixed with `'`.
    public static func csvCell(_ text: String) -> String {
        var value = text
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
            value = "'" + value
        }
        if value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return value
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
