import CPrefetch

/// The derivation engine: one fold over the log that yields session state and findings
/// (SPEC.md section 5). Pure: no I/O, no clock, no storage.
///
/// Feed it every event of the log in (`at`, `seq`) ascending order (it traps on anything
/// else) with two facts it cannot know from one event: whether the event is `late` (its
/// `at` is earlier, by more than `max_skew`, than the largest `at` of the events with a
/// smaller `seq`; `LatenessTracker` computes it in `seq` order), and whether to check it
/// against its `recorded` instant (`checkFuture`; false for `--input` files, which have none).
///
/// Filters (`--user`, `--session`, `--from`, `--to`) narrow the findings a caller reports,
/// never the events it applies: state always comes from the whole log.
///
/// Memory is proportional to the number of sessions (their states in login order, an index
/// by id, and per-user lists), never to the number of events; `retireInactive()` cuts it to
/// the active sessions plus a few bytes per inactive one (for `replay`). Events must be
/// valid per SPEC.md section 2; a required `session`, `client` or `method` that is
/// nevertheless missing is treated as naming nothing the log knows.
public struct Derivation: Sendable {
    public let policy: Policy

    /// Every session, in the order the logins were applied.
    private var slots: [SessionState] = []
    /// The slot of each session id. Without `indexesNumberedByID`, sessions numbered since
    /// are left out (found by `slotOfNumber` alone); those that came without a number, and
    /// those indexed before, stay in.
    private var slotOf: [ByteIdentity: Int32] = [:]
    /// Whether `slotOf` takes the sessions a ledger numbered too. Folds that read only stored
    /// events (which carry their numbers) and never ask for a session by id turn it off
    /// (`stopIndexingNumberedSessionsByID`: `replay` without `--trace`, in one job or several,
    /// and `who`/`sessions` resumed from a checkpoint), so each login and each retirement is
    /// spared hashing the session's id into a table of every session in memory.
    private var indexesNumberedByID = true
    /// The slot of each session number a ledger interned (`StoredEvent.sessionNumber`; -1:
    /// not looked up yet; -2 - i: retired, its entry `retired[i]`): a shortcut past hashing
    /// and comparing the id. Paged, so a narrow fold does not pay for the ledger's numbers.
    private var slotOfNumber = NumberTable(missing: -1)
    /// The session number of the event being applied (0: not given).
    private var currentNumber: UInt32 = 0
    /// The user number of the event being applied (0: not given).
    private var currentUser: UInt32 = 0
    /// Each user's sessions (`UserSessions`): one table, so a login or a retirement hashes
    /// the user's id once for both lists.
    private var byUser: [ByteIdentity: UserSessions] = [:]
    private var lastAt: Instant?
    private var lastSeq: UInt64?

    /// The session number of each slot (0: not known, or the slot is vacant).
    private var numberOfSlot: [UInt32] = []
    /// The user number of each slot's session, once an event carrying it was applied to the
    /// session (0: not known): `applyRefresh` compares users by it.
    private var userOfSlot: [UInt32] = []
    /// Slots whose session was retired, free for the next login.
    private var vacantSlots: [Int32] = []
    private var isVacant: [Bool] = []
    /// What findings still need of each retired session, in the order they were retired
    /// (only this fold's sessions: a `replay --jobs` job keeps its own, not the whole
    /// ledger's by number).
    private var retired: [Retired] = []
    /// The `retired` entry of each slot's session when it was revived (-1: none), reused
    /// when it is retired again (its state did not change meanwhile).
    private var retiredOfSlot: [Int32] = []
    /// The `retired` entry of every session retired while no findings were made (`anonymousRetired`).
    private var anonymousEntry: Int32?
    /// User and client strings of retired sessions, each kept once.
    private var names: [String] = []
    private var nameIndex: [ByteIdentity: Int32] = [:]

    /// Whether `apply` makes findings. A fold of state alone (a checkpoint's, a state query's)
    /// turns it off: it threw every finding away, and making their messages was most of a
    /// checkpoint fold over refreshes sooner than their interval (three quarters of a `serve`
    /// writer's time in a test that posted 49 refreshes a session at once). State is the same
    /// either way: only the messages are left out.
    public var makesFindings = true
    /// How many events have been applied.
    public private(set) var eventCount = 0
    /// How many sessions have been created (a login applied, or resumed from a checkpoint).
    public private(set) var sessionCount = 0
    /// The slots of the sessions the last applied event changed, in the order it changed them.
    private var changedSlots: [Int32] = []

