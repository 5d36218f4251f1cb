import LMDB

/// Which checkpoints are due, worked out in one snapshot, and storing them later in another
/// transaction: how `sledger serve` folds checkpoints beside its writer instead of pausing
/// ingest for the fold (docs/SERVER.md).
///
/// A checkpoint at C folded in a snapshot whose head was H is still right after more events
/// are stored unless one of them has `at <= C`: those after H are the only events the fold
/// did not see. `storeCheckpoints` therefore reads the earliest `at` stored after H
/// (`LedgerSnapshot.earliestInstant(after:)`) in its own write transaction and stores only the
/// planned checkpoints before it. Every later one was folded on from a dropped one, so it goes
/// too; a later plan folds them again.
public struct CheckpointPlan: Sendable {
    /// One checkpoint to store.
    struct Put: Sendable {
        var at: Instant
        var bytes: [UInt8]
        /// The rolling tail it replaces (removed in the same transaction), if any.
        var replacing: Instant?
    }

    /// The head of the snapshot the plan was folded in.
    let head: UInt64
    /// Checkpoints no fold may use (damaged, another policy's) after the latest usable one:
    /// removed before the new ones are stored, as `writeCheckpoints` removes them.
    let unusable: [Instant]
    /// In time order: spaced checkpoints, then a rolling tail.
    let puts: [Put]
    /// The plan stopped at its limit of spaced checkpoints: more may be due once it is stored.
    public let reachedLimit: Bool

    public var isEmpty: Bool { unusable.isEmpty && puts.isEmpty }
    /// How many checkpoints it would store.
    public var count: Int { puts.count }
}

extension Ledger {
    /// What `writeCheckpointsIfDue` would write now, folded in one snapshot and not stored:
    /// spaced checkpoints when they are due (`checkpointsDue`; at most `limit`, each up to
    /// about 17 MB encoded at 100,000 users), then a rolling tail when one is due after them
    /// (`writeRollingTail`'s rule). Reads only; safe beside a writer.
    public func planCheckpoints(spacing: CheckpointSpacing = .adaptive, limit: Int = 2) throws -> CheckpointPlan {
        let policy = Policy.default
        do {
            return try read { snapshot in
                let head = try snapshot.eventCount()
                var unusable: [Instant] = []
                var puts: [CheckpointPlan.Put] = []
                var reachedLimit = false
                if try snapshot.checkpointsDue(spacing: spacing) {
                    unusable = try snapshot.checkpointsToRemove(policy: policy, rebuild: false)
                    // The latest usable one: the unusable ones after it are as good as removed.
                    let latest = try snapshot.checkpointView(atOrBefore: .latest, policy: policy)
                    var fold = CheckpointFold(policy: policy, from: latest?.decoded(policy: policy, stretch: false))
                    var events = spacing.after(checkpointBytes: latest.map { Checkpoint.spacedBytes($0.bytes) })
                    var last: (checkpoint: Checkpoint, next: Int)?
                    while puts.count < limit, let checkpoint = try fold.next(snapshot, spacing: events) {
                        let bytes = checkpoint.encoded()
                        puts.append(.init(at: checkpoint.at, bytes: bytes, replacing: nil))
                        events = spacing.after(checkpointBytes: bytes.withUnsafeBytes(Checkpoint.spacedBytes))
                        last = (checkpoint, events)
                    }
                    reachedLimit = puts.count == limit
                    // The rolling tail `writeRollingTail` would write once these are stored:
                    // folded from the last of them, which is no rolling tail to replace.
                    if !reachedLimit, let last, let at = try snapshot.tailInstant(), at > last.checkpoint.at,
                       var tail = try snapshot.tailCheckpoint(at: at, from: last.checkpoint, latestEvents: last.checkpoint.events,
                                                              spacing: last.next, callWroteCheckpoints: false) {
                        tail.rolling = true
                        puts.append(.init(at: tail.at, bytes: tail.encoded(), replacing: nil))
                    }
                }
                if unusable.isEmpty, puts.isEmpty, let plan = try snapshot.rollingTail(spacing: spacing) {
                    puts.append(.init(at: plan.tail.at, bytes: plan.tail.encoded(), replacing: plan.replacing))
                }
                return CheckpointPlan(head: head, unusable: unusable, puts: puts, reachedLimit: reachedLimit)
            }
        } catch let error as LMDBError {
            throw LedgerError.storage(error, path: path)
        }
    }

