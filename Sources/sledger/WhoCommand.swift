import ArgumentParser
import SessionLedger
import SledgerReports

struct WhoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "who",
        abstract: "The users with at least one session active at T (or in [T1, T2)), with how many.")

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var policy: PolicyOptions
    @OptionGroup var when: InstantOrRange
    @OptionGroup var output: FormatOptions
    @Option(help: "Only sessions of this client.") var client: String?

    func run() throws {
        try ActiveSessions.printWho(ledger.openForReading(), policy: policy.load(), when: when.choice(), client: client,
                                    format: output.format, output: Output.standard)
    }
}
