import LMDB

/// Where checkpoints are written, found, used and verified (docs/FORMAT.md, "Checkpoints").
extension Checkpoint {
    /// The `checkpoints` key: the instant, biased, big-endian (time order).
    static func key(_ at: Instant) -> [UInt8] {
        var out: [UInt8] = []
        appendBE(at.biased, 8, &out)
        return out
    }
}

extension LedgerSnapshot {
    /// The latest checkpoint at or before `t` that this policy may use: intact (checksum,
    /// layout), written under the same policy, and consistent with the head. Damaged or
    /// foreign ones are skipped, never trusted.
    public func checkpoint(atOrBefore t: Instant, policy: Policy) throws -> Checkpoint? {
        try checkpointView(atOrBefore: t, policy: policy)?.decoded(policy: policy)
    }

    /// The same read in place (valid while this snapshot is).
    func checkpointView(atOrBefore t: Instant, policy: Policy) throws -> Checkpoint.View? {
        let digest = Checkpoint.digest(of: policy)
        let head = try eventCount()
        return try txn.withCursor(db.checkpoints) { cursor in
            var entry = try cursor.seek(atLeast: Checkpoint.key(t.saturatingAdding(Duration(nanoseconds: 1))))
            entry = entry == nil ? try cursor.last() : try cursor.previous()
            while let current = entry {
                // The fixed header first: one of another policy, or past the head, is skipped
                // without checksumming it (16 MB at 100,000 users).
                let value = current.value
                if let events = Checkpoint.peek(value, digest: digest), events <= head, readLE(value, 12, 8) <= head,
                   Instant(nanoseconds: Int64(bitPattern: readLE(value, 4, 8))) <= t, let view = Checkpoint.View(value) {
                    return view
                }
                entry = try cursor.previous()
            }
            return nil
        }
    }

    /// The same decoded for a fold to resume from: without its stretch, which such a fold never
    /// reads (so it is `isOutdated`; not for comparing with a refold).
    func checkpointToResume(atOrBefore t: Instant, policy: Policy) throws -> Checkpoint? {
        try checkpointView(atOrBefore: t, policy: policy)?.decoded(policy: policy, stretch: false)
    }

    /// How many checkpoints are stored.
    public func checkpointCount() throws -> Int { try txn.count(db.checkpoints) }

    /// Where a fold that writes checkpoints goes on from: the latest checkpoint `policy` may
    /// use (nil: none) and how many events `spacing` puts between it and the next, by its
    /// stored size as `checkpointsDue` reads it (re-encoding it could cost ~10 MB). Nil when
    /// checkpoints it may not use lie after it: `writeCheckpoints` removes those first.
    func checkpointToGoOnFrom(policy: Policy, spacing: CheckpointSpacing) throws -> (latest: Checkpoint?, next: Int)? {
        try checkpointViewToGoOnFrom(policy: policy, spacing: spacing).map { ($0.latest?.decoded(policy: policy, stretch: false), $0.next) }
    }

    /// The same read in place (valid while this snapshot is), for a caller that may not fold from it.
    func checkpointViewToGoOnFrom(policy: Policy, spacing: CheckpointSpacing) throws -> (latest: Checkpoint.View?, next: Int)? {
        let latest = try checkpointView(atOrBefore: .latest, policy: policy)
        guard try newestCheckpointInstant() == latest?.at else { return nil }
        return (latest, spacing.after(checkpointBytes: latest.map { Checkpoint.spacedBytes($0.bytes) }))
    }

    /// The newest stored checkpoint's instant, how many events it folds when it is `digest`'s
    /// policy's (`Checkpoint.peek`) and its size as spacing counts it, from its header alone:
    /// enough to decide whether a checkpoint is due. Nil when there is none.
    func newestCheckpointHeader(digest: [UInt8]) throws -> (at: Instant, events: UInt64?, spacedBytes: Int)? {
        try txn.withCursor(db.checkpoints) { cursor in
            try cursor.last().map { entry in
                (Instant(biased: readBE(entry.key, 0, 8)), Checkpoint.peek(entry.value, digest: digest), Checkpoint.spacedBytes(entry.value))
            }
        }
    }