    /// The sessions the last applied event changed (created, extended or ended), in the
    /// order it changed them: for `replay --trace` (empty after `retireInactive()`).
    public var changedSessions: [String] { changedSlots.map { slots[Int($0)].session } }

    public init(policy: Policy) {
        self.policy = policy
    }

    /// Resumes from a checkpoint: `sessions` (in login order) as they stood after every event
    /// with `at <= after`, all active then. The events to apply next must come after `after`.
    /// `numbers`, when given, are each session's numbers (a version 2 checkpoint's): its
    /// refreshes can then take `applyRefresh` from the first one on. `byNumberOnly`: as after
    /// `stopIndexingNumberedSessionsByID()`, from the start (the numbered ones are not hashed).
    public init(policy: Policy, resuming sessions: [SessionState], numbers: [Checkpoint.Numbers] = [], after: Instant,
                byNumberOnly: Bool = false) {
        precondition(numbers.isEmpty || numbers.count == sessions.count, "one Numbers per session")
        self.policy = policy
        indexesNumberedByID = !byNumberOnly
        slots.reserveCapacity(sessions.count)
        numberOfSlot.reserveCapacity(sessions.count)
        userOfSlot.reserveCapacity(sessions.count)
        isVacant.reserveCapacity(sessions.count)
        retiredOfSlot.reserveCapacity(sessions.count)
        slotOf.reserveCapacity(sessions.count)
        byUser.reserveCapacity(sessions.count)
        for (k, state) in sessions.enumerated() {
            let n = numbers.isEmpty ? Checkpoint.Numbers(session: 0, user: 0) : numbers[k]
            let slot = allocate(state, number: n.session, user: n.user)
            if n.session != 0 { slotOfNumber[Int(n.session)] = slot }
            sessionCount += 1
            if indexesNumberedByID || n.session == 0 { slotOf[ByteIdentity(state.session)] = slot }
            byUser[ByteIdentity(state.user), default: UserSessions()].all.append(slot)
        }
        // A checkpoint holds only active sessions, so each is open: the same list, shared
        // until the fold changes one of them.
        var user = byUser.values.startIndex
        while user != byUser.values.endIndex {
            byUser.values[user].open = byUser.values[user].all
            byUser.values.formIndex(after: &user)
        }
        lastAt = after
        lastSeq = .max
    }

    // MARK: - State

    /// The state of session `id`, nil if no login of it has been applied. After
    /// `stopIndexingNumberedSessionsByID()` a numbered session is found by a walk of every slot.
    public func session(_ id: String) -> SessionState? {
        if let slot = slotOf[ByteIdentity(id)] { return slots[Int(slot)] }
        guard !indexesNumberedByID else { return nil }
        return slots.indices.first { !isVacant[$0] && numberOfSlot[$0] != 0 && slots[$0].session.isSameID(as: id) }.map { slots[$0] }
    }

    /// Leaves the sessions a ledger numbers from now on out of the index by id: for a fold that
    /// applies only stored events (which carry their numbers) and never asks for a session by
    /// id, since `session(_:)` and `status(of:at:)` then walk every slot. An event without
    /// numbers that names a session puts every session back in the index first (and ends
    /// this), so the answers never change.
    public mutating func stopIndexingNumberedSessionsByID() {
        indexesNumberedByID = false
    }

    /// Puts every numbered session in `slotOf` and keeps them there from now on.
    private mutating func indexNumberedByID() {
        indexesNumberedByID = true
        for k in slots.indices where !isVacant[k] && numberOfSlot[k] != 0 { slotOf[ByteIdentity(slots[k].session)] = Int32(k) }
    }

    /// The status of session `id` at `t`: `not_started` when no login of it has been applied.
    public func status(of id: String, at t: Instant) -> SessionState.Status {
        session(id)?.status(at: t) ?? .notStarted
    }

    /// Every session, in the order the logins were applied (after `retireInactive()`: the
    /// sessions not retired, in no particular order). O(sessions).
    public var sessions: [SessionState] {
        vacantSlots.isEmpty ? slots : slots.indices.filter { !isVacant[$0] }.map { slots[$0] }
    }

