/// Which of a checkpoint's sessions the events after it can have changed, up to a horizon:
/// what `who` (WhoFromCheckpoint.swift) and `sessions` (`LedgerSnapshot.activeStates`) past a
/// checkpoint fold on, leaving the rest as stored.
///
/// From checkpoint C on, a session changes only through an event naming it (a login, refresh,
/// logout or token_deleted of its id) or a `logout_all` of its user (Derivation). The record
/// headers of the events after C give both as numbers, without decoding the records (a fold
/// that reads them afterwards checks each). A session of C that none of them names is, as of
/// any instant up to the horizon, as it was at C.
struct CheckpointTouches {
    private var sessions = NumberSet()
    private var users = NumberSet()

    /// Reads the headers of the events after `view`'s instant within `horizon`.
    init(_ snapshot: LedgerSnapshot, after view: Checkpoint.View, horizon: LedgerFold.Horizon) throws {
        try snapshot.forEachRecordHeaderInTimeOrder(from: view.at.saturatingAdding(Duration(nanoseconds: 1)), to: horizon.end) { _, header, _ in
            sessions.insert(header.sessionNumber)
            if header.kind == .logoutAll { users.insert(header.userNumber) }
            return true
        }
    }

    /// Whether an event after the checkpoint names the session or a `logout_all` its user (by
    /// their numbers: a session stored without them cannot be told, see `isKnown`).
    func touch(_ s: Checkpoint.View.Session) -> Bool {
        sessions.contains(s.numbers.session) || users.contains(s.numbers.user)
    }

    /// Whether the session's numbers are stored (not in a version 1 checkpoint, or one folded on from it).
    static func isKnown(_ s: Checkpoint.View.Session) -> Bool { s.numbers.session != 0 && s.numbers.user != 0 }
}

/// Session or user numbers, as bits.
private struct NumberSet {
    private var words: [UInt64] = []

    mutating func insert(_ n: UInt32) {
        let w = Int(n >> 6)
        if w >= words.count { words += [UInt64](repeating: 0, count: w + 1 - words.count + words.count / 2) }
        words[w] |= 1 << UInt64(n & 63)
    }

    func contains(_ n: UInt32) -> Bool {
        let w = Int(n >> 6)
        return w < words.count && words[w] & (1 << UInt64(n & 63)) != 0
    }
}

extension LedgerSnapshot {
    /// Every session as of `horizon`'s end, in the order a fold gives them (`Derivation.sessions`),
    /// from the latest usable checkpoint at or before `readsFrom` (the earliest instant whose
    /// status the caller looks at), as `stateFold` would give them. Only the sessions the events
    /// after the checkpoint touch (`CheckpointTouches`) go through a fold; the others are made
    /// from their stored state. Without a checkpoint whose sessions all have numbers, a fold.
    public func states(policy: Policy, horizon: LedgerFold.Horizon, readsFrom: Instant) throws -> [SessionState] {
        guard let view = try checkpointView(atOrBefore: readsFrom, policy: policy) else {
            return try stateFold(policy: policy, horizon: horizon, readsFrom: readsFrom).sessions
        }
        let touches = try CheckpointTouches(self, after: view, horizon: horizon)
        var touched = Checkpoint(at: view.at, headSeq: view.headSeq, events: view.events, policyDigest: Array(view.policyDigest),
                                 sessions: [], numbers: [], loggedIn: Array(view.bytes[view.loggedIn]), stretch: nil)
        var out: [SessionState] = []
        out.reserveCapacity(view.sessionCount)
        var places: [Int] = []  // where each touched one goes in `out`
        var words = Checkpoint.View.Words(policy: policy)
        for s in view.sessions {
            guard CheckpointTouches.isKnown(s) else {
                return try stateFold(policy: policy, horizon: horizon, from: view.decoded(policy: policy, stretch: false)).sessions
            }
            let state = view.state(s, &words)
            if touches.touch(s) {
                places.append(out.count)
                touched.sessions.append(state)
                touched.numbers.append(s.numbers)
            }
            out.append(state)
        }
        // A fold resumed from the touched ones holds them first, in the same order, then the
        // sessions logged in after the checkpoint.
        let folded = try stateFold(policy: policy, horizon: horizon, from: touched).sessions
        for (k, place) in places.enumerated() { out[place] = folded[k] }
        out += folded[places.count...]
        return out
    }
}
