import ArgumentParser
import SessionLedger

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
        let (states, _) = try ActiveSessions.find(ledger: ledger, policy: policy.load(), when: when.choice())
        var printer = RecordPrinter(format: output.format, fields: ["user", "sessions"])
        for entry in SessionQuery.who(states.filter { client == nil || $0.client == client }) {
            printer.add([.string(entry.user), .integer(Int64(entry.sessions))])
        }
        printer.finish()
    }
}