    /// Stores what `plan` still gets right, in one durable write transaction that `write` runs
    /// (given about how many bytes it stores, as for `writeCheckpoints`): the unusable ones go,
    /// and the planned checkpoints before the earliest `at` stored after the plan's snapshot
    /// are put. Returns how many were put.
    public func storeCheckpoints(_ plan: CheckpointPlan, write: (Int, (WriteTransaction) throws -> Void) throws -> Void) throws -> Int {
        guard !plan.isEmpty else { return 0 }
        var stored = 0
        do {
            try write(plan.puts.reduce(0) { $0 + $1.bytes.count }) { txn in
                stored = 0
                let snapshot = LedgerSnapshot(txn: txn, db: db)
                let earliest = try plan.puts.first.flatMap { try snapshot.earliestInstant(after: plan.head, lookingFor: $0.at) }
                for at in plan.unusable { _ = try txn.delete(db.checkpoints, Checkpoint.key(at)) }
                for put in plan.puts {
                    if let earliest, earliest <= put.at { break }
                    if let replacing = put.replacing { _ = try txn.delete(db.checkpoints, Checkpoint.key(replacing)) }
                    try txn.put(db.checkpoints, Checkpoint.key(put.at), put.bytes)
                    stored += 1
                }
            }
        } catch let error as LMDBError {
            throw LedgerError.storage(error, path: path)
        }
        return stored
    }
}

extension LedgerSnapshot {
    /// Whether the events past the latest checkpoint are as many as `spacing` puts between it
    /// and the next. Reads only the latest one's header and size (decoding it whole cost an
    /// append tens of milliseconds on a large ledger); a damaged one then merely makes the
    /// write come once `writeCheckpoints` skips it.
    func checkpointsDue(spacing: CheckpointSpacing) throws -> Bool {
        // One of another policy, or damaged in its header, counts as none.
        let latest = try newestCheckpointHeader(digest: Checkpoint.digest(of: .default)).flatMap { header in header.events.map { ($0, header.spacedBytes) } }
        let events = try eventCount()
        let past = events - min(latest?.0 ?? 0, events)
        return past >= UInt64(spacing.after(checkpointBytes: latest?.1))
    }

    /// The checkpoints `writeCheckpoints` removes before it folds: without `rebuild`, those
    /// after the latest one `policy` may use (all when there is none); with it, every one from
    /// the first unusable one (damaged, another policy's, or without numbers or stretch) on,
    /// and a rolling tail at the end, which the spaced ones and the tail written then replace.
    func checkpointsToRemove(policy: Policy, rebuild: Bool) throws -> [Instant] {
        let digest = Checkpoint.digest(of: policy)
        let instants = try checkpointInstants()
        var firstUnusable: Instant?
        if rebuild {
            var rolling: Instant?  // the last one's instant, when it is a rolling tail
            try forEachStoredCheckpoint(policy: policy) { at, checkpoint in
                if firstUnusable == nil, checkpoint?.policyDigest != digest || checkpoint?.at != at || checkpoint?.isOutdated != false {
                    firstUnusable = at
                }
                rolling = checkpoint?.rolling == true ? at : nil
            }
            if firstUnusable == nil { firstUnusable = rolling }
        } else if let latest = try checkpointView(atOrBefore: .latest, policy: policy) {
            firstUnusable = instants.first { $0 > latest.at }
        } else {
            firstUnusable = instants.first
        }
        return firstUnusable.map { first in instants.filter { $0 >= first } } ?? []
    }

    /// Where a tail checkpoint goes, rolling or not: an hour (`CheckpointFollower.allowance`)
    /// before the newest event; nil for an empty ledger.
    func tailInstant() throws -> Instant? {
        guard let newest = try latestInstant() else { return nil }
        let at = newest.saturatingAdding(Duration(nanoseconds: -CheckpointFollower.allowance.nanoseconds))
        return at < newest ? at : nil
    }

    /// The tail checkpoint at `at`, folded from `from` (nil: the first event), when it is due
    /// (`Ledger.tailIsDue`) after the latest checkpoint, which folds `latestEvents` events and
    /// has `spacing` due after it. The default policy's, like every tail.
    func tailCheckpoint(at: Instant, from: Checkpoint?, latestEvents: UInt64, spacing: Int,
                        callWroteCheckpoints: Bool) throws -> Checkpoint? {
        var fold = CheckpointFold(policy: .default, from: from)
        guard let tail = try fold.next(self, spacing: .max, stopAt: at),
              Ledger.tailIsDue(eventsSinceLatest: Int(tail.events - latestEvents), spacing: spacing, callWroteCheckpoints: callWroteCheckpoints)
        else { return nil }
        return tail
    }