    /// Visits every stored checkpoint in time order, decoded one at a time (nil when damaged).
    func forEachStoredCheckpoint(policy: Policy, _ body: (Instant, Checkpoint?) throws -> Void) throws {
        try txn.withCursor(db.checkpoints) { cursor in
            try cursor.forEach(from: cursor.first()) { entry in
                try body(Instant(biased: readBE(entry.key, 0, 8)), Checkpoint.decode(entry.value, policy: policy))
                return true
            }
        }
    }

    /// The newest stored checkpoint's instant (usable or not), nil when there is none. O(1).
    func newestCheckpointInstant() throws -> Instant? {
        try txn.withCursor(db.checkpoints) { cursor in try cursor.last().map { Instant(biased: readBE($0.key, 0, 8)) } }
    }

    /// Every stored checkpoint's instant, in time order.
    func checkpointInstants() throws -> [Instant] {
        try txn.withCursor(db.checkpoints) { cursor in
            var out: [Instant] = []
            try cursor.forEach(from: cursor.first()) { out.append(Instant(biased: readBE($0.key, 0, 8))); return true }
            return out
        }
    }

    /// The state a state query reads (no findings): folded from the latest usable checkpoint
    /// at or before `readsFrom` (the earliest instant whose status the caller looks at), or
    /// from the first event when there is none. The answer is the same either way.
    public func stateFold(policy: Policy, horizon: LedgerFold.Horizon, readsFrom: Instant) throws -> Derivation {
        try stateFold(policy: policy, horizon: horizon, readsFrom: readsFrom, retireEvery: nil)
    }

    /// The same, retiring inactive sessions every `retireEvery` events when given and handing
    /// each to `settled` as it is first retired (`LedgerFold.run`; `LedgerSnapshot.forEachSettledState`).
    func stateFold(policy: Policy, horizon: LedgerFold.Horizon, readsFrom: Instant, retireEvery: Int?,
                   settled: (borrowing SessionState) throws -> Void = { _ in }) throws -> Derivation {
        var fold = LedgerFold(policy: policy, horizon: horizon)
        fold.retireEvery = retireEvery
        guard let checkpoint = try checkpointToResume(atOrBefore: readsFrom, policy: policy) else {
            return try fold.run(self, settled: settled).derivation
        }
        return try stateFold(fold, from: checkpoint, byNumberOnly: retireEvery != nil, settled: settled)
    }

    /// Every session as of `horizon`'s end, in the order a fold gives them (`Derivation.sessions`),
    /// from the latest usable checkpoint at or before `readsFrom` (the earliest instant whose
    /// status the caller looks at), as `stateFold` would give them. Only the sessions the events
    /// after the checkpoint touch (`CheckpointTouches`) go through a fold; the others are made
    /// from their stored state. Without a checkpoint whose sessions all have numbers, a fold.
    public func states(policy: Policy, horizon: LedgerFold.Horizon, readsFrom: Instant) throws -> [SessionState] {
        guard let view = try checkpointView(atOrBefore: readsFrom, policy: policy) else {
            return try stateFold(policy: policy, horizon: horizon, readsFrom: readsFrom).sessions
        }
        return try states(policy: policy, horizon: horizon, from: view)
    }

