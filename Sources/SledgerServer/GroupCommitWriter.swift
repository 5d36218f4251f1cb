import Foundation
import SessionLedger

/// The server's only writer: requests queue here, and one thread commits everything queued
/// in one LMDB transaction (group commit), so concurrent requests share a transaction and
/// its sync while each acknowledgement still means "on disk".
///
/// Each request stays all or nothing (`Ledger.appendGroup`): a request refused for an id
/// conflict stores nothing and does not affect the others of its group. A storage failure
/// (disk full, damage) fails every request of the group, and none of them is stored.
public final class GroupCommitWriter: @unchecked Sendable {
    /// What the writer did with one request.
    public struct Receipt: Sendable {
        public var outcome: GroupOutcome
        /// The ledger's head after the group that carried the request.
        public var head: HashChain
    }

    /// The writer is stopping: the request was not queued.
    public struct Stopping: Error {}

    private struct Pending {
        var batch: EventBatch
        var done: @Sendable (Result<Receipt, any Error>) -> Void
    }

    /// How much a group (or a request) may hold: events and bytes of NDJSON.
    public struct Limit: Equatable, Sendable {
        public var events: Int
        public var bytes: Int
    }

    /// Through the map a group is cut at 65,536 events (a larger request still goes alone),
    /// and the body's 64 MiB bounds a request.
    static let mappedGroup = Limit(events: 65_536, bytes: .max)
    /// With buffered writes a group's changed pages wait in memory until its commit, and a
    /// request cannot be split across groups, so both are bounded: by the events a buffered
    /// `append` may hold (the index pages they change: 208 MiB for 15,000 into 100M events)
    /// and by 16 MiB of NDJSON (the records' own pages: a line may hold up to 64 KiB).
    static let bufferedGroup = Limit(events: Ledger.Writes.bufferedCallLines, bytes: 16 << 20)

    /// The most a group holds.
    let groupLimit: Limit
    /// The most one request may hold beyond the body's 64 MiB (nil: nothing more).
    public let requestLimit: Limit?

    /// `requestLimit` for a ledger whose transactions reach the file this way.
    static func requestLimit(_ writes: Ledger.Writes) -> Limit? {
        writes == .buffered ? bufferedGroup : nil
    }

    /// How many requests of the queue, each of `events` events in `bytes` bytes, the next
    /// group takes: as many as fit in `limit` together, and always the first.
    static func groupSize(_ requests: [(events: Int, bytes: Int)], limit: Limit) -> Int {
        var events = 0, bytes = 0
        var take = 0
        while take < requests.count,
              take == 0 || (events + requests[take].events <= limit.events && bytes + requests[take].bytes <= limit.bytes) {
            events += requests[take].events
            bytes += requests[take].bytes
            take += 1
        }
        return take
    }

    private let access: LedgerAccess
    /// Events stored since checkpoints were last looked at (by this thread only).
    private var sinceCheckpoints = 0
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var stopping = false
    private var running = true
    private var thread: Thread?
    /// A planner thread is folding checkpoints (`planCheckpoints`); set by the writer, cleared
    /// by the planner, under `condition`.
    private var planning = false
    /// What the planner folded, for the writer to store before its next group.
    private var planned: CheckpointPlan?

    public init(access: LedgerAccess) {
        self.access = access
        requestLimit = GroupCommitWriter.requestLimit(access.ledger.writes)
        groupLimit = requestLimit ?? GroupCommitWriter.mappedGroup
        let thread = Thread { self.loop() }  // the thread holds the writer until `stop`
        thread.name = "sledger.writer"
        self.thread = thread
        thread.start()
    }

