import ArgumentParser
import SessionLedger
import SledgerReports

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Every session of one user, with its status at T.")

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var policy: PolicyOptions
    @OptionGroup var output: FormatOptions
    @Argument(help: "The user.") var id: String
    @Option(help: "The instant (RFC 3339; default: now).") var at: String?

    func run() throws {
        let t = try at.map { try parseInstant($0, option: "--at") } ?? Instant.now()
        try ActiveSessions.printUser(ledger.openForReading(), policy: policy.load(), user: id, at: t,
                                     format: output.format, output: Output.standard)
    }
}