    /// The same from `view`, the latest usable checkpoint at or before the first instant read.
    func states(policy: Policy, horizon: LedgerFold.Horizon, from view: Checkpoint.View) throws -> [SessionState] {
        let touches = try CheckpointTouches(self, after: view, horizon: horizon)
        var touched = view.withoutSessions()
        var places: [Int] = []  // where each touched one lies among the checkpoint's
        var words = Checkpoint.View.Words(policy: policy)
        for (place, s) in view.sessions.enumerated() {
            guard CheckpointTouches.isKnown(s) else {
                return try stateFold(policy: policy, horizon: horizon, from: view.decoded(policy: policy, stretch: false)).sessions
            }
            if touches.touches(s) {
                places.append(place)
                touched.sessions.append(view.state(s, &words))
                touched.numbers.append(s.numbers)
            }
        }
        // A fold resumed from the touched ones holds them first, in the same order, then the
        // sessions logged in after the checkpoint. The result is made once, at its size: each
        // growth of an array of a few hundred thousand states copied it into fresh pages (page
        // faults were a fifth of a `sessions --at` at 100M; these growths and `find`'s filter
        // made a third of them).
        let folded = try stateFold(policy: policy, horizon: horizon, from: touched, byNumberOnly: true).sessions
        var out: [SessionState] = []
        out.reserveCapacity(view.sessionCount + folded.count - places.count)
        var next = 0  // in `places` and `folded`
        for (place, s) in view.sessions.enumerated() {
            if next < places.count, places[next] == place {
                out.append(folded[next])
                next += 1
            } else {
                out.append(view.state(s, &words))
            }
        }
        out += folded[places.count...]
        return out
    }

    /// The state folded from `checkpoint` (one of this snapshot's, usable under `policy`).
    /// `byNumberOnly` when the caller reads only the result's `sessions`, never one by id
    /// (`Derivation.stopIndexingNumberedSessionsByID`).
    func stateFold(policy: Policy, horizon: LedgerFold.Horizon, from checkpoint: Checkpoint,
                   byNumberOnly: Bool = false) throws -> Derivation {
        try stateFold(LedgerFold(policy: policy, horizon: horizon), from: checkpoint, byNumberOnly: byNumberOnly)
    }

    /// `fold` run from `checkpoint` (its `settled` as `LedgerFold.run` takes it).
    private func stateFold(_ fold: LedgerFold, from checkpoint: Checkpoint, byNumberOnly: Bool,
                           settled: (borrowing SessionState) throws -> Void = { _ in }) throws -> Derivation {
        try fold.run(ResumedLog(snapshot: self, checkpoint: checkpoint),
                     resuming: Derivation(policy: fold.policy, resuming: checkpoint.sessions, numbers: checkpoint.numbers,
                                          after: checkpoint.at, byNumberOnly: byNumberOnly),
                     settled: settled).derivation
    }
}

/// The log after a checkpoint, for a fold resumed from it: the events with `at` past the
/// checkpoint's instant, less the logins of sessions logged in by then (duplicates, which
/// have no effect, of sessions the checkpoint may no longer hold). State only.
struct ResumedLog: FoldSource {
    let snapshot: LedgerSnapshot
    let checkpoint: Checkpoint

    var hasRecorded: Bool { true }
    func totalEvents() throws -> Int { Int(try snapshot.eventCount() - checkpoint.events) }
    func verify() throws { try snapshot.verifyLogCount() }
    func lateSeqs(maxSkew: Duration?) throws -> Set<UInt64> { [] }

    func forEachEventInTimeOrder(from: Instant?, to: Instant?, foldOnly: Bool,
                                 _ body: (StoredEvent) throws -> Bool) throws {
        try snapshot.forEachRecordInTimeOrder(from: start(from), to: to, foldOnly: foldOnly) { header, stored in
            if header.kind == .login, checkpoint.wasLoggedIn(header.sessionNumber) { return true }
            return try body(stored)
        }
    }

    /// The same, where a fold's shortcut may apply a refresh first (never a login: see above).
    func forEachEventInTimeOrder(from: Instant?, to: Instant?, foldOnly: Bool,
                                 shortcut: (UInt64, Record.Header) throws -> Bool,
                                 ahead: (Record.Header, Derivation.PrefetchStep) -> Void,
                                 _ body: (StoredEvent) throws -> Bool) throws {
        try snapshot.forEachRecordInTimeOrder(from: start(from), to: to, foldOnly: foldOnly, shortcut: shortcut, ahead: ahead) { header, stored in
            if header.kind == .login, checkpoint.wasLoggedIn(header.sessionNumber) { return true }
            return try body(stored)
        }
    }