    /// Visits `sessions` in order, each with its numbers (0: not known), where it lies: what a
    /// checkpoint is made from. A copy of a session retains each of its strings, a cache miss
    /// apiece on a large state; a capture copies only the sessions it keeps.
    func forEachSession(_ body: (borrowing SessionState, Checkpoint.Numbers) throws -> Void) rethrows {
        for k in slots.indices where !isVacant[k] {
            try body(slots[k], Checkpoint.Numbers(session: numberOfSlot[k], user: userOfSlot[k]))
        }
    }

    /// Visits every session in memory that was never retired (a revived one was, and was
    /// handed to `retireInactive(settled:)` then), in no particular order.
    public func forEachSessionNeverRetired(_ body: (borrowing SessionState) throws -> Void) rethrows {
        for k in slots.indices where !isVacant[k] && retiredOfSlot[k] < 0 { try body(slots[k]) }
    }

    /// Every session of `user`, in login order.
    public func sessions(ofUser user: String) -> [SessionState] {
        (byUser[ByteIdentity(user)]?.all ?? []).map { slots[Int($0)] }
    }

    /// How many users have at least one session.
    public var userCount: Int { byUser.count }

    /// Every user with at least one session, sorted by the bytes of their UTF-8 text.
    public var users: [String] {
        byUser.keys.map(\.text).sorted { $0.utf8Precedes($1) }
    }

    // MARK: - The fold

    /// Applies one event and returns its findings (table order, then `late-event` and
    /// `future-event`).
    public mutating func apply(_ stored: StoredEvent, late: Bool, checkFuture: Bool) -> [Finding] {
        var findings: [Finding] = []
        apply(stored, late: late, checkFuture: checkFuture, into: &findings)
        return findings
    }

    /// Which part of an event to apply: all of it, or for a `logout_all` whose session belongs
    /// to another user's partition in a parallel replay (ParallelReplay), only the checks of
    /// that session (where it lives) or only the revocation and the timing findings (where
    /// the user's sessions live). The two parts give, between them, what `.whole` gives.
    public enum Part: Sendable { case whole, sessionChecks, effect }

    /// Applies one event and appends its findings to `findings`.
    public mutating func apply(_ stored: StoredEvent, late: Bool, checkFuture: Bool, into findings: inout [Finding]) {
        apply(stored, late: late, checkFuture: checkFuture, part: .whole, into: &findings)
    }

    /// Applies one event, or a part of it (see `Part`), and appends its findings to `findings`.
    public mutating func apply(_ stored: StoredEvent, late: Bool, checkFuture: Bool, part: Part, into findings: inout [Finding]) {
        let e = stored.event
        if let lastAt, let lastSeq {
            precondition(lastAt < e.at || (lastAt == e.at && lastSeq < stored.seq),
                         "Derivation.apply: events must come in (at, seq) ascending order")
        }
        lastAt = e.at
        lastSeq = stored.seq
        currentNumber = stored.sessionNumber
        currentUser = stored.userNumber
        eventCount += 1
        changedSlots.removeAll(keepingCapacity: true)

        let report = Reporter(seq: stored.seq, event: e, makesFindings: makesFindings)
        switch e.kind {
        case .login: login(e, report, &findings)
        case .refresh: refresh(e, report, &findings)
        case .logout: logout(e, report, &findings)
        case .logoutAll: logoutAll(e, report, part, &findings)
        case .tokenDeleted: tokenDeleted(e, report, &findings)
        }

        if part == .sessionChecks { return }
        if late {
            let skew = policy.maxSkew.map { " (\($0.policyText))" } ?? ""
            report(.lateEvent, "\(report.subject) was logged after an event more than max_skew\(skew) later; it was applied at its own instant.", into: &findings)
        }
        if checkFuture, let skew = policy.maxSkew, e.at > stored.recorded.saturatingAdding(skew) {
            report(.futureEvent, "\(report.subject) is more than max_skew (\(skew.policyText)) later than the ledger's clock when it was recorded, \(stored.recorded).", into: &findings)
        }
    }

    /// The two steps of `prefetch`, for an event some way ahead of the one being applied.
    public enum PrefetchStep { case far, near }

