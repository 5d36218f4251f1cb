import ArgumentParser
import SessionLedger

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Counts of events, sessions and users, the time range, and the size on disk.")

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    static let fields = ["events", "sessions", "users", "first_at", "last_at", "head", "used_bytes", "file_bytes"]

    func run() throws {
        let ledger = try ledger.openForReading()
        let cells: [Cell] = try ledger.read { snapshot in
            let head = try snapshot.head()
            let range = try snapshot.timeRange()
            let usage = try ledger.diskUsage()
            return [.integer(Int64(head.seq)), .integer(Int64(try snapshot.sessionCount())),
                    .integer(Int64(try snapshot.userCount())),
                    range.map { .string($0.first.description) } ?? .null,
                    range.map { .string($0.last.description) } ?? .null,
                    .string(head.digest), .integer(Int64(usage.usedBytes)), .integer(Int64(usage.fileBytes))]
        }
        if output.format == .table {
            let width = StatsCommand.fields.map(\.count).max()!
            for (name, cell) in zip(StatsCommand.fields, cells) {
                Output.line(name + String(repeating: " ", count: width - name.count) + "  " + cell.text)
            }
            return
        }
        var printer = RecordPrinter(format: output.format, fields: StatsCommand.fields)
        printer.add(cells)
        printer.finish()
    }
}
