#if canImport(Glibc)
import Glibc
#endif

/// A bounded queue of batches between two threads: one pushes, one takes, in order.
///
/// At most `depth` batches wait, so the pushing side blocks rather than outrunning the taking
/// side without bound. Either side may end it: `finish` (nothing more will come; what waits is
/// still taken) or `cancel` (drop what waits and refuse more).
final class BatchQueue<Element>: @unchecked Sendable {
    private let depth: Int
    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()
    private var queue: [[Element]] = []
    private var finished = false
    private var cancelled = false

    init(depth: Int) {
        self.depth = depth
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
    }

    deinit {
        pthread_cond_destroy(&changed)
        pthread_mutex_destroy(&mutex)
    }

    /// Waits for room, then queues `batch`; false (and nothing queued) once cancelled.
    @discardableResult
    func push(_ batch: [Element]) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while queue.count >= depth && !cancelled { pthread_cond_wait(&changed, &mutex) }
        if cancelled { return false }
        queue.append(batch)
        pthread_cond_broadcast(&changed)
        return true
    }

    /// The next batch, waiting for one; nil once finished and drained, or cancelled.
    private func next() -> [Element]? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while queue.isEmpty && !finished && !cancelled { pthread_cond_wait(&changed, &mutex) }
        if queue.isEmpty || cancelled { return nil }
        let batch = queue.removeFirst()
        pthread_cond_broadcast(&changed)
        return batch
    }

    /// The next batch (waiting for one; nil once finished and drained, or cancelled), reversed,
    /// so that `popLast()` takes its elements first to last, each moved out of the batch. A
    /// `for` loop over a batch copies each element, which retains every string of an event,
    /// and the batch then releases them all (a tenth of an import's writer samples, though
    /// mostly the cache misses of reading what another thread wrote, which remain:
    /// docs/PERFORMANCE.md).
    func nextToTake() -> [Element]? {
        guard var batch = next() else { return nil }
        batch.withUnsafeMutableBufferPointer { $0.reverse() }  // by moves (`Array.reverse()` copies)
        return batch
    }

    /// Nothing more will be pushed.
    func finish() {
        pthread_mutex_lock(&mutex)
        finished = true
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }

    /// Whether a `push` now would wait for the taking side (it is behind by `depth` batches).
    var isFull: Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return queue.count >= depth && !cancelled
    }

    /// Whether `cancel` was called.
    var isCancelled: Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return cancelled
    }

    /// Drops what waits and refuses more; wakes both sides.
    func cancel() {
        pthread_mutex_lock(&mutex)
        cancelled = true
        queue.removeAll()
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }
}
