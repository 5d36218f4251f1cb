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

    /// For a range `[from, ...)` that goes on past the checkpoint at `c` (at or after `from`):
    /// the users of its sessions active at some instant of `[from, c]`, counted from the
    /// stretches up to and including that checkpoint's, with how many. Each such session is
    /// active at some instant of the whole range too, and a session of the range not counted
    /// here was logged in after `c`: the caller adds those (`SessionQuery.merged`). Nil when
    /// a stretch needed is not usable or the checkpoint at `c` is not there.
    func whoFromStretches(policy: Policy, from: Instant, throughCheckpointAt c: Instant, client: String?) throws -> [SessionQuery.UserCount]? {
        try whoFromStretch(policy: policy, first: from.nanoseconds, last: c.nanoseconds, client: client, checkpointAt: c)
    }

    /// Reads the first checkpoint at or after `last` and, when it is usable (version 3, this
    /// policy's, consistent with the head, its stretch intact), counts the entries active at
    /// some instant of `[first, last]` as of `last`: `loginAt <= last`, `first < until` and
    /// `loginAt < until` (for an instant T, `first == last == T`: active at T; for a range
    /// `[T1, T2)`, T1 and T2's last instant: `wasActive`). When its stretch begins after
    /// `first` (a range across checkpoints), the stretches before it are read too: the
    /// checkpoint keyed at the instant a stretch begins is the one its fold resumed from, so
    /// their stretches follow one another back to one begun by `first`; every one must be
    /// usable (`CheckpointStretch.who(chain:)` counts them). The links are found by their
    /// headers first, so that a missing or outdated one costs no checksum of the others. Nil
    /// when one is not usable (the caller folds), or when `checkpointAt` is given and the first
    /// checkpoint at or after `last` is not the one at that instant.
    private func whoFromStretch(policy: Policy, first: Int64, last: Int64, client: String?,
                                checkpointAt: Instant? = nil) throws -> [SessionQuery.UserCount]? {
        let head = try eventCount()
        let digest = Checkpoint.digest(of: policy)
        return try txn.withCursor(db.checkpoints) { cursor in
            /// By its header alone (checked whole below): the value of a checkpoint that may
            /// have a usable stretch, and the instant its stretch begins.
            func link(_ stored: Cursor.Entry) -> (value: UnsafeRawBufferPointer, from: Int64)? {
                let value = stored.value
                guard let events = Checkpoint.peek(value, digest: digest), events <= head, readLE(value, 12, 8) <= head,
                      value[0] >= 3, value.count >= 72, Int(readLE(value, 60, 4)) > 0,
                      readLE(value, 4, 8) == UInt64(bitPattern: Instant(biased: readBE(stored.key, 0, 8)).nanoseconds)
                else { return nil }
                return (value, Int64(bitPattern: readLE(value, 64, 8)))
            }
            guard let stored = try cursor.seek(atLeast: Checkpoint.key(Instant(nanoseconds: last))),
                  checkpointAt.map({ stored.key.elementsEqual(Checkpoint.key($0)) }) ?? true,
                  let latest = link(stored) else { return nil }
            var links = [latest]  // latest first
            while let earliest = links.last, earliest.from > first {
                guard let stored = try cursor.seek(exactly: Checkpoint.key(Instant(nanoseconds: earliest.from))),
                      let before = link(stored), before.from < earliest.from else { return nil }
                links.append(before)
            }
            // Every link is there: each stretch checked whole (its checksum and layout), earliest first.
            var chain: [CheckpointStretch.View] = []
            for link in links.reversed() {
                guard let stretch = CheckpointStretch.View(link.value, start: 64, end: 64 + Int(readLE(link.value, 60, 4))) else { return nil }
                chain.append(stretch)
            }
            return CheckpointStretch.who(chain: chain, first: first, last: last, client: client)
        }
    }
}

extension CheckpointStretch {
    /// `who` over stretches that follow one another, earliest first: each begins at the
    /// instant the one before it ends (its checkpoint's), the first by `first`, the last ends
    /// at or after `last`. A session active at the instant two stretches meet is in both: it
    /// is counted in the earlier one only, so each later one counts only the sessions logged in
    /// after it begins (one logged in by then and still active in it was active where it began).
    /// A session that the stretch it is counted in holds as still active there is still active
    /// after `first`, wherever it ended later, so its count does not change. The users are
    /// merged in the order of their bytes, which is each stretch's order.
    static func who(chain: [View], first: Int64, last: Int64, client: String?) -> [SessionQuery.UserCount] {
        var counted: [SessionQuery.UserCount] = []
        for (j, stretch) in chain.enumerated() {
            let after = j == 0 ? nil : stretch.from.nanoseconds
            counted = SessionQuery.merged(counted, stretch.who(first: first, last: last, client: client, loggedInAfter: after))
        }
        return counted
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
    /// With `loggedInAfter`, only the entries with a later `loginAt` count (`who(chain:)`).
    func who(first: Int64, last: Int64, client: String?, loggedInAfter: Int64? = nil) -> [SessionQuery.UserCount] {
        let wanted = clients.map { client == nil || $0 == client }
        let after = loggedInAfter ?? Int64.min
        let all = loggedInAfter == nil
        // How many sessions each user has, by the user's place in the stretch's sorted list.
        var counts = [Int](repeating: 0, count: userCount)
        counts.withUnsafeMutableBufferPointer { counts in
            for k in 0..<count {
                let e = entry(k)
                if e.loginAt <= last, first < e.until, e.loginAt < e.until, all || e.loginAt > after, wanted[Int(e.client)] {
                    counts[Int(e.user)] += 1
                }
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