    /// The rolling tail `Ledger.writeRollingTail` writes when one is due, and the rolling tail
    /// it replaces, if any (nil: none due).
    func rollingTail(spacing: CheckpointSpacing) throws -> (tail: Checkpoint, replacing: Instant?)? {
        let policy = Policy.default
        guard let at = try tailInstant() else { return nil }
        // First what the headers and a binary search tell, so that a call or group
        // commit with no tail due reads one checkpoint's header, not its sessions.
        let head = try eventCount()
        let last = try newestCheckpointHeader(digest: Checkpoint.digest(of: policy))
        if let last, at <= last.at { return nil }
        let through = (try firstSeq(atOrAfter: at.saturatingAdding(Duration(nanoseconds: 1)), head: head) ?? head + 1) - 1
        let due = Ledger.tailThreshold(spacing: spacing.after(checkpointBytes: last?.spacedBytes), callWroteCheckpoints: false)
        var since = Int(through) - Int(min(last?.events ?? 0, through))
        if since < due {
            // Events stored after those may still lie at or before `at` when they are
            // lagged (a backfill): their `lags` entries say, `at` in each. Counted until
            // enough; past `laggedLookLimit` entries (events coming slightly out of order
            // for hours at a high rate) the fold below decides.
            try txn.withCursor(db.lags) { cursor in
                var looked = 0
                try cursor.forEach(from: cursor.seek(atLeast: Key.seq(through + 1))) { stored in
                    looked += 1
                    guard let entry = try? LagEntry.read(stored).entry, looked <= Ledger.laggedLookLimit else {
                        since = due
                        return false
                    }
                    if entry.at <= at { since += 1 }
                    return since < due
                }
            }
            guard since >= due else { return nil }
        }
        // Then the checkpoints themselves, read in place: only the one the fold starts
        // from is decoded. None when unusable ones lie after the latest usable one:
        // `writeCheckpoints` removes those first.
        guard let (latest, next) = try checkpointViewToGoOnFrom(policy: policy, spacing: spacing) else { return nil }
        var from = latest
        var replacing: Instant?
        if let latest, latest.rolling {
            let before = try checkpointView(atOrBefore: latest.at.saturatingAdding(Duration(nanoseconds: -1)), policy: policy)
            let spacingAfter = spacing.after(checkpointBytes: before.map { Checkpoint.spacedBytes($0.bytes) })
            if 4 * Int(latest.events - (before?.events ?? 0)) < 3 * spacingAfter {
                (from, replacing) = (before, latest.at)
            }
        }
        guard var tail = try tailCheckpoint(at: at, from: from?.decoded(policy: policy, stretch: false), latestEvents: latest?.events ?? 0,
                                            spacing: next, callWroteCheckpoints: false) else { return nil }
        tail.rolling = true
        return (tail, replacing)
    }

    /// The earliest `at` of the events stored after `seq` (nil when there are none): the `at`
    /// of `seq + 1`, or an earlier one that `lags` lists after it. No unlagged event after
    /// `seq + 1` can be earlier: its `at` is at least the largest before it, so at least that
    /// of `seq + 1`. Stops early once it has found one at or before `lookingFor`.
    func earliestInstant(after seq: UInt64, lookingFor: Instant? = nil) throws -> Instant? {
        guard seq < (try eventCount()) else { return nil }
        guard let record = try txn.get(db.log, Key.seq(seq + 1)) else {
            throw LedgerError.damaged(seq: seq + 1, problem: "the log does not hold seq \(seq + 1), which the head covers")
        }
        var earliest = try verifiedHeader(of: record, seq: seq + 1).at
        if let lookingFor, earliest <= lookingFor { return earliest }
        try txn.withCursor(db.lags) { cursor in
            try cursor.forEach(from: cursor.seek(atLeast: Key.seq(seq + 2))) { stored in
                earliest = min(earliest, try LagEntry.read(stored).entry.at)
                return lookingFor.map { earliest > $0 } ?? true
            }
        }
        return earliest
    }
}
