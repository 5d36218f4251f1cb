import ArgumentParser
import SessionLedger
import SledgerReports

struct DiffPolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff-policy",
        abstract: "The sessions whose status at T differs between two policies (a \"what if\").")

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions
    @Argument(help: "The first policy file (`default` for the built-in policy).") var first: String
    @Argument(help: "The second policy file (`default` for the built-in policy).") var second: String
    @Option(help: "The instant (RFC 3339; default: now).") var at: String?

    func run() throws {
        let t = try at.map { try parseInstant($0, option: "--at") } ?? Instant.now()
        let a = first == "default" ? Policy.default : try loadPolicy(first)
        let b = second == "default" ? Policy.default : try loadPolicy(second)
        let ledger = try ledger.openForReading()
        // Every session under each policy, each in a fold's order: the same sessions in the same
        // order (a login creates its session whatever the policy), walked side by side.
        let (left, right) = try ledger.read { snapshot in
            (try snapshot.settledStates(policy: a, through: t), try snapshot.settledStates(policy: b, through: t))
        }
        var printer = RecordPrinter(format: output.format,
                                    fields: ["session", "user", "client", "status_a", "status_b", "expires_at_a", "expires_at_b"])
        precondition(left.count == right.count, "the same sessions under both policies")
        for i in 0..<left.count {
            let state = left[i], other = right[i]
            precondition(state.loginSeq == other.loginSeq, "the same sessions in the same order under both policies")
            let sa = state.status(at: t), sb = other.status(at: t)
            guard sa != sb else { continue }
            printer.add([.string(state.session), .string(state.user), .string(state.client), .string(sa.name), .string(sb.name),
                         state.expiresAt.map { .string($0.description) } ?? .null,
                         other.expiresAt.map { .string($0.description) } ?? .null])
        }
        printer.finish()
    }
}
