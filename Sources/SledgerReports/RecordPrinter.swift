import SessionLedger

/// One cell of a printed record.
public enum Cell {
    case string(String)
    case integer(Int64)
    /// An instant, printed in its canonical text (written straight into the output's bytes).
    case instant(Instant)
    case null
    /// Not there at all: left out of JSON objects, an empty cell elsewhere.
    case absent
    /// Already-encoded JSON (an object such as `meta`); CSV and tables show it as text.
    case json(String)

    public var text: String {
        switch self {
        case .string(let s): s
        case .integer(let n): String(n)
        case .instant(let t): t.description
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
    /// Each field's `"name":`, made once (ndjson, json).
    private let keys: [[UInt8]]
    private var rows: [[Cell]] = []
    private var widths: [Int]?
    private var count = 0
    /// The line being made (csv, ndjson, json): cells go in as bytes, with no string per cell.
    private var line: [UInt8] = []
    static let tableSample = 1000

    public init(format: OutputFormat, fields: [String], titles: [String]? = nil, output: RecordOutput) {
        self.format = format
        self.fields = fields
        self.titles = titles ?? fields
        self.output = output
        keys = RecordPrinter.keys(fields)
        if format == .csv { output.line(fields.map(RecordPrinter.csvCell).joined(separator: ",")) }
        if format == .json { output.write("[") }
    }

    public mutating func add(_ cells: [Cell]) {
        defer { count += 1 }
        line.removeAll(keepingCapacity: true)
        switch format {
        case .table:
            guard let widths else {
                rows.append(cells)
                if rows.count == RecordPrinter.tableSample { printTable() }
                return
            }
            RecordPrinter.appendTableLine(cells, widths, &line)
        case .ndjson:
            RecordPrinter.appendObject(keys: keys, cells: cells, &line)
            line.append(0x0A)
        case .json:
            // "[" then "\n" before the first object and ",\n" before each later one.
            if count > 0 { line.append(UInt8(ascii: ",")) }
            line.append(0x0A)
            RecordPrinter.appendObject(keys: keys, cells: cells, &line)
        case .csv:
            for (i, cell) in cells.enumerated() {
                if i > 0 { line.append(UInt8(ascii: ",")) }
                RecordPrinter.appendCSVCell(cell, &line)
            }
            line.append(0x0A)
        }
        output.write(line)
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

    /// One JSON object with these field names (absent cells left out).
    public static func object(fields: [String], cells: [Cell]) -> String {
        var out: [UInt8] = []
        appendObject(keys: keys(fields), cells: cells, &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Each field name as a JSON object's key: `"name":`.
    static func keys(_ fields: [String]) -> [[UInt8]] {
        fields.map { name in
            var key: [UInt8] = []
            CanonicalWriter.appendString(name, &key)
            key.append(UInt8(ascii: ":"))
            return key
        }
    }

    /// Appends that object's bytes to `out`, its fields' `keys` made by `keys(_:)`.
    static func appendObject(keys: [[UInt8]], cells: [Cell], _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (key, cell) in zip(keys, cells) {
            if case .absent = cell { continue }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: key)
            switch cell {
            case .string(let s): CanonicalWriter.appendString(s, &out)
            case .integer(let n): appendInteger(n, &out)
            case .instant(let t):
                // Canonical instants are digits, '-', ':', '.', 'T' and 'Z': nothing to escape.
                out.append(UInt8(ascii: "\""))
                t.writeCanonical(into: &out)
                out.append(UInt8(ascii: "\""))
            case .null: out.append(contentsOf: "null".utf8)
            case .absent: break
            case .json(let j): out.append(contentsOf: j.utf8)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func appendInteger(_ n: Int64, _ out: inout [UInt8]) {
        if n < 0 { out.append(UInt8(ascii: "-")) }
        CanonicalWriter.appendDecimal(n.magnitude, &out)
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
        line.removeAll(keepingCapacity: true)
        RecordPrinter.appendTableLine(titles.map { .string($0) }, widths, &line)
        for row in rows { RecordPrinter.appendTableLine(row, widths, &line) }
        output.write(line)
        line.removeAll(keepingCapacity: true)
        rows.removeAll()
        self.widths = widths
    }

    /// Appends one table line and its newline: the cells' texts two spaces apart, each but
    /// the last padded to its column's width in `Character`s (as `text.count` counts them).
    private static func appendTableLine(_ cells: [Cell], _ widths: [Int], _ out: inout [UInt8]) {
        for (i, cell) in cells.enumerated() {
            if i > 0 { out.append(contentsOf: [0x20, 0x20]) }
            let start = out.count
            appendText(cell, &out)
            guard i < cells.count - 1 else { break }
            // Bytes are Characters when all are ASCII but CR (CR LF is one Character); numbers
            // and instants always are.
            let plain: Bool
            switch cell {
            case .integer, .instant, .null, .absent: plain = true
            case .string, .json: plain = out.withUnsafeBufferPointer { $0[start...].allSatisfy { $0 < 0x80 && $0 != 0x0D } }
            }
            let count = plain ? out.count - start : String(decoding: out[start...], as: UTF8.self).count
            if widths[i] > count { out.append(contentsOf: repeatElement(0x20, count: widths[i] - count)) }
        }
        out.append(0x0A)
    }

    /// Appends a cell's `text` as bytes, with no string made for numbers and instants.
    private static func appendText(_ cell: Cell, _ out: inout [UInt8]) {
        switch cell {
        case .string(let s): out.append(contentsOf: s.utf8)
        case .integer(let n): appendInteger(n, &out)
        case .instant(let t): t.writeCanonical(into: &out)
        case .null, .absent: break
        case .json(let j): out.append(contentsOf: j.utf8)
        }
    }

    /// A CSV cell (RFC 4180 quoting), with cells that a spreadsheet would run as a formula
    /// (starting with `=`, `+`, `-`, `@`, tab or carriage return) prefixed with `'`.
    public static func csvCell(_ text: String) -> String {
        var out: [UInt8] = []
        appendCSV(text.utf8, &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends one cell's CSV bytes to `out`.
    static func appendCSVCell(_ cell: Cell, _ out: inout [UInt8]) {
        switch cell {
        case .string(let s): appendCSV(s.utf8, &out)
        case .integer(let n):
            // A negative number would start with '-': through the quoting rules like any text.
            if n < 0 { appendCSV(String(n).utf8, &out) } else { CanonicalWriter.appendDecimal(n.magnitude, &out) }
        case .instant(let t):
            // Canonical text starts with the year's first digit and holds no ',', '"' or newline.
            t.writeCanonical(into: &out)
        case .null, .absent: break
        case .json(let j): appendCSV(j.utf8, &out)
        }
    }

    /// The rules of `csvCell` on bytes. Every byte they look at is ASCII, and UTF-8 never
    /// uses an ASCII byte inside a multi-byte character, so bytes decide as Unicode scalars
    /// would; unlike Swift's `Character`s, a ',' followed by a combining mark is still a ','
    /// (as it is to a CSV reader).
    private static func appendCSV(_ bytes: String.UTF8View, _ out: inout [UInt8]) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { appendCSV($0, &out) }
        if done == nil { Array(bytes).withUnsafeBufferPointer { appendCSV($0, &out) } }
    }

    /// The same on contiguous bytes: a cell without a '"' is copied whole (a `who` of 86,000
    /// users spent a seventh of its time appending byte by byte).
    private static func appendCSV(_ bytes: UnsafeBufferPointer<UInt8>, _ out: inout [UInt8]) {
        let formula = bytes.first.map { $0 == 0x3D || $0 == 0x2B || $0 == 0x2D || $0 == 0x40 || $0 == 0x09 || $0 == 0x0D } ?? false
        var quoted = false, doubled = false
        for byte in bytes where byte == 0x2C || byte == 0x22 || byte == 0x0A || byte == 0x0D {
            quoted = true
            if byte == 0x22 { doubled = true }
        }
        if quoted { out.append(0x22) }
        if formula { out.append(UInt8(ascii: "'")) }
        if doubled {
            for byte in bytes {
                if byte == 0x22 { out.append(0x22) }
                out.append(byte)
            }
        } else {
            out.append(contentsOf: bytes)
        }
        if quoted { out.append(0x22) }
    }
}