    /// Queues `batch` and returns once its group is committed (durable) or refused.
    public func submit(_ batch: EventBatch) async throws -> Receipt {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard !stopping else {
                continuation.resume(throwing: Stopping())
                return
            }
            queue.append(Pending(batch: batch, done: { continuation.resume(with: $0) }))
            condition.signal()
        }
    }

    /// Refuses new requests, commits every queued one, and waits for the writer thread to end.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            // Stopping waits for a plan being folded, to store it.
            while queue.isEmpty && planned == nil && (!stopping || planning) { condition.wait() }
            if let plan = planned {
                planned = nil
                condition.unlock()
                store(plan)
                continue
            }
            if queue.isEmpty {
                running = false
                condition.broadcast()
                condition.unlock()
                return
            }
            let take = GroupCommitWriter.groupSize(queue.map { ($0.batch.count, $0.batch.byteCount) }, limit: groupLimit)
            let group = Array(queue.prefix(take))
            queue.removeFirst(take)
            condition.unlock()
            commit(group)
        }
    }

    /// Checkpoints, as `append` writes them when one is due, folded beside the writer: a
    /// planner thread folds them in its own snapshot (`Ledger.planCheckpoints`) while groups go
    /// on committing, and this thread stores the plan before its next group, less any checkpoint
    /// that an event stored meanwhile would make wrong (`Ledger.storeCheckpoints`). Ingest no
    /// longer pauses for the fold (seconds per million events); one plan is folded at a time.
    /// Checkpoints are a cache: a failure is reported and ingest goes on.
    ///
    /// The planner holds the gate shared while it folds, so a map growth meanwhile would wait
    /// for the fold, and ingest and new queries behind it. So the map is grown first when less
    /// than half of a growth step is left: a fold at 100M events covers a few tens of MB of
    /// ingest, a step there a quarter of the ledger.
    private func startPlanning() {
        do {
            let step = try growthStep(access.ledger)
            if try access.ledger.mapRoom() < step / 2 { try grow(step) }
        } catch {
            GroupCommitWriter.report(error)
            return
        }
        condition.lock()
        defer { condition.unlock() }
        // One plan at a time: the next look comes after it.
        guard !planning, planned == nil else { return }
        planning = true
        sinceCheckpoints = 0
        let thread = Thread { [access] in
            var plan: CheckpointPlan?
            do {
                plan = try access.shared { try $0.planCheckpoints() }
            } catch {
                GroupCommitWriter.report(error)
            }
            self.condition.lock()
            if let plan, !plan.isEmpty { self.planned = plan }
            self.planning = false
            self.condition.broadcast()
            self.condition.unlock()
        }
        thread.name = "sledger.checkpoints"
        thread.start()
    }

    /// Stores a plan; when it stopped at its limit and all of it was stored, folds the next
    /// (unless stopping: a plan begun before `stop` is stored, no more are begun).
    private func store(_ plan: CheckpointPlan) {
        do {
            let stored = try access.whileReading { ledger, grow in try ledger.storeCheckpoints(plan, grow: grow) }
            condition.lock()
            let stopping = self.stopping
            condition.unlock()
            if plan.reachedLimit, stored == plan.count, !stopping { startPlanning() }
        } catch {
            GroupCommitWriter.report(error)
        }
    }

    private static func report(_ error: any Error) {
        FileHandle.standardError.write(Data("sledger serve: writing checkpoints failed (the events are stored): \(error)\n".utf8))
    }

    /// Grows the map to hold at least `need` more bytes, in steps of at least 64 MiB or a
    /// quarter of the ledger, so resizes (which wait for every transaction of the process to
    /// end: queries, and a plan being folded) stay rare.
    private func grow(_ need: Int) throws {
        try access.exclusively { try $0.reserveRoom(max(need, try growthStep($0))) }
    }

    /// The least a growth adds: 64 MiB or a quarter of the ledger.
    private func growthStep(_ ledger: Ledger) throws -> Int {
        max(64 << 20, (try ledger.diskUsage().usedBytes) / 4)
    }

    private func commit(_ group: [Pending]) {
        let batches = group.map(\.batch)
        // Records and indexes take about 1.7 times the NDJSON (docs/PERFORMANCE.md): leave twice.
        let need = 2 * batches.reduce(0) { $0 + $1.byteCount } + (1 << 20)
        do {
            if try access.ledger.mapRoom() < need { try grow(need) }
            var result: (outcomes: [GroupOutcome], head: HashChain)
            while true {
                do {
                    result = try access.shared { try $0.appendGroup(batches) }
                    break
                } catch let error as LedgerError where error.isMapFull {
                    // Nothing was stored: grow (past the current map) and run the group again.
                    try access.exclusively { try $0.reserveRoom(2 * (try $0.mapRoom()) + need) }
                }
            }
            for (pending, outcome) in zip(group, result.outcomes) {
                pending.done(.success(Receipt(outcome: outcome, head: result.head)))
                if case .stored(let imported, _) = outcome { sinceCheckpoints += imported }
            }
            // At most one look a stretch: whether one is due reads the latest checkpoint's header.
            if sinceCheckpoints >= CheckpointSpacing.adaptive.minimum { startPlanning() }
        } catch {
            for pending in group { pending.done(.failure(error)) }
        }
    }
}