    /// Where a read from `from` begins: never before the checkpoint's instant is past.
    private func start(_ from: Instant?) -> Instant {
        let after = checkpoint.at.saturatingAdding(Duration(nanoseconds: 1))
        return max(from ?? after, after)
    }
}

/// Folds the log from a checkpoint (or the start) and reduces the state to a checkpoint
/// every `spacing` events: what writing and verifying checkpoints share. After each
/// checkpoint the fold continues from it (the inactive sessions dropped), so memory stays
/// bounded by the active sessions plus one stretch's new ones, not by the whole log's.
struct CheckpointFold {
    let policy: Policy
    private(set) var derivation: Derivation
    private var builder: CheckpointBuilder
    /// The fold has applied every event with `at <= position`.
    private(set) var position: Instant?
    private(set) var folded: UInt64
    /// Events applied since the stretch began, and the instant it ends at once `spacing` is reached.
    private var since = 0
    private var boundary: Instant?
    /// Where the next checkpoint's stretch (`CheckpointStretch`) begins: the instant this fold
    /// began the stretch at, unless `next` was told a later one.
    private var stretchFrom: Instant?
    private var scratch: [Finding] = []

    init(policy: Policy, from checkpoint: Checkpoint?) {
        self.policy = policy
        derivation = CheckpointFold.derivation(policy, resuming: checkpoint)
        builder = CheckpointBuilder(policy: policy, resuming: checkpoint)
        position = checkpoint?.at
        folded = checkpoint?.events ?? 0
    }

    /// A derivation of state alone (no findings: they would be thrown away), resumed from
    /// `checkpoint` or from nothing.
    private static func derivation(_ policy: Policy, resuming checkpoint: Checkpoint?) -> Derivation {
        var derivation = checkpoint.map { Derivation(policy: policy, resuming: $0.sessions, numbers: $0.numbers, after: $0.at) }
            ?? Derivation(policy: policy)
        derivation.makesFindings = false
        return derivation
    }

    /// Folds on from `position` and returns the next checkpoint: at the instant where `spacing`
    /// events have been folded (all events of that instant included), or at `stopAt` when
    /// given and reached first (`spacing` is then ignored). Nil when the log ends first.
    /// `stretchFrom` starts its stretch later than `position` (for `sledger check`, to compare
    /// a stored one); one earlier cannot be told from here, and then it has none.
    mutating func next(_ snapshot: LedgerSnapshot, spacing: Int, stopAt: Instant? = nil,
                       stretchFrom: Instant? = nil) throws -> Checkpoint? {
        let head = try snapshot.eventCount()
        let from = position.map { $0.saturatingAdding(Duration(nanoseconds: 1)) }
        since = 0
        boundary = stopAt
        self.stretchFrom = stretchFrom
        var captured: Checkpoint?
        try snapshot.forEachRecordInTimeOrder(from: from, to: nil, foldOnly: true, shortcut: { seq, header in
            // Within the stretch, an on-time refresh is applied from its header; any other
            // event, or one past the stretch's end, goes to `step`.
            if let b = boundary, header.at > b { return false }
            guard derivation.applyRefresh(seq: seq, header, checkFuture: false) else { return false }
            counted(header.at, spacing: spacing)
            return true
        }, ahead: { header, step in
            // The walk writes nothing: every caller writes the checkpoints after its read.
            derivation.prefetch(header.sessionNumber, step)
        }) { _, stored in
            captured = step(stored, spacing: spacing, head: head)
            return captured == nil
        }
        if captured == nil, let stopAt, boundary == stopAt { captured = capture(at: stopAt, head: head) }
        return captured
    }