    /// Hints the cache with what applying an event of session number `number` will read:
    /// `.far` fetches the number's entry in the table of slots, `.near` (some events later,
    /// that entry now in cache) the slot's state and user. A fold reading the log spent most
    /// of `applyRefresh` waiting for these (a state among tens of megabytes of them); read
    /// ahead (`LedgerSnapshot.foldLookahead`), the waits of several events overlap. The hints
    /// change nothing: a number not known yet, or a slot reused before its event comes, costs
    /// a wasted fetch.
    ///
    /// `mutating` though it changes nothing: a closure reaches a captured derivation in place
    /// only through a mutating method; a non-mutating call copies it first, retaining and
    /// releasing every table (a replay took 3.6 times as long).
    @inline(__always)
    public mutating func prefetch(_ number: UInt32, _ step: PrefetchStep) {
        guard number != 0 else { return }
        switch step {
        case .far:
            slotOfNumber.prefetch(Int(number))
        case .near:
            let slot = Int(slotOfNumber[Int(number)])
            guard slot >= 0, slot < slots.count else { return }
            slots.withUnsafeBufferPointer { buffer in
                let state = UnsafeRawPointer(buffer.baseAddress! + slot)
                for offset in stride(from: 0, to: MemoryLayout<SessionState>.stride, by: 64) { sledger_prefetch(state + offset) }
                sledger_prefetch(state + MemoryLayout<SessionState>.stride - 1)
            }
            userOfSlot.withUnsafeBufferPointer { sledger_prefetch($0.baseAddress! + slot) }
        }
    }

    /// `applyRefresh` with the numbers and instants of a ledger record's header.
    public mutating func applyRefresh(seq: UInt64, _ header: Record.Header, checkFuture: Bool) -> Bool {
        applyRefresh(seq: seq, at: header.at, recorded: header.recorded, userNumber: header.userNumber,
                     sessionNumber: header.sessionNumber, checkFuture: checkFuture)
    }

    /// The log's commonest event applied from a ledger record's header alone, without its
    /// strings: a refresh, by its own user, of an active session this fold already knows by
    /// number, not early and not `future-event` (the caller has found it not late). Returns
    /// true when it applied the event, leaving the state `apply` would and no findings (there
    /// are none in that case); false, having changed nothing, for any other event: the caller
    /// then decodes it and calls `apply`.
    public mutating func applyRefresh(seq: UInt64, at: Instant, recorded: Instant, userNumber: UInt32,
                                      sessionNumber: UInt32, checkFuture: Bool) -> Bool {
        guard sessionNumber != 0, userNumber != 0 else { return false }
        let slot = slotOfNumber[Int(sessionNumber)]
        guard slot >= 0 else { return false }  // not met yet, or retired (inactive)
        let index = Int(slot)
        guard userOfSlot[index] == userNumber, slots[index].status(at: at) == .active, !isEarly(slots[index], at) else {
            return false
        }
        if checkFuture, let skew = policy.maxSkew, at > recorded.saturatingAdding(skew) { return false }
        if let lastAt, let lastSeq {
            precondition(lastAt < at || (lastAt == at && lastSeq < seq),
                         "Derivation.applyRefresh: events must come in (at, seq) ascending order")
        }
        lastAt = at
        lastSeq = seq
        currentNumber = sessionNumber
        currentUser = userNumber
        eventCount += 1
        // Most often the last event changed one session too; `removeAll` is a call per event.
        if changedSlots.count == 1 { changedSlots.removeLast() } else { changedSlots.removeAll(keepingCapacity: true) }
        extend(index, at)
        return true
    }

    /// `login`: creates the session unless its id was logged in before.
    private mutating func login(_ e: Event, _ report: Reporter, _ findings: inout [Finding]) {
        guard let id = e.session else {
            report(.unknownSession, "login at \(e.at) for user \(q(e.user)) names no session; it had no effect.", into: &findings)
            return
        }
        if let slot = slot(of: id) {
            let existing = slots[slot]
            report(.duplicateSession, "login at \(e.at) reuses session \(q(id)), already logged in at \(existing.loginAt) for user \(q(existing.user)); this login was ignored.", into: &findings)
            return
        }
        let client = e.client ?? ""
        let method = e.method ?? ""
        let rules = policy.client(client)
        if !policy.isListed(client: client) {
            report(.unknownClient, "login at \(e.at) of session \(q(id)) for user \(q(e.user)) uses client \(q(client)), which the policy does not list; the session was created with default_client's lifetime (\(text(rules.lifetime))) and refresh interval (\(text(rules.refreshInterval))).", into: &findings)
        }
        if !policy.allowsLogin(method: method) {
            report(.loginMethod, "login at \(e.at) of session \(q(id)) for user \(q(e.user)) uses method \(q(method)), which the policy does not accept (accepted: \(list(policy.loginMethods))); the session was created all the same.", into: &findings)
        }
        let slot = allocate(SessionState(session: id, user: e.user, client: client, method: method, loginAt: e.at,
                                         loginSeq: report.seq, rules: rules), number: currentNumber, user: currentUser)
        sessionCount += 1
        if indexesNumberedByID || currentNumber == 0 { slotOf[ByteIdentity(id)] = slot }
        if currentNumber != 0 { remember(currentNumber, slot) }
        byUser[ByteIdentity(e.user), default: UserSessions()].add(slot)
        changedSlots.append(slot)
    }

