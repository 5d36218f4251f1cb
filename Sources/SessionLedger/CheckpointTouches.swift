/// Which of a checkpoint's sessions the events after it can have changed, up to a horizon:
/// what `who` (WhoFromCheckpoint.swift) and `sessions` (`LedgerSnapshot.states`) past a
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
    func touches(_ s: Checkpoint.View.Session) -> Bool {
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
