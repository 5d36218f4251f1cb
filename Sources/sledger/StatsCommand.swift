import ArgumentParser
import SessionLedger
import SledgerReports

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Counts of events, sessions and users, the time range, and the size on disk.")

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        try StatsRecord.print(ledger.openForReading(), format: output.format, output: Output.standard)
    }
}
