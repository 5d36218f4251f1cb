/// `who` at or after a checkpoint that no stretch holds (the last hour of the log, or past its
/// end): the checkpoint's sessions that no later event touches are counted where they lie, and
/// only the others are folded on.
///
/// A session of checkpoint C that no event in `(C, T]` touches (`CheckpointTouches`) is at T as
/// it was at C: active at T exactly when T is before its expiry (it was active at C, with no
/// end). Those are counted from the stored bytes, by their entry in C's stretch, which names
/// the same sessions (the ones active at C, in the same order) by their user's place in its
/// sorted list. The rest, and the sessions logged in after C, come from a fold from C holding
/// only the touched sessions: the fold from C would give them the same state. The answer is the
/// fold's (docs/FORMAT.md, "Checkpoints"); without a checkpoint, a stretch, or every session's
/// numbers, the caller folds.
extension LedgerSnapshot {
    /// The users with at least one session (of `client`, if given) active at `t`, with how
    /// many, sorted by user; nil when there is no usable checkpoint at or before `t`, or it
    /// has no stretch, a session without numbers, or a stretch that does not list its sessions.
    public func whoFromCheckpoint(policy: Policy, at t: Instant, client: String?) throws -> [SessionQuery.UserCount]? {
        try whoFromCheckpoint(policy: policy, readsFrom: t, horizon: .through(t), client: client) { $0.isActive(at: t) }
    }

    /// The same for the sessions active at some instant of `[from, to)`, as of the range's last
    /// instant (`SessionState.wasActive`): across checkpoints when it can (`whoAcrossCheckpoints`),
    /// else from the latest usable checkpoint at or before `from`.
    public func whoFromCheckpoint(policy: Policy, from: Instant, to: Instant, client: String?) throws -> [SessionQuery.UserCount]? {
        guard from < to else { return [] }
        guard let latest = try checkpointView(atOrBefore: Instant(nanoseconds: to.nanoseconds - 1), policy: policy) else { return nil }
        if latest.at >= from, let counted = try whoAcrossCheckpoints(latest, policy: policy, from: from, to: to, client: client) {
            return counted
        }
        // The latest usable checkpoint at or before `from`: the one before the range's end
        // when that lies at or before `from` (no second look), else an earlier one.
        guard let view = latest.at <= from ? latest : try checkpointView(atOrBefore: from, policy: policy) else { return nil }
        return try whoFromCheckpoint(view, policy: policy, horizon: .before(to), client: client, loggedInAfterItOnly: false) {
            $0.wasActive(from: from, to: to)
        }
    }

    /// A range that begins at or before the latest usable checkpoint C before its end, and that
    /// no chain of stretches holds whole (it ends past the last checkpoint, say): the stretches
    /// up to C's count the sessions active by C (`whoFromStretches`) and a fold from C only
    /// those logged in after it. The range's sessions are exactly these two kinds, once each
    /// (one logged in by C and active after it was active at C). Nil when the range begins
    /// after C or a stretch is not usable.
    func whoAcrossCheckpoints(policy: Policy, from: Instant, to: Instant, client: String?) throws -> [SessionQuery.UserCount]? {
        guard from < to, let view = try checkpointView(atOrBefore: Instant(nanoseconds: to.nanoseconds - 1), policy: policy),
              view.at >= from else { return nil }
        return try whoAcrossCheckpoints(view, policy: policy, from: from, to: to, client: client)
    }

    /// The same from `view`, that latest usable checkpoint before the range's end (at or after `from`).
    private func whoAcrossCheckpoints(_ view: Checkpoint.View, policy: Policy, from: Instant, to: Instant,
                                      client: String?) throws -> [SessionQuery.UserCount]? {
        guard let byCheckpoint = try whoFromStretches(policy: policy, from: from, throughCheckpointAt: view.at, client: client),
              let after = try whoFromCheckpoint(view, policy: policy, horizon: .before(to), client: client, loggedInAfterItOnly: true,
                                                counts: { $0.wasActive(from: from, to: to) }) else { return nil }
        return SessionQuery.merged(byCheckpoint, after)
    }

