import SessionLedger

/// `stats`: counts of events, sessions and users, the time range, the head and the size on disk.
public enum StatsRecord {
    public static let fields = ["events", "sessions", "users", "first_at", "last_at", "head", "used_bytes", "file_bytes"]

    public static func cells(_ ledger: Ledger) throws -> [Cell] {
        try ledger.read { snapshot in
            let head = try snapshot.head()
            let range = try snapshot.timeRange()
            let usage = try ledger.diskUsage()
            return [.integer(Int64(head.seq)), .integer(Int64(try snapshot.sessionCount())),
                    .integer(Int64(try snapshot.userCount())),
                    range.map { .string($0.first.description) } ?? .null,
                    range.map { .string($0.last.description) } ?? .null,
                    .string(head.digest), .integer(Int64(usage.usedBytes)), .integer(Int64(usage.fileBytes))]
        }
    }

    /// Prints the record: a table is one `name  value` line per field.
    public static func print(_ ledger: Ledger, format: OutputFormat, output: RecordOutput) throws {
        let cells = try cells(ledger)
        if format == .table {
            let width = fields.map(\.count).max()!
            for (name, cell) in zip(fields, cells) {
                output.line(name + String(repeating: " ", count: width - name.count) + "  " + cell.text)
            }
            output.flush()
            return
        }
        var printer = RecordPrinter(format: format, fields: fields, output: output)
        printer.add(cells)
        printer.finish()
    }
}