    /// `refresh`: extends the session if it exists, has the same user and is active.
    private mutating func refresh(_ e: Event, _ report: Reporter, _ findings: inout [Finding]) {
        guard let id = e.session, let index = slot(of: id) else {
            report(.unknownSession, "refresh at \(e.at) by user \(q(e.user)) names session \(q(e.session ?? "")), which no login at or before that instant created; it had no effect.", into: &findings)
            return
        }
        let sameUser = slots[index].user.isSameID(as: e.user)
        if sameUser, currentUser != 0 { userOfSlot[index] = currentUser }
        let status = slots[index].status(at: e.at)
        // The common case, an on-time refresh of an active session by its user, reads the
        // state in place (a copy of it costs a retain and a release of each of its strings).
        if sameUser, status == .active, !isEarly(slots[index], e.at) {
            extend(index, e.at)
            return
        }
        let s = slots[index]
        if !sameUser {
            report(.userMismatch, "refresh at \(e.at) by user \(q(e.user)) names session \(q(id)) of user \(q(s.user)); the refresh was not applied.", into: &findings)
        }
        switch status {
        case .logout, .logoutAll, .tokenDeleted:
            report(.refreshAfterEnd, "refresh at \(e.at) of session \(q(id)) (user \(q(s.user))) came after the session \(inactivity(s, e.at)); it was not applied.", into: &findings)
        case .expired:
            report(.refreshAfterExpiry, "refresh at \(e.at) of session \(q(id)) (user \(q(s.user))) came after the session \(inactivity(s, e.at)); it was not applied.", into: &findings)
        case .active:
            if !s.isToken, let interval = s.rules.refreshInterval, e.at < s.lastExtendedAt.saturatingAdding(interval) {
                let gap = Duration(nanoseconds: e.at.nanoseconds &- s.lastExtendedAt.nanoseconds)
                report(.earlyRefresh, "refresh at \(e.at) of session \(q(id)) (user \(q(s.user))) came \(gap.policyText) after its last extension at \(s.lastExtendedAt), sooner than the refresh interval of \(interval.policyText)" + (sameUser ? "; it was applied all the same." : "."), into: &findings)
            }
        case .notStarted:
            break // Cannot happen: the session's login was applied, so `loginAt <= at`.
        }
        if sameUser, status == .active { extend(index, e.at) }
    }

    /// Whether a refresh at `t` of active session `s` comes sooner than its refresh interval.
    @inline(__always)
    private func isEarly(_ s: SessionState, _ t: Instant) -> Bool {
        guard !s.isToken, let interval = s.rules.refreshInterval else { return false }
        return t < s.lastExtendedAt.saturatingAdding(interval)
    }

    /// Applies a refresh at `t` to the session in `index`.
    @inline(__always)
    private mutating func extend(_ index: Int, _ t: Instant) {
        slots[index].lastExtendedAt = t
        slots[index].expiresAt = slots[index].rules.lifetime.map { t.saturatingAdding($0) }
        slots[index].refreshCount += 1
        changedSlots.append(Int32(index))
    }

    /// `logout`: ends the session if it exists and is active, whoever the event names as user.
    private mutating func logout(_ e: Event, _ report: Reporter, _ findings: inout [Finding]) {
        guard let id = e.session, let slot = slot(of: id) else {
            report(.unknownSession, "logout at \(e.at) by user \(q(e.user)) names session \(q(e.session ?? "")), which no login at or before that instant created; it had no effect.", into: &findings)
            return
        }
        let s = slots[slot]
        let active = s.isActive(at: e.at)
        if !s.user.isSameID(as: e.user) {
            report(.userMismatch, "logout at \(e.at) by user \(q(e.user)) names session \(q(id)) of user \(q(s.user)); " + (active ? "the session was ended all the same." : "the session was not active, so nothing changed."), into: &findings)
        }
        if active {
            end(slot, at: e.at, reason: .logout)
        } else {
            report(.logoutInactive, "logout at \(e.at) of session \(q(id)) (user \(q(s.user))) found the session already \(inactivity(s, e.at)); it had no effect.", into: &findings)
        }
    }