    /// `counts` says whether a session's state (after the events within `horizon`) is counted.
    private func whoFromCheckpoint(policy: Policy, readsFrom: Instant, horizon: LedgerFold.Horizon, client: String?,
                                   counts: (SessionState) -> Bool) throws -> [SessionQuery.UserCount]? {
        guard let view = try checkpointView(atOrBefore: readsFrom, policy: policy) else { return nil }
        return try whoFromCheckpoint(view, policy: policy, horizon: horizon, client: client, loggedInAfterItOnly: false, counts: counts)
    }

    /// From checkpoint `view`; with `loggedInAfterItOnly`, only the sessions logged in after it count.
    private func whoFromCheckpoint(_ view: Checkpoint.View, policy: Policy, horizon: LedgerFold.Horizon, client: String?,
                                   loggedInAfterItOnly: Bool, counts: (SessionState) -> Bool) throws -> [SessionQuery.UserCount]? {
        guard let stretch = view.stretch else { return nil }
        let touches = try CheckpointTouches(self, after: view, horizon: horizon)
        let wanted = stretch.clients.map { client == nil || $0 == client }
        var perUser = [Int](repeating: 0, count: stretch.users.count)
        var touched = view.withoutSessions()
        var touchedPlaces: [Int] = []  // each touched session's user, by place in the stretch's list
        var words = Checkpoint.View.Words(policy: policy)
        // The stretch's entries still active at C (`until` open) are C's sessions, in order.
        var entry = 0
        for s in view.sessions {
            // An outdated checkpoint (sessions without numbers), or a stretch that does not list its sessions.
            guard CheckpointTouches.isKnown(s) else { return nil }
            while entry < stretch.count, stretch.entry(entry).until != Instant.latest.nanoseconds { entry += 1 }
            guard entry < stretch.count else { return nil }
            let e = stretch.entry(entry)
            entry += 1
            guard e.loginAt == s.loginAt.nanoseconds else { return nil }
            if touches.touches(s) {
                touched.sessions.append(view.state(s, &words))
                touched.numbers.append(s.numbers)
                touchedPlaces.append(Int(e.user))
            } else if !loggedInAfterItOnly, wanted[Int(e.client)] {
                // As at C: active from its login until its expiry, if any.
                var state = SessionState(session: "", user: "", client: "", method: "", loginAt: s.loginAt, loginSeq: 0,
                                         rules: Policy.Client(lifetime: nil, refreshInterval: nil))
                state.expiresAt = s.expiresAt
                if counts(state) { perUser[Int(e.user)] += 1 }
            }
        }
        while entry < stretch.count, stretch.entry(entry).until != Instant.latest.nanoseconds { entry += 1 }
        guard entry == stretch.count else { return nil }
        var otherUsers: [ByteIdentity: Int] = [:]  // users the stretch does not list (new after C)
        // The fold holds the touched sessions first, in the same order (their users known by
        // place), then the sessions logged in after C, whose users are looked up by name.
        for (k, state) in try stateFold(policy: policy, horizon: horizon, from: touched, byNumberOnly: true).sessions.enumerated()
        where (client == nil || state.client == client) && counts(state) {
            if k < touchedPlaces.count {
                if !loggedInAfterItOnly { perUser[touchedPlaces[k]] += 1 }
            } else if let u = stretch.place(ofUser: state.user) {
                perUser[u] += 1
            } else {
                otherUsers[ByteIdentity(state.user), default: 0] += 1
            }
        }
        // Both lists sorted by the users' bytes, merged.
        let listed = perUser.indices.filter { perUser[$0] > 0 }.map { SessionQuery.UserCount(user: stretch.user($0), sessions: perUser[$0]) }
        let extra = sortedByUTF8(otherUsers.map { SessionQuery.UserCount(user: $0.key.text, sessions: $0.value) }) { $0.user }
        return SessionQuery.merged(listed, extra)
    }
}
