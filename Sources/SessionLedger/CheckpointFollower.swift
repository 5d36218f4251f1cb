import Dispatch
import HeapModule
#if canImport(Glibc)
import Glibc
#endif

/// Folds checkpoints on another core while a large append call is still storing its events,
/// so that they are written in the call's own transaction instead of by a second pass over
/// the log after it (which took a third of a 1M-event import).
///
/// The checkpoints are the ones `Ledger.writeCheckpoints(rebuild: false)` would write after
/// the call: the fold starts from the latest checkpoint, reads the events stored after it in
/// a read transaction (the state before the call), then takes the call's events as the writer
/// stores them. A fold goes in (`at`, `seq`) order, and an event may come after a later one
/// (a late event), so the call's events wait in a heap and are folded once they are
/// `allowance` older than the newest event seen (or when `capacity` wait). An event older
/// than one already folded ends the follower (at the start, every event stored before the
/// call is folded, so any event older than the newest of them does): the writer removes what
/// it stored, and the call writes its checkpoints afterwards as before.
///
/// With `tail`, it also takes the call's tail checkpoint (`Ledger.writeTailCheckpoint`): once
/// every event is in, the events still waiting are the last allowance's, so the fold has
/// reached the tail's instant (the newest event's less the allowance) on its own. Without it,
/// the pass after the call folded again from the latest checkpoint to that instant, up to
/// 2,097,152 events on one core, and wrote it in a durable transaction of its own.
final class CheckpointFollower: @unchecked Sendable {
    /// Events handed over at a time (fewer in tests).
    static let batchSize = 1024
    let batchSize: Int
    /// How much later than the newest event an event may come and still be folded in order.
    static let allowance = Duration(nanoseconds: 3_600_000_000_000)
    /// The most events kept waiting: past it the earliest is folded whatever its age.
    static let capacity = 1 << 16

    private let input = BatchQueue<StoredEvent>(depth: 8)
    private var pending: [StoredEvent] = []
    private var mutex = pthread_mutex_t()
    /// Encoded checkpoints not yet taken by the writer, with their keys.
    private var ready: [(key: [UInt8], bytes: [UInt8])] = []
    private var failed = false
    /// Whether the fold is capturing a checkpoint (0.2-0.5 s at a quarter of a million sessions).
    private var capturing = false
    private let done = DispatchGroup()
    /// Whether to take the tail checkpoint.
    private let tail: Bool
    /// Whether the tail checkpoint was taken or found not due, so that the pass after the call
    /// need not look (read once `finish` has returned). False when the fold is past the tail's
    /// instant once every event is in (the ledger's newest event or latest checkpoint before
    /// the call lies after it, or more than `capacity` events came in the last allowance): the
    /// pass after the call then writes it as before.
    private(set) var tailDecided = false
    /// Checkpoints folded for this call so far (the fold's thread alone reads and writes it).
    private var published = 0

    init(ledger: Ledger, spacing: CheckpointSpacing, tail: Bool = false, batchSize: Int = CheckpointFollower.batchSize) {
        self.batchSize = batchSize
        self.tail = tail
        pthread_mutex_init(&mutex, nil)
        pending.reserveCapacity(batchSize)
        done.enter()
        DispatchQueue(label: "sledger.checkpoints").async { [self] in
            do {
                try self.fold(ledger, spacing)
            } catch {
                pthread_mutex_lock(&mutex)
                failed = true
                pthread_mutex_unlock(&mutex)
                input.cancel()  // the writer must not wait on a queue nobody takes from
            }
            self.done.leave()
        }
    }

    deinit { pthread_mutex_destroy(&mutex) }

    // MARK: - The writer's side

    /// Hands over the next stored event; false when the follower has given up.
    func add(_ stored: consuming StoredEvent) -> Bool {
        pending.append(stored)
        guard pending.count >= batchSize else { return true }
        defer { pending.removeAll(keepingCapacity: true) }
        return input.push(pending)
    }

    /// Whether the next `add` hands over a batch and would wait for it: the follower is
    /// behind, folding or capturing a checkpoint. The writer may do its own deferred work
    /// first (`AppendBatch` files its id claims), on the core that would otherwise wait.
    var nextAddWaits: Bool { pending.count + 1 >= batchSize && input.isFull }