    /// `logout_all`: ends every active session of the event's user (tokens only if the policy
    /// says so); the session it was made from is only checked.
    private mutating func logoutAll(_ e: Event, _ report: Reporter, _ part: Part, _ findings: inout [Finding]) {
        let still = "the sessions of user \(q(e.user)) were logged out all the same."
        if part != .effect, let id = e.session {
            if let slot = slot(of: id) {
                let s = slots[slot]
                if !s.user.isSameID(as: e.user) {
                    report(.userMismatch, "logout_all at \(e.at) by user \(q(e.user)) was made from session \(q(id)) of user \(q(s.user)); \(still)", into: &findings)
                }
                if !s.isActive(at: e.at) {
                    report(.logoutAllFromInactive, "logout_all at \(e.at) by user \(q(e.user)) was made from session \(q(id)), which was not active (\(inactivity(s, e.at))); \(still)", into: &findings)
                }
                if !policy.allowsLogoutAll(from: s.client) {
                    report(.logoutAllClient, "logout_all at \(e.at) by user \(q(e.user)) was made from session \(q(id)) on client \(q(s.client)), which the policy does not allow it from (allowed: \(list(policy.logoutAllFrom))); \(still)", into: &findings)
                }
            } else {
                report(.unknownSession, "logout_all at \(e.at) by user \(q(e.user)) names session \(q(id)), which no login at or before that instant created; \(still)", into: &findings)
            }
        }
        guard part != .sessionChecks, let user = byUser.index(forKey: ByteIdentity(e.user)) else { return }
        var stillOpen: [Int32] = []
        for slot in byUser.values[user].open {
            let s = slots[Int(slot)]
            guard s.isActive(at: e.at) else { continue }
            if s.isToken && !policy.logoutAllRevokesTokens {
                stillOpen.append(slot)
            } else {
                end(Int(slot), at: e.at, reason: .logoutAll)
            }
        }
        byUser.values[user].open = stillOpen
    }

    /// `token_deleted`: ends the session if it exists and is active, token or not.
    private mutating func tokenDeleted(_ e: Event, _ report: Reporter, _ findings: inout [Finding]) {
        guard let id = e.session, let slot = slot(of: id) else {
            report(.unknownSession, "token_deleted at \(e.at) by user \(q(e.user)) names session \(q(e.session ?? "")), which no login at or before that instant created; it had no effect.", into: &findings)
            return
        }
        let s = slots[slot]
        let active = s.isActive(at: e.at)
        let outcome = active ? "the session was ended all the same." : "the session was not active, so nothing changed."
        if !s.user.isSameID(as: e.user) {
            report(.userMismatch, "token_deleted at \(e.at) by user \(q(e.user)) names session \(q(id)) of user \(q(s.user)); \(outcome)", into: &findings)
        }
        if !s.isToken {
            report(.notAToken, "token_deleted at \(e.at) names session \(q(id)) (user \(q(s.user))) of client \(q(s.client)), which is not a token; \(outcome)", into: &findings)
        }
        if active {
            end(slot, at: e.at, reason: .tokenDeleted)
        } else {
            report(.deleteInactive, "token_deleted at \(e.at) of session \(q(id)) (user \(q(s.user))) found the session already \(inactivity(s, e.at)); it had no effect.", into: &findings)
        }
    }

    private mutating func end(_ slot: Int, at t: Instant, reason: SessionState.EndReason) {
        slots[slot].endedAt = t
        slots[slot].endReason = reason
        changedSlots.append(Int32(slot))
    }

    /// The slot of the session the event names: by its number when the ledger gave one and it
    /// was seen before, else by its id (then remembered under the number).
    /// A retired session is brought back (inactive, as it stays) for the event naming it.
    @inline(__always)
    private mutating func slot(of id: String) -> Int? {
        let n = Int(currentNumber)
        if n != 0 {
            let slot = slotOfNumber[n]
            if slot >= 0 { return Int(slot) }
            if slot <= -2 { return Int(revive(n, Int(-2 - slot), id)) }
            // Not met by its number: without `indexesNumberedByID`, only a session that came
            // without one (or was indexed before) can be in `slotOf`, so an empty one has none.
            if !indexesNumberedByID && slotOf.isEmpty { return nil }
        } else if !indexesNumberedByID {
            indexNumberedByID()
        }
        guard let slot = slotOf[ByteIdentity(id)] else { return nil }
        if n != 0 { remember(currentNumber, slot) }
        return Int(slot)
    }