    /// Folds the next event in (`at`, `seq`) order. When the event lies past the end of a
    /// stretch, returns the checkpoint at that end instead and applies nothing: pass the event
    /// again to fold it into the next stretch. `head` is the head `seq` to record in a checkpoint.
    mutating func step(_ stored: StoredEvent, spacing: Int, head: UInt64) -> Checkpoint? {
        let at = stored.event.at
        if captures(at: at), let b = boundary { return capture(at: b, head: head) }
        if stored.event.kind == .login {
            if !builder.wasLoggedIn(stored.sessionNumber) {
                derivation.apply(stored, late: false, checkFuture: false, into: &scratch)
                scratch.removeAll(keepingCapacity: true)
            }
            builder.noteLogin(session: stored.sessionNumber)
        } else if stored.event.kind == .refresh,
                  derivation.applyRefresh(seq: stored.seq, at: at, recorded: stored.recorded, userNumber: stored.userNumber,
                                          sessionNumber: stored.sessionNumber, checkFuture: false) {
            // An on-time refresh of a session known by number, applied from its numbers as
            // `next` applies one from a record's header: its event is not copied (`apply`
            // copies it, retaining each of its strings), and there are no findings to make.
        } else {
            derivation.apply(stored, late: false, checkFuture: false, into: &scratch)
            scratch.removeAll(keepingCapacity: true)
        }
        counted(at, spacing: spacing)
        return nil
    }

    /// Counts an event folded at `at`; the stretch ends at the instant of its `spacing`-th.
    private mutating func counted(_ at: Instant, spacing: Int) {
        folded += 1
        since += 1
        if boundary == nil, since >= spacing { boundary = at }
    }

    /// Whether `step` with an event at `at` captures a checkpoint (its stretch has ended before `at`).
    func captures(at: Instant) -> Bool { boundary.map { at > $0 } ?? false }

    /// The checkpoint due at the end of the current stretch when that end is known (its
    /// `spacing`-th event is folded) but no event past it has come: what `step` returns for
    /// the next event past that end. Nil when no stretch has ended.
    mutating func captureDue(head: UInt64) -> Checkpoint? {
        boundary.map { capture(at: $0, head: head) }
    }

    /// The tail checkpoint at `at` (`Ledger.writeTailCheckpoint`), taken from a fold that has
    /// applied every event with `at` at or before it and none after, when it is due: `at` is
    /// after the latest checkpoint, and enough of `spacing` (the spacing due after that
    /// checkpoint) lies between them (`Ledger.tailIsDue`: a quarter, or a sixty-fourth when the
    /// call wrote a spaced checkpoint, `callWroteCheckpoints`). The fold goes on as if it had
    /// not been taken.
    func tail(at: Instant, spacing: Int, head: UInt64, callWroteCheckpoints: Bool) -> Checkpoint? {
        guard boundary == nil, position.map({ $0 < at }) ?? true,
              Ledger.tailIsDue(eventsSinceLatest: since, spacing: spacing, callWroteCheckpoints: callWroteCheckpoints) else { return nil }
        return checkpoint(at: at, head: head)
    }

    /// The state as a checkpoint at `at`, its stretch from where this fold began it.
    private func checkpoint(at: Instant, head: UInt64) -> Checkpoint {
        let start = position ?? .earliest
        let from = stretchFrom ?? start
        var checkpoint = builder.capture(derivation, at: at, headSeq: head, events: folded, stretchFrom: max(from, start))
        if from < start { checkpoint.stretch = nil }  // it would hold sessions this fold never had
        return checkpoint
    }

    private mutating func capture(at: Instant, head: UInt64) -> Checkpoint {
        let checkpoint = checkpoint(at: at, head: head)
        stretchFrom = nil
        derivation = CheckpointFold.derivation(policy, resuming: checkpoint)
        position = at
        since = 0
        boundary = nil
        return checkpoint
    }
}

extension CheckpointBuilder {
    func wasLoggedIn(_ n: UInt32) -> Bool { Checkpoint.isSet(n, in: loggedIn) }
}

