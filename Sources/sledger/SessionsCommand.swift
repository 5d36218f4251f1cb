import ArgumentParser
import SessionLedger
import SledgerReports

struct SessionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "Sessions active at an instant (--at T) or at any instant of a range (--from T1 --to T2).",
        discussion: """
            Records are as of T; for a range, as of its end (the events with at < T2), with the \
            status at the range's last instant (T2 minus one nanosecond).
            """)

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var policy: PolicyOptions
    @OptionGroup var when: InstantOrRange
    @OptionGroup var output: FormatOptions
    @Option(help: "Only this user's sessions.") var user: String?
    @Option(help: "Only sessions of this client.") var client: String?

    func run() throws {
        try ActiveSessions.printSessions(ledger.openForReading(), policy: policy.load(), when: when.choice(), user: user,
                                         client: client, format: output.format, output: Output.standard)
    }
}