    private mutating func remember(_ number: UInt32, _ slot: Int32) {
        slotOfNumber[Int(number)] = slot
        numberOfSlot[Int(slot)] = number
    }

    /// Puts `state` in a vacant slot, or a new one.
    private mutating func allocate(_ state: SessionState, number: UInt32, user: UInt32) -> Int32 {
        if let slot = vacantSlots.popLast() {
            slots[Int(slot)] = state
            numberOfSlot[Int(slot)] = number
            userOfSlot[Int(slot)] = user
            isVacant[Int(slot)] = false
            retiredOfSlot[Int(slot)] = -1
            return slot
        }
        slots.append(state)
        numberOfSlot.append(number)
        userOfSlot.append(user)
        isVacant.append(false)
        retiredOfSlot.append(-1)
        return Int32(slots.count - 1)
    }

    // MARK: - Retiring inactive sessions

    /// A retired session: what the findings of a later event naming it can say. Its state
    /// cannot change any more (see `retireInactive()`), so this is all of it that matters.
    private struct Retired {
        var loginAt = Instant(nanoseconds: 0)
        /// When it ended or expired.
        var endAt = Instant(nanoseconds: 0)
        /// Indexes into `names`.
        var user: Int32 = 0
        var client: Int32 = 0
        /// The end reason's status: logout, logout_all, token_deleted or expired.
        var status = SessionState.Status.expired
    }

    /// Drops the full state of every session that is inactive at the last applied event's
    /// instant, keeping only what a finding about it can say (32 bytes). An inactive
    /// session stays inactive and unchanged whatever comes later (SessionState), so no
    /// finding and no count changes; a later event naming it brings it back, inactive.
    /// Afterwards `session(_:)`, `sessions` and `sessions(ofUser:)` show only the sessions
    /// not retired, so this is for folds that report findings and counts (`replay`).
    /// Only sessions whose events carried a ledger's session number are retired.
    ///
    /// `settled`, when given, is handed each session's state as it is retired for the first
    /// time: its final state, since no later event changes it (a revived one, retired again,
    /// is not handed twice). With `forEachSessionNeverRetired` at the end of the fold, every
    /// session is handed exactly once (`sessions --from --to`: `SettledSessions`).
    public mutating func retireInactive() {
        retireInactive(settled: { _ in })
    }

    /// The same, handing each session retired for the first time to `settled` (above).
    public mutating func retireInactive(settled: (borrowing SessionState) throws -> Void) rethrows {
        guard let now = lastAt else { return }
        changedSlots.removeAll()
        var owners = Set<ByteIdentity>()
        for k in slots.indices where numberOfSlot[k] != 0 {
            let status = slots[k].status(at: now)
            guard status != .active, status != .notStarted else { continue }
            let s = slots[k]
            let n = Int(numberOfSlot[k])
            var entry = retiredOfSlot[k]
            if entry < 0 {
                try settled(s)
                if makesFindings {
                    entry = Int32(retired.count)
                    retired.append(Retired(loginAt: s.loginAt, endAt: (status == .expired ? s.expiresAt : s.endedAt)!,
                                           user: intern(s.user), client: intern(s.client), status: status))
                } else {
                    entry = anonymousRetired()
                }
            }
            slotOfNumber[n] = -2 - entry
            if indexesNumberedByID || !slotOf.isEmpty { slotOf[ByteIdentity(s.session)] = nil }
            slots[k] = Self.vacant
            numberOfSlot[k] = 0
            isVacant[k] = true
            vacantSlots.append(Int32(k))
            owners.insert(ByteIdentity(s.user))
        }
        // A vacant slot in a user's lists was freed by this sweep: earlier sweeps took theirs
        // out, a slot given to a new login is no longer vacant, and a revived session is in no list.
        for owner in owners {
            guard let user = byUser.index(forKey: owner) else { continue }
            byUser.values[user].all.removeAll { isVacant[Int($0)] }
            byUser.values[user].open.removeAll { isVacant[Int($0)] }
        }
    }

