import ArgumentParser
import SessionLedger

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
        let (states, asOf) = try ActiveSessions.find(ledger: ledger, policy: policy.load(), when: when.choice(), user: user)
        var printer = SessionRecord.printer(output.format)
        for state in states {
            if let user, !state.user.isSameID(as: user) { continue }
            if let client, state.client != client { continue }
            printer.add(SessionRecord.cells(state, at: asOf))
        }
        printer.finish()
    }
}

/// What `sessions` and `who` share: the active sessions for an instant or a range.
enum ActiveSessions {
    /// With `user`, only that user's events are read (through the indexes), and only that
    /// user's sessions are returned.
    static func find(ledger options: LedgerOptions, policy: Policy, when: InstantOrRange.Choice,
                     user: String? = nil) throws -> (sessions: [SessionState], asOf: Instant) {
        let ledger = try options.openForReading()
        return try ledger.read { snapshot in
            let horizon: LedgerFold.Horizon
            switch when {
            case .at(let t): horizon = .through(t)
            case .range(_, let to): horizon = .before(to)
            }
            let sessions: [SessionState]
            if let user {
                sessions = try LedgerFold(policy: policy, horizon: horizon).run(UserLog(snapshot: snapshot, user: user))
                    .derivation.sessions(ofUser: user)
            } else {
                // From the latest checkpoint at or before the first instant looked at.
                let readsFrom: Instant
                switch when {
                case .at(let t): readsFrom = t
                case .range(let from, _): readsFrom = from
                }
                sessions = try snapshot.stateFold(policy: policy, horizon: horizon, readsFrom: readsFrom).sessions
            }
            switch when {
            case .at(let t):
                return (sessions.filter { $0.isActive(at: t) }, t)
            case .range(let from, let to):
                return (sessions.filter { $0.wasActive(from: from, to: to) }, lastInstant(before: to))
            }
        }
    }
}
