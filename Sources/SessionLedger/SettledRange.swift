/// A fold that hands each session over once, as soon as no later event can change it: what
/// `sessions` and `who` over a range fold with, and at an instant when no checkpoint serves,
/// so that memory holds the sessions active at once rather than every session of the log
/// (docs/ARCHITECTURE.md, "`sessions` over a range").
extension LedgerSnapshot {
    /// Hands `body` every session active at some instant of [`from`, `to`) (of `client`, when
    /// given), in its state as of the range's end (the events with `at < to`), once each and
    /// in no particular order. The fold, from the latest usable checkpoint at or before `from`
    /// (else from the first event), retires each session once it is inactive
    /// (`LedgerFold.retireEvery`), when no later event can change it, and hands its final
    /// state over then; the sessions still in memory at the end are handed over last.
    func forEachSettledState(policy: Policy, from: Instant, to: Instant, client: String?,
                             retireEvery: Int = LedgerFold.rangeRetireEvery,
                             _ body: (borrowing SessionState) throws -> Void) throws {
        try forEachSettledState(policy: policy, horizon: .before(to), readsFrom: from, retireEvery: retireEvery,
                                keep: { $0.wasActive(from: from, to: to) && (client == nil || $0.client == client) }, body)
    }

    /// The same for any horizon: the sessions as of its end that `keep` keeps, from the latest
    /// usable checkpoint at or before `readsFrom` (the first instant whose status is read).
    func forEachSettledState(policy: Policy, horizon: LedgerFold.Horizon, readsFrom: Instant, retireEvery: Int,
                             keep: (borrowing SessionState) -> Bool,
                             _ body: (borrowing SessionState) throws -> Void) throws {
        func hand(_ state: borrowing SessionState) throws { if keep(state) { try body(state) } }
        try stateFold(policy: policy, horizon: horizon, readsFrom: readsFrom, retireEvery: retireEvery, settled: hand)
            .forEachSessionNeverRetired(hand)
    }

    /// The sessions `keep` keeps as of `horizon`'s end, in a fold's order: `states(policy:
    /// horizon:readsFrom:)` kept by `keep`. Without a usable checkpoint at or before `readsFrom`
    /// (a ledger without checkpoints, or `--policy F`), by the fold above instead of one that
    /// holds every session of the log (`who --at T --policy F` at 100M held 1.6 GiB); for
    /// answers no larger than the sessions active at once (an instant's).
    public func keptStates(policy: Policy, horizon: LedgerFold.Horizon, readsFrom: Instant,
                           keep: (borrowing SessionState) -> Bool) throws -> [SessionState] {
        try keptStates(policy: policy, horizon: horizon, readsFrom: readsFrom, retireEvery: LedgerFold.rangeRetireEvery, keep: keep)
    }

    func keptStates(policy: Policy, horizon: LedgerFold.Horizon, readsFrom: Instant, retireEvery: Int,
                    keep: (borrowing SessionState) -> Bool) throws -> [SessionState] {
        if let view = try checkpointView(atOrBefore: readsFrom, policy: policy) {
            var sessions = try states(policy: policy, horizon: horizon, from: view)
            sessions.removeAll { !keep($0) }
            return sessions
        }
        let answer = SettledSessions(policy: policy, spillBytes: .max)
        try forEachSettledState(policy: policy, horizon: horizon, readsFrom: readsFrom, retireEvery: retireEvery, keep: keep) {
            try answer.append($0)
        }
        try answer.finish()
        var sessions: [SessionState] = []
        sessions.reserveCapacity(answer.count)
        answer.forEachInLoginOrder { sessions.append($0) }
        return sessions
    }

    /// Those sessions, ready to be read in a fold's order (`SettledSessions`): what
    /// `states(policy:horizon: .before(to), readsFrom: from)` kept by `wasActive(from:to:)`
    /// gives, held as bytes rather than states.
    public func settledStates(policy: Policy, from: Instant, to: Instant, client: String?) throws -> SettledSessions {
        try settledStates(policy: policy, from: from, to: to, client: client, into: SettledSessions(policy: policy))
    }

    /// The same into `answer`, with sweeps every `retireEvery` events (tests sweep often).
    func settledStates(policy: Policy, from: Instant, to: Instant, client: String?, into answer: SettledSessions,
                       retireEvery: Int = LedgerFold.rangeRetireEvery) throws -> SettledSessions {
        try forEachSettledState(policy: policy, from: from, to: to, client: client, retireEvery: retireEvery) { try answer.append($0) }
        try answer.finish()
        return answer
    }

    /// Every session as of `t` (the events with `at <= t`), ready to be read in a fold's order:
    /// what a fold of the log through `t` holds, with no checkpoint (which holds only active
    /// sessions), held as bytes rather than states (`diff-policy`, which compares every
    /// session under two policies: two such folds held 3.1 GiB at 100M events).
    public func settledStates(policy: Policy, through t: Instant) throws -> SettledSessions {
        try settledStates(policy: policy, through: t, retireEvery: LedgerFold.rangeRetireEvery)
    }

    func settledStates(policy: Policy, through t: Instant, retireEvery: Int) throws -> SettledSessions {
        let answer = SettledSessions(policy: policy)
        try forEachSettledState(policy: policy, horizon: .through(t), readsFrom: .earliest, retireEvery: retireEvery,
                                keep: { _ in true }) { try answer.append($0) }
        try answer.finish()
        return answer
    }

    /// `who` over the range by the same fold: each user with at least one of those sessions,
    /// with how many, sorted by the users' bytes (`SessionQuery.who`). For a range no stored
    /// stretch answers (no usable checkpoint, or `--policy F`).
    public func whoBySettling(policy: Policy, from: Instant, to: Instant, client: String?) throws -> [SessionQuery.UserCount] {
        try whoBySettling(policy: policy, from: from, to: to, client: client, retireEvery: LedgerFold.rangeRetireEvery)
    }

    func whoBySettling(policy: Policy, from: Instant, to: Instant, client: String?, retireEvery: Int) throws -> [SessionQuery.UserCount] {
        var counts: [ByteIdentity: Int] = [:]
        try forEachSettledState(policy: policy, from: from, to: to, client: client, retireEvery: retireEvery) {
            counts[ByteIdentity($0.user), default: 0] += 1
        }
        return SessionQuery.who(counts: counts)
    }
}
