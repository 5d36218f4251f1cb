/// A fold over a range that hands each session over once, as soon as no later event can
/// change it: what `sessions` and `who` over a range fold with, so that memory holds the
/// sessions active at once rather than every session of the range (docs/ARCHITECTURE.md,
/// "`sessions` over a range").
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
        // `LedgerFold.run` takes `settled` as an optional closure, which may escape; this one does not.
        try withoutActuallyEscaping(body) { body in
            try forEachSettledState(policy: policy, from: from, to: to, client: client, retireEvery: retireEvery, escaping: body)
        }
    }

    private func forEachSettledState(policy: Policy, from: Instant, to: Instant, client: String?, retireEvery: Int,
                                     escaping body: @escaping (borrowing SessionState) throws -> Void) throws {
        let hand: (borrowing SessionState) throws -> Void = { state in
            guard state.wasActive(from: from, to: to), client == nil || state.client == client else { return }
            try body(state)
        }
        var fold = LedgerFold(policy: policy, horizon: .before(to))
        fold.retireEvery = retireEvery
        let derivation: Derivation
        if let checkpoint = try checkpointToResume(atOrBefore: from, policy: policy) {
            let resumed = Derivation(policy: policy, resuming: checkpoint.sessions, numbers: checkpoint.numbers,
                                     after: checkpoint.at, byNumberOnly: true)
            derivation = try fold.run(ResumedLog(snapshot: self, checkpoint: checkpoint), resuming: resumed, settled: hand).derivation
        } else {
            derivation = try fold.run(self, settled: hand).derivation
        }
        try derivation.forEachSessionNeverRetired(hand)
    }

    /// Those sessions in a fold's order (`SettledSessions`): what
    /// `states(policy:horizon: .before(to), readsFrom: from)` kept by `wasActive(from:to:)`
    /// gives, held as bytes rather than states.
    public func settledStates(policy: Policy, from: Instant, to: Instant, client: String?) throws -> SettledSessions {
        try settledStates(policy: policy, from: from, to: to, client: client, into: SettledSessions(policy: policy))
    }

    /// The same into `answer`, with sweeps every `retireEvery` events (tests sweep often).
    func settledStates(policy: Policy, from: Instant, to: Instant, client: String?, into answer: SettledSessions,
                       retireEvery: Int = LedgerFold.rangeRetireEvery) throws -> SettledSessions {
        try forEachSettledState(policy: policy, from: from, to: to, client: client, retireEvery: retireEvery) { try answer.append($0) }
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