extension Ledger {
    /// Writes checkpoints `spacing` apart on the time line, from the latest intact one
    /// (or the first event) to the last full stretch of the log; returns how many were
    /// written, each in its own durable transaction. Unusable ones (damaged, or of another
    /// policy: a ledger keeps one policy's) past the latest intact one are removed. With
    /// `rebuild`, every checkpoint is read, and from the first unusable one on all are
    /// removed and written again (`sledger checkpoint`); without it only the latest are looked
    /// at, so an `append` pays for its own stretch, not for every checkpoint; with it, a rolling
    /// tail at the end (`writeRollingTail`) goes too, and the fold goes on from the one before. With `tail`
    /// (`sledger checkpoint`), they end as a large call's do, with a tail checkpoint an hour
    /// before the newest event when one is due (`writeTailCheckpoint`; the default policy's
    /// only): a log that small calls wrote, or whose tail a late event removed, then answers
    /// at its end from it instead of folding up to a whole spacing of events.
    @discardableResult
    public func writeCheckpoints(policy: Policy = .default, spacing: CheckpointSpacing = .adaptive,
                                 rebuild: Bool = true, tail: Bool = false) throws -> Int {
        let written = try writeCheckpoints(policy: policy, spacing: spacing, rebuild: rebuild, write: writeGrowingMap)
        guard tail, policy == .default else { return written }
        return written + (try writeTailCheckpoint(spacing: spacing, callWroteCheckpoints: written > 0))
    }

    /// Runs `change`, which stores about `bytes` bytes, in a durable write transaction, growing
    /// the map as `append` does: how the CLI writes checkpoints.
    private func writeGrowingMap(bytes: Int, _ change: (WriteTransaction) throws -> Void) throws {
        var attempt = 0
        var previousSize = 0
        defer { try? env.releaseDisk(from: (try? env.info().usedBytes) ?? Int.max) }
        try env.writeGrowingMap(prepare: {
            attempt += 1
            try prepareRoom(attempt: attempt, inputBytes: bytes, previousSize: &previousSize)
        }) { txn in
            try change(txn)
        }
    }

    /// Whether a large call's tail checkpoint is written, `eventsSinceLatest` events after the
    /// latest checkpoint, `spacing` being the spacing due after it: when at least a quarter of
    /// the spacing lies between them, so that tails at most quadruple how densely checkpoints
    /// lie across calls of a few hundred thousand events (decision 0007), or when the call wrote
    /// a spaced checkpoint itself and a sixty-fourth of the spacing lies between them, which
    /// adds at most one tail for each spacing (fewer events than that fold in a few ms; a tail
    /// right after the latest would be a copy of it). At least one event either way, however
    /// small the spacing. Without the second case the end of a 100M-event import was up to a
    /// quarter of 2,097,152 events past its last checkpoint, and `who` at its last event took
    /// 0.25-0.3 s.
    static func tailIsDue(eventsSinceLatest: Int, spacing: Int, callWroteCheckpoints: Bool) -> Bool {
        eventsSinceLatest >= tailThreshold(spacing: spacing, callWroteCheckpoints: callWroteCheckpoints)
    }

    /// The fewest events `tailIsDue` asks for.
    static func tailThreshold(spacing: Int, callWroteCheckpoints: Bool) -> Int {
        max(1, spacing / (callWroteCheckpoints ? 64 : 4))
    }

