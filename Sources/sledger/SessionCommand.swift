import ArgumentParser
import SessionLedger
import SledgerReports

struct SessionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session",
        abstract: "One session: its state and status at T, its events with their findings, and when it expired.")

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var policy: PolicyOptions
    @OptionGroup var output: FormatOptions
    @Argument(help: "The session id.") var id: String
    @Option(help: "The instant (RFC 3339; default: now).") var at: String?

    func run() throws {
        let t = try at.map { try parseInstant($0, option: "--at") } ?? Instant.now()
        let found = try SessionReport.print(ledger.openForReading(), policy: policy.load(), id: id, at: t,
                                            format: output.format, output: Output.standard)
        guard found else {
            Output.error("no session \(id) in the ledger as of \(t)")
            throw ExitCode(1)
        }
    }
}
