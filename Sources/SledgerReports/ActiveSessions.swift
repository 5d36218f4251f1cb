import SessionLedger

/// An instant (`--at T`, `?at=`) or a range (`--from T1 --to T2`, `?from=&to=`): SPEC.md section 6.
public enum TimeSelection: Sendable {
    case at(Instant)
    case range(Instant, Instant)
}

/// What `sessions` and `who` share: the active sessions for an instant or a range.
public enum ActiveSessions {
    /// With `user`, only that user's events are read (through the indexes), and only that
    /// user's sessions are returned. Records are as of `asOf`: T, or the range's last instant.
    /// Without, `tail` (`sledger serve`) answers when that is at or after the last event.
    public static func find(_ ledger: Ledger, policy: Policy, when: TimeSelection,
                            user: String? = nil, tail: LiveTail? = nil) throws -> (sessions: [SessionState], asOf: Instant) {
        let horizon: LedgerFold.Horizon, readsFrom: Instant, asOf: Instant
        let kept: (SessionState) -> Bool
        switch when {
        case .at(let t):
            (horizon, readsFrom, asOf) = (.through(t), t, t)
            kept = { $0.isActive(at: t) }
        case .range(let from, let to):
            (horizon, readsFrom, asOf) = (.before(to), from, lastInstant(before: to))
            kept = { $0.wasActive(from: from, to: to) }
        }
        return try ledger.read { snapshot in
            if let user {
                let fold = try LedgerFold(policy: policy, horizon: horizon).run(UserLog(snapshot: snapshot, user: user, horizon: horizon))
                return (fold.derivation.sessions(ofUser: user).filter(kept), asOf)
            }
            // `tail`'s states are its own array: copy only the kept ones.
            if let shared = try tail?.sessions(snapshot, horizon: horizon, readsFrom: readsFrom) {
                return (shared.filter(kept), asOf)
            }
            // From the latest checkpoint at or before the first instant looked at; without one,
            // by a fold that hands each session over as it settles (`keptStates`).
            return (try snapshot.keptStates(policy: policy, horizon: horizon, readsFrom: readsFrom, keep: { kept($0) }), asOf)
        }
    }

    /// `sessions`: the records of the active sessions, narrowed to a user and a client. The
    /// answer is found whole before the first byte is printed, so a fold that fails (damage,
    /// a full temporary directory) prints nothing, not a header or a lone `[`.
    public static func printSessions(_ ledger: Ledger, policy: Policy, when: TimeSelection, user: String?,
                                     client: String?, format: OutputFormat, output: RecordOutput, tail: LiveTail? = nil) throws {
        let held: [SessionState], settled: SettledSessions?, asOf: Instant
        if case .range(let from, let to) = when, user == nil {
            // Every user's sessions over a range: not held as states (a year's are over a
            // million), but handed over as each one settles (`LedgerSnapshot.settledStates`),
            // unless `tail` holds them already.
            (held, settled) = try ledger.read { snapshot -> ([SessionState], SettledSessions?) in
                if let shared = try tail?.sessions(snapshot, horizon: .before(to), readsFrom: from) {
                    return (shared.filter { $0.wasActive(from: from, to: to) }, nil)
                }
                return ([], try snapshot.settledStates(policy: policy, from: from, to: to, client: client))
            }
            asOf = lastInstant(before: to)
        } else {
            (held, asOf) = try find(ledger, policy: policy, when: when, user: user, tail: tail)
            settled = nil
        }
        var printer = SessionRecord.printer(format, output: output)
        var row: [Cell] = []
        func add(_ state: SessionState) {
            if let user, !state.user.isSameID(as: user) { return }
            if let client, state.client != client { return }
            SessionRecord.fill(&row, state, at: asOf)
            printer.add(row)
        }
        for state in held { add(state) }
        settled?.forEachInLoginOrder { add($0) }
        printer.finish()
    }

    public static let whoFields = ["user", "sessions"]

    /// `who`: the users with at least one active session (of `client`, if given), with how many.
    /// Counted from the stretch of the checkpoint after the instant or range when there is a
    /// usable one, and for a range from the stretches before it back to its first instant
    /// (`LedgerSnapshot.whoFromStretch`); else from `tail`'s stretch when given (past the last
    /// checkpoint: `sledger serve`; with the stored stretches before it for a range begun
    /// earlier); else from the stretches up to the last checkpoint before the range's end and a
    /// fold from it, or from the checkpoint before the instant or range and a fold of the
    /// sessions later events touch (`LedgerSnapshot.whoFromCheckpoint`); else from the sessions
    /// a fold of the whole log finds (for a range, counted as each one settles: `whoBySettling`).
    public static func who(_ ledger: Ledger, policy: Policy, when: TimeSelection, client: String?,
                           tail: LiveTail? = nil) throws -> [SessionQuery.UserCount] {
        let counted = try ledger.read { snapshot in
            switch when {
            case .at(let t):
                try snapshot.whoFromStretch(policy: policy, at: t, client: client)
                    ?? tail?.who(snapshot, at: t, client: client)
                    ?? snapshot.whoFromCheckpoint(policy: policy, at: t, client: client)
            case .range(let from, let to):
                try snapshot.whoFromStretch(policy: policy, from: from, to: to, client: client)
                    ?? tail?.who(snapshot, from: from, to: to, client: client)
                    ?? snapshot.whoFromCheckpoint(policy: policy, from: from, to: to, client: client)
            }
        }
        if let counted { return counted }
        if case .range(let from, let to) = when {
            return try ledger.read { try $0.whoBySettling(policy: policy, from: from, to: to, client: client) }
        }
        let (states, _) = try find(ledger, policy: policy, when: when)
        return SessionQuery.who(states.filter { client == nil || $0.client == client })
    }

    public static func printWho(_ ledger: Ledger, policy: Policy, when: TimeSelection, client: String?,
                                format: OutputFormat, output: RecordOutput, tail: LiveTail? = nil) throws {
        // Counted whole before the first byte is printed: a fold that fails prints nothing.
        let counted = try who(ledger, policy: policy, when: when, client: client, tail: tail)
        var printer = RecordPrinter(format: format, fields: whoFields, output: output)
        // One row array, changed in place: not one made and freed per user (86,000 at 100M).
        var row: [Cell] = [.null, .null]
        for entry in counted {
            row[0] = .string(entry.user)
            row[1] = .integer(Int64(entry.sessions))
            printer.add(row)
        }
        printer.finish()
    }

    /// `user ID`: every session of one user, with its status at `t`. Only the user's events
    /// are read, through the indexes: not the whole log.
    public static func printUser(_ ledger: Ledger, policy: Policy, user: String, at t: Instant,
                                 format: OutputFormat, output: RecordOutput) throws {
        let fold = try ledger.read {
            try LedgerFold(policy: policy, horizon: .through(t)).run(UserLog(snapshot: $0, user: user, horizon: .through(t)))
        }
        var printer = SessionRecord.printer(format, output: output)
        for state in fold.derivation.sessions(ofUser: user) { printer.add(SessionRecord.cells(state, at: t)) }
        printer.finish()
    }
}
