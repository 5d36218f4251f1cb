import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Reads and parses the inputs of one append call on a second thread, handing the writer
/// batches of parsed lines in input order.
///
/// Parsing and validation are about a third of an import's work and need no LMDB, so they
/// overlap with the writer's interning, encoding, hashing and LMDB puts. Memory stays bounded:
/// at most `depth` batches of `batchSize` lines are in flight.
final class ParsePipeline: @unchecked Sendable {
    enum Item {
        case beginSource(name: String?)
        case event(Event, line: Int)
        /// A line that stores nothing (blank).
        case skip(line: Int)
        case error(InputError)
        case failure(any Error)
    }

    static let batchSize = 4096
    static let depth = 4

    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()
    private var queue: [[Item]] = []
    private var finished = false
    private var cancelled = false
    private let done = DispatchGroup()

    init(sources: [InputSource], options: AppendOptions, totalBytes: Int?) {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
        done.enter()
        let thread = DispatchQueue(label: "sledger.parse")
        thread.async { [self] in
            self.produce(sources, options, totalBytes)
            self.done.leave()
        }
    }

    deinit {
        pthread_cond_destroy(&changed)
        pthread_mutex_destroy(&mutex)
    }

    /// The next batch, or nil when the reader has finished.
    func next() -> [Item]? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while queue.isEmpty && !finished { pthread_cond_wait(&changed, &mutex) }
        if queue.isEmpty { return nil }
        let batch = queue.removeFirst()
        pthread_cond_broadcast(&changed)
        return batch
    }

    /// Stops the reader and waits for it; call before the sources go away.
    func stop() {
        pthread_mutex_lock(&mutex)
        cancelled = true
        queue.removeAll()
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
        done.wait()
    }

    private func push(_ batch: [Item]) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while queue.count >= ParsePipeline.depth && !cancelled { pthread_cond_wait(&changed, &mutex) }
        if cancelled { return false }
        queue.append(batch)
        pthread_cond_broadcast(&changed)
        return true
    }

    private func finish() {
        pthread_mutex_lock(&mutex)
        finished = true
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }

    private func produce(_ sources: [InputSource], _ options: AppendOptions, _ totalBytes: Int?) {
        defer { finish() }
        var parser = EventParser()
        var batch: [Item] = []
        batch.reserveCapacity(ParsePipeline.batchSize)
        var linesRead = 0, bytesBefore = 0
        do {
            for source in sources {
                try source.rewind()
                batch.append(.beginSource(name: source.name))
                var reader = LineReader(source: source)
                defer { reader.deallocate() }
                while let line = try reader.next() {
                    let number = reader.lineNumber
                    linesRead += 1
                    if linesRead & 0xFFFF == 0, let progress = options.progress {
                        progress(AppendProgress(lines: linesRead, bytesRead: bytesBefore + reader.bytesRead, totalBytes: totalBytes))
                    }
                    do {
                        switch line {
                        case .tooLong:
                            throw InputError(line: number, key: nil, problem: "longer than \(EventParser.maxLineBytes) bytes")
                        case .text(let bytes):
                            if let event = try parser.parse(bytes, lineNumber: number) {
                                batch.append(.event(event, line: number))
                            } else {
                                batch.append(.skip(line: number))
                            }
                        }
                    } catch var error as InputError {
                        error.file = source.name
                        batch.append(.error(error))
                        if !options.allErrors {
                            _ = push(batch)
                            return
                        }
                    }
                    if batch.count >= ParsePipeline.batchSize {
                        guard push(batch) else { return }
                        batch = []
                        batch.reserveCapacity(ParsePipeline.batchSize)
                    }
                }
                bytesBefore += reader.bytesRead
            }
        } catch {
            batch.append(.failure(error))
        }
        _ = push(batch)
    }
}