    /// The one entry every retired session shares in a fold that makes no findings: nothing
    /// but findings reads a retired session's details (an event naming an inactive session
    /// changes no state), so what it needs is only that the session exists and is inactive,
    /// not 32 bytes apiece (182 MB, and more while the array grows, for the 5.7M sessions of
    /// `sessions` over a whole log at 100M events). Revived, it is expired since `Instant.earliest`.
    private mutating func anonymousRetired() -> Int32 {
        if let anonymousEntry { return anonymousEntry }
        retired.append(Retired(loginAt: .earliest, endAt: .earliest, user: intern(""), client: intern(""), status: .expired))
        anonymousEntry = Int32(retired.count - 1)
        return anonymousEntry!
    }

    /// The state of retired session number `n` again, for an event that names it: inactive,
    /// with what its findings read (user, client, login, end). Retired again by the next sweep.
    private mutating func revive(_ n: Int, _ entry: Int, _ id: String) -> Int32 {
        let r = retired[entry]
        let client = names[Int(r.client)]
        var state = SessionState(session: id, user: names[Int(r.user)], client: client, method: "", loginAt: r.loginAt,
                                 loginSeq: 0, rules: policy.client(client))
        switch r.status {
        case .logout: (state.endedAt, state.endReason, state.expiresAt) = (r.endAt, .logout, nil)
        case .logoutAll: (state.endedAt, state.endReason, state.expiresAt) = (r.endAt, .logoutAll, nil)
        case .tokenDeleted: (state.endedAt, state.endReason, state.expiresAt) = (r.endAt, .tokenDeleted, nil)
        default: state.expiresAt = r.endAt
        }
        let slot = allocate(state, number: UInt32(n), user: 0)
        retiredOfSlot[Int(slot)] = Int32(entry)
        slotOfNumber[n] = slot
        if indexesNumberedByID { slotOf[ByteIdentity(id)] = slot }
        return slot
    }

    private mutating func intern(_ name: String) -> Int32 {
        if let index = nameIndex[ByteIdentity(name)] { return index }
        names.append(name)
        nameIndex[ByteIdentity(name)] = Int32(names.count - 1)
        return Int32(names.count - 1)
    }

    /// One user's sessions: every one in login order (`all`), and those that may still be
    /// active (`open`): `logout_all` walks these and drops the ones it finds inactive, which
    /// never become active again.
    private struct UserSessions {
        var all: [Int32] = []
        var open: [Int32] = []

        mutating func add(_ slot: Int32) {
            all.append(slot)
            open.append(slot)
        }
    }

    private static let vacant = SessionState(session: "", user: "", client: "", method: "", loginAt: Instant(nanoseconds: 0),
                                             loginSeq: 0, rules: Policy.Client(lifetime: nil, refreshInterval: nil))

    // MARK: - Messages

    /// Makes the findings of one event.
    /// (Only the fields findings name: a copy of the whole event would retain every string.)
    private struct Reporter {
        let seq: UInt64
        let kind: Event.Kind
        let at: Instant
        let user: String
        let session: String?
        /// `Derivation.makesFindings`.
        let makesFindings: Bool

        init(seq: UInt64, event: Event, makesFindings: Bool) {
            (self.seq, kind, at, user, session) = (seq, event.kind, event.at, event.user, event.session)
            self.makesFindings = makesFindings
        }

        /// Appends the finding to `findings`, its message made only when findings are made.
        func callAsFunction(_ rule: Finding.Rule, _ message: @autoclosure () -> String, into findings: inout [Finding]) {
            guard makesFindings else { return }
            findings.append(Finding(rule: rule, seq: seq, at: at, user: user, session: session, message: message()))
        }

        /// "refresh at T of session "s1" (user "alice")", for the timing findings.
        var subject: String {
            let session = session.map { "session \(q($0)), " } ?? ""
            return "\(kind.name) at \(at) (\(session)user \(q(user)))"
        }
    }

    /// Why a session is not active at `t`: "ended by logout at T" or "expired at T".
    private func inactivity(_ s: SessionState, _ t: Instant) -> String {
        if let endedAt = s.endedAt, let reason = s.endReason, endedAt <= t {
            return "ended by \(reason.name) at \(endedAt)"
        }
        if let expiresAt = s.expiresAt, expiresAt <= t {
            return "expired at \(expiresAt)"
        }
        return "not started at \(t)"
    }
}

/// An identifier in a message: in double quotes, with `"` and `\` escaped.
private func q(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        if c == "\"" || c == "\\" { out += "\\" }
        out.unicodeScalars.append(c)
    }
    return out + "\""
}

private func list(_ items: [String]) -> String {
    items.isEmpty ? "none" : items.joined(separator: ", ")
}

private func text(_ d: Duration?) -> String {
    d?.policyText ?? "none"
}
