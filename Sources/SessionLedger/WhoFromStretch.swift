import LMDB

/// `who` answered from a checkpoint's stretch (`CheckpointStretch`) instead of a fold: the
/// stretch's entries are counted in place by their user's place in its sorted list of users,
/// which gives the answer in order. The answer is the one a fold gives (docs/FORMAT.md,
/// "Checkpoints").
extension LedgerSnapshot {
    /// The users with at least one session (of `client`, if given) active at `t`, with how
    /// many, sorted by user; nil when no usable stretch holds `t` (the caller then folds).
    public func whoFromStretch(policy: Policy, at t: Instant, client: String?) throws -> [SessionQuery.UserCount]? {
        try whoFromStretch(policy: policy, first: t.nanoseconds, last: t.nanoseconds, client: client)
    }

    /// The same for the sessions active at some instant of `[from, to)`, as of the range's
    /// last instant (`SessionState.wasActive`).
    public func whoFromStretch(policy: Policy, from: Instant, to: Instant, client: String?) throws -> [SessionQuery.UserCount]? {
        guard from < to else { return [] }
        return try whoFromStretch(policy: policy, first: from.nanoseconds, last: to.nanoseconds - 1, client: client)
    }

    /// Reads the first checkpoint at or after `last` and, when it is usable (version 3, this
    /// policy's, consistent with the head, its stretch intact and begun by `first`), counts the
    /// entries active at some instant of `[first, last]` as of `last`: `loginAt <= last`,
    /// `first < until` and `loginAt < until` (for an instant T, `first == last == T`: active
    /// at T; for a range `[T1, T2)`, T1 and T2's last instant: `wasActive`).
    private func whoFromStretch(policy: Policy, first: Int64, last: Int64, client: String?) throws -> [SessionQuery.UserCount]? {
        let head = try eventCount()
        let digest = Checkpoint.digest(of: policy)
        return try txn.withCursor(db.checkpoints) { cursor in
            guard let stored = try cursor.seek(atLeast: Checkpoint.key(Instant(nanoseconds: last))) else { return nil }
            let value = stored.value
            guard value.count >= 68, value[0] >= 3, value[0] <= Checkpoint.version,
                  readLE(value, 4, 8) == UInt64(bitPattern: Instant(biased: readBE(stored.key, 0, 8)).nanoseconds),
                  readLE(value, 12, 8) <= head, readLE(value, 20, 8) <= head, value[28..<60].elementsEqual(digest) else { return nil }
            let length = Int(readLE(value, 60, 4))
            guard length > 0, let stretch = CheckpointStretch.View(value, start: 64, end: 64 + length),
                  stretch.from.nanoseconds <= first else { return nil }
            return stretch.who(first: first, last: last, client: client)
        }
    }
}

/// A stretch `who` can count in: one stored in a checkpoint, read in place
/// (`CheckpointStretch.View`), or one in memory (`CheckpointStretch`, as `LiveTail` keeps).
protocol CountableStretch {
    var clients: [String] { get }
    var userCount: Int { get }
    /// How many entries.
    var count: Int { get }
    func entry(_ k: Int) -> (user: UInt32, client: UInt32, loginAt: Int64, until: Int64)
    /// User `k`'s name.
    func user(_ k: Int) -> String
}

extension CountableStretch {
    /// The users with at least one entry (of `client`, if given) active at some instant of
    /// `[first, last]` as of `last`, with how many, sorted by user: `loginAt <= last`,
    /// `first < until` and `loginAt < until`. Meaningful only when the stretch holds that range.
    func who(first: Int64, last: Int64, client: String?) -> [SessionQuery.UserCount] {
        let wanted = clients.map { client == nil || $0 == client }
        // How many sessions each user has, by the user's place in the stretch's sorted list.
        var counts = [Int](repeating: 0, count: userCount)
        counts.withUnsafeMutableBufferPointer { counts in
            for k in 0..<count {
                let e = entry(k)
                if e.loginAt <= last, first < e.until, e.loginAt < e.until, wanted[Int(e.client)] { counts[Int(e.user)] += 1 }
            }
        }
        return counts.indices.filter { counts[$0] > 0 }.map { SessionQuery.UserCount(user: user($0), sessions: counts[$0]) }
    }
}

extension CheckpointStretch.View: CountableStretch {
    var userCount: Int { users.count }
}

extension CheckpointStretch: CountableStretch {
    var userCount: Int { users.count }
    var count: Int { entries.count }

    @inline(__always)
    func entry(_ k: Int) -> (user: UInt32, client: UInt32, loginAt: Int64, until: Int64) {
        let e = entries[k]
        return (e.user, e.client, e.loginAt.nanoseconds, e.until.nanoseconds)
    }

    func user(_ k: Int) -> String { users[k] }
}