    /// Whether the follower is capturing a checkpoint: a wait on it is then a long one.
    var isCapturing: Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return capturing
    }

    private func setCapturing(_ value: Bool) {
        pthread_mutex_lock(&mutex)
        capturing = value
        pthread_mutex_unlock(&mutex)
    }

    /// The checkpoints folded so far and not yet taken.
    func take() -> [(key: [UInt8], bytes: [UInt8])] {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        defer { ready.removeAll() }
        return ready
    }

    /// Hands over the events not yet handed over and ends the stream; the fold goes on
    /// (`finish` waits for it), so the writer can file what it deferred meanwhile.
    func endInput() {
        if !pending.isEmpty { input.push(pending) }
        pending.removeAll()
        input.finish()
    }

    /// Ends the stream (if `endInput` has not) and waits for the fold: true when it folded
    /// every event handed over.
    func finish() -> Bool {
        endInput()
        done.wait()
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return !failed
    }

    /// Stops the fold and waits for it (what is folded is dropped by the writer).
    func cancel() {
        input.cancel()
        done.wait()
    }

    // MARK: - The follower's side

    private struct NotFollowing: Error {}

    private func fold(_ ledger: Ledger, _ spacing: CheckpointSpacing) throws {
        var fold: CheckpointFold?
        var events = 0
        /// The latest instant folded.
        var floor: Instant?
        try ledger.read { snapshot in
            // The state before the call: the same the writer's transaction began from.
            // Unusable checkpoints after the latest usable one are for the pass after the call to remove.
            guard let (latest, next) = try snapshot.checkpointToGoOnFrom(policy: .default, spacing: spacing) else { throw NotFollowing() }
            events = next
            var stored = CheckpointFold(policy: .default, from: latest)
            while let checkpoint = try stored.next(snapshot, spacing: events) {
                events = publish(checkpoint, spacing)
            }
            fold = stored
            floor = [latest?.at, try snapshot.latestInstant()].compactMap { $0 }.max()
        }
        guard var fold else { throw NotFollowing() }
        var waiting = Heap<Waiting>()
        var held = HeldEvents()
        var newest: Instant?
        var received: UInt64 = 0
        /// Folds the earliest waiting event; true when that ended a stretch (a checkpoint published).
        @discardableResult
        func foldNext() throws -> Bool {
            let next = waiting.removeMin()
            let stored = held.take(next.place)
            // Everything up to `floor` is folded (and maybe in a checkpoint): too late for this one.
            if let floor, next.at < floor { throw NotFollowing() }
            floor = next.at
            let capture = fold.captures(at: next.at)
            if capture { setCapturing(true) }
            defer { if capture { setCapturing(false) } }
            guard let checkpoint = fold.step(stored, spacing: events, head: received) else { return false }
            events = publish(checkpoint, spacing)
            _ = fold.step(stored, spacing: events, head: received)
            return true
        }
        while var batch = input.nextToTake() {
            while let stored = batch.popLast() {
                received = stored.seq
                let at = stored.event.at
                if let floor, at < floor { throw NotFollowing() }
                waiting.insert(Waiting(at: at, seq: stored.seq, place: held.put(stored)))
                if newest.map({ $0 < at }) ?? true { newest = at }
                while let earliest = waiting.min, let newest,
                      waiting.count > CheckpointFollower.capacity || earliest.at.saturatingAdding(CheckpointFollower.allowance) < newest {
                    try foldNext()
                }
            }
        }
        // (`input.nextToTake()` returns nil once cancelled; so does this drain, between batches.)
        var tailAt = tail ? newest.map { $0.saturatingAdding(Duration(nanoseconds: -CheckpointFollower.allowance.nanoseconds)) } : nil
        var tailCheckpoint: Checkpoint?
        while true {
            if let t = tailAt, waiting.min.map({ $0.at > t }) ?? true {
                // Every event at or before the tail's instant is folded: take it now, as the
                // pass after the call would have folded it, unless the fold is already past it.
                tailAt = nil
                if floor.map({ $0 <= t }) ?? true {
                    if let due = fold.captureDue(head: received) { events = publish(due, spacing) }
                    tailCheckpoint = fold.tail(at: t, spacing: events, head: received, callWroteCheckpoints: published > 0)
                    tailDecided = true
                }
            }
            guard !waiting.isEmpty else { break }
            if waiting.count % batchSize == 0, input.isCancelled { return }
            // A spaced checkpoint after the tail's instant leaves no tail (as after the call).
            if try foldNext() { tailCheckpoint = nil }
        }
        if let tailCheckpoint { _ = publish(tailCheckpoint, spacing) }
    }

    /// A stored event waiting to be folded, ordered as the fold reads them: its place in
    /// `HeldEvents` and the two numbers it is ordered by. The heap moves these 24 bytes, not
    /// the events: a `StoredEvent` is a large value whose copies retain each of its strings.
    private struct Waiting: Comparable {
        let at: Instant
        let seq: UInt64
        let place: Int
        static func < (a: Waiting, b: Waiting) -> Bool { (a.at, a.seq) < (b.at, b.seq) }
        static func == (a: Waiting, b: Waiting) -> Bool { a.seq == b.seq }
    }

    /// The waiting events, each in a place of its own until it is taken; places are reused.
    private struct HeldEvents {
        private var places: [StoredEvent?] = []
        private var free: [Int] = []

        /// Holds `stored`; returns its place.
        mutating func put(_ stored: consuming StoredEvent) -> Int {
            if let place = free.popLast() {
                places[place] = stored
                return place
            }
            places.append(stored)
            return places.count - 1
        }

        /// The event at `place`, which is free again.
        mutating func take(_ place: Int) -> StoredEvent {
            let stored = places[place].take()!
            free.append(place)
            return stored
        }
    }

    /// Queues `checkpoint` for the writer; returns the spacing to the next one.
    private func publish(_ checkpoint: Checkpoint, _ spacing: CheckpointSpacing) -> Int {
        published += 1
        let bytes = checkpoint.encoded()
        pthread_mutex_lock(&mutex)
        ready.append((Checkpoint.key(checkpoint.at), bytes))
        pthread_mutex_unlock(&mutex)
        return spacing.after(checkpointBytes: bytes.withUnsafeBytes(Checkpoint.spacedBytes))
    }
}