    /// After a large call: a checkpoint near the end of the time line, so that `who` and
    /// `sessions` at an instant past the last spaced checkpoint fold a few events instead of up
    /// to a whole spacing (up to 2,097,152 events; 1,048,576 took 0.6 s at 30M events). It is at the instant
    /// `CheckpointFollower.allowance` (an hour) before the newest event, so that a later call's
    /// events within that allowance of the newest do not invalidate it, and it is written only
    /// when it is due (`tailIsDue`: `callWroteCheckpoints` says whether the call wrote spaced
    /// checkpoints). The spacing of the next checkpoints counts from it. Returns how many were
    /// written (0 or 1). A call whose checkpoints the `CheckpointFollower` folded usually has it
    /// already (the follower's `tailDecided`); this is the pass for the others.
    func writeTailCheckpoint(spacing: CheckpointSpacing, callWroteCheckpoints: Bool) throws -> Int {
        let policy = Policy.default
        do {
            let tail = try read { snapshot -> Checkpoint? in
                guard let at = try snapshot.tailInstant(),
                      let (latest, next) = try snapshot.checkpointToGoOnFrom(policy: policy, spacing: spacing) else { return nil }
                if let latest, at <= latest.at { return nil }
                return try snapshot.tailCheckpoint(at: at, from: latest, latestEvents: latest?.events ?? 0, spacing: next,
                                                   callWroteCheckpoints: callWroteCheckpoints)
            }
            guard let tail else { return 0 }
            let bytes = tail.encoded()
            try writeGrowingMap(bytes: bytes.count) { try $0.put(db.checkpoints, Checkpoint.key(tail.at), bytes) }
            return 1
        } catch let error as LMDBError {
            throw LedgerError.storage(error, path: path)
        }
    }

    /// How many `lags` entries `writeRollingTail`'s quick look reads before it leaves the
    /// decision to the fold (about a millisecond's worth).
    static let laggedLookLimit = 1 << 16

    /// After a call too small for a tail (`AppendOptions.tailCheckpointFrom`) and after
    /// `sledger serve`'s group commits: a *rolling* tail, at the instant an hour before the
    /// newest event (as `writeTailCheckpoint`'s), when a quarter of the spacing due after the
    /// latest checkpoint lies between them (`tailIsDue`). Without it a log written only by small
    /// calls or by `serve` ended up to a whole spacing past its last checkpoint (2,097,152
    /// events, about a second for `who` at 100M) until `sledger checkpoint` ran.
    ///
    /// Such tails would lie four times as densely as spaced checkpoints, so each may be replaced
    /// by the next: when the latest checkpoint is a rolling tail less than three quarters of
    /// the spacing due after the one before it (or after the log's start), the new tail is
    /// folded from that one and the rolling tail removed in the same transaction; otherwise it
    /// stays, as one does that a spaced checkpoint follows. So a kept rolling tail lies at least
    /// three quarters of a spacing past the checkpoint before it or has a spaced one after it,
    /// and one more rolling tail may lie at the end. Folded from the checkpoint before the one it replaces, the new
    /// tail's stretch covers the time line the removed one's did, so `who` there still reads a
    /// stretch. Returns how many were written (0 or 1). `write` runs a change in a durable
    /// write transaction, as for `writeCheckpoints`.
    func writeRollingTail(spacing: CheckpointSpacing, write: (Int, (WriteTransaction) throws -> Void) throws -> Void) throws -> Int {
        do {
            guard let plan = try read({ try $0.rollingTail(spacing: spacing) }) else { return 0 }
            let bytes = plan.tail.encoded()
            try write(bytes.count) { txn in
                if let replacing = plan.replacing { _ = try txn.delete(db.checkpoints, Checkpoint.key(replacing)) }
                try txn.put(db.checkpoints, Checkpoint.key(plan.tail.at), bytes)
            }
            return 1
        } catch let error as LMDBError {
            throw LedgerError.storage(error, path: path)
        }
    }

