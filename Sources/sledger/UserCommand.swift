import ArgumentParser
import SessionLedger

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
        let ledger = try ledger.openForReading()
        // Only this user's events, through the indexes: not the whole log.
        let fold = try ledger.read { try LedgerFold(policy: policy.load(), horizon: .through(t)).run(UserLog(snapshot: $0, user: id)) }
        var printer = SessionRecord.printer(output.format)
        for state in fold.derivation.sessions(ofUser: id) { printer.add(SessionRecord.cells(state, at: t)) }
        printer.finish()
    }
}