    /// `writeCheckpoints`, with how each change is written left to `write`: it is given about
    /// how many bytes the change stores (0 for removals, which still need pages for the tree
    /// they change) and must run the change in a durable write transaction. The CLI's grows the
    /// map as `append` does; `sledger serve`'s never resizes it under its queries.
    func writeCheckpoints(policy: Policy, spacing: CheckpointSpacing, rebuild: Bool,
                          write: (Int, (WriteTransaction) throws -> Void) throws -> Void) throws -> Int {
        precondition(access == .readWrite, "writing checkpoints needs a ledger opened .readWrite")
        do {
            let unusable = try read { try $0.checkpointsToRemove(policy: policy, rebuild: rebuild) }
            if !unusable.isEmpty {
                try write(0) { txn in for at in unusable { _ = try txn.delete(db.checkpoints, Checkpoint.key(at)) } }
            }
            // None is left after the latest usable one now.
            guard let start = try read({ try $0.checkpointToGoOnFrom(policy: policy, spacing: spacing) }) else { return 0 }
            var fold = CheckpointFold(policy: policy, from: start.latest)
            var events = start.next
            var written = 0
            while let checkpoint = try read({ try fold.next($0, spacing: events) }) {
                let bytes = checkpoint.encoded()
                try write(bytes.count) { try $0.put(db.checkpoints, Checkpoint.key(checkpoint.at), bytes) }
                written += 1
                events = spacing.after(checkpointBytes: bytes.withUnsafeBytes(Checkpoint.spacedBytes))
            }
            return written
        } catch let error as LMDBError {
            throw LedgerError.storage(error, path: path)
        }
    }

    /// Writes checkpoints when the next one is due: what `append` and `import` run after a
    /// call that stored events.
    func writeCheckpointsIfDue(spacing: CheckpointSpacing) throws -> Int {
        try checkpointsDue(spacing: spacing) ? try writeCheckpoints(spacing: spacing, rebuild: false) : 0
    }

    /// `writeRollingTail`, the map grown as `append` grows it: what a call too small for a tail runs after it.
    func writeRollingTail(spacing: CheckpointSpacing) throws -> Int {
        try writeRollingTail(spacing: spacing, write: writeGrowingMap)
    }

    /// Whether spaced checkpoints are due (`LedgerSnapshot.checkpointsDue`).
    func checkpointsDue(spacing: CheckpointSpacing) throws -> Bool {
        try read { try $0.checkpointsDue(spacing: spacing) }
    }

    /// `sledger check`'s part for checkpoints: each must decode and equal a refold of the log
    /// up to its instant (under the default policy, the one they are written for).
    func checkpointProblems() throws -> [CheckReport.Problem] {
        try read { snapshot in
            var problems: [CheckReport.Problem] = []
            let digest = Checkpoint.digest(of: .default)
            var fold = CheckpointFold(policy: .default, from: nil)
            try snapshot.forEachStoredCheckpoint(policy: .default) { at, stored in
                guard let stored else {
                    problems.append(.init(seq: nil, what: "the checkpoint at \(at) is damaged (no fold starts from it; `sledger checkpoint` rebuilds it)"))
                    return
                }
                guard stored.policyDigest == digest else { return }  // another policy's: not checked here
                guard stored.at == at else {
                    problems.append(.init(seq: nil, what: "the checkpoint filed at \(at) says it is at \(stored.at)"))
                    return
                }
                guard let refolded = try fold.next(snapshot, spacing: .max, stopAt: at, stretchFrom: stored.stretch?.from) else { return }
                var expected = refolded
                expected.headSeq = stored.headSeq
                expected.rolling = stored.rolling
                // No stretch (before version 3) is no difference either; one is compared from where it says it starts.
                if stored.stretch == nil { expected.stretch = nil }
                // A number the stored one does not know (0: version 1, or folded on from one) is no difference.
                expected.numbers = zip(stored.numbers, refolded.numbers).map { mine, truth in
                    Checkpoint.Numbers(session: mine.session == 0 ? 0 : truth.session, user: mine.user == 0 ? 0 : truth.user)
                }
                if stored != expected {
                    let stretch = stored.stretch != expected.stretch
                        ? "; its stretch from \(stored.stretch!.from) holds \(stored.stretch!.entries.count) sessions, a refold \(expected.stretch.map { "\($0.entries.count)" } ?? "none")" : ""
                    problems.append(.init(seq: nil, what: "the checkpoint at \(at) differs from a refold of the log (\(stored.events) events and \(stored.sessions.count) active sessions stored, \(refolded.events) and \(refolded.sessions.count) refolded\(stretch))"))
                }
            }
            return problems
        }
    }
}
