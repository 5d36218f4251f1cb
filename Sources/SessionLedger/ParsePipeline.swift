import Dispatch

/// Reads and parses the inputs of one append call on a second thread, handing the writer
/// batches of parsed lines in input order.
///
/// Parsing and validation are about a third of an import's work and need no LMDB, so they
/// overlap with the writer's encoding, hashing and LMDB puts; so do numbering the names and
/// hashing the ids (`EventKeys`). Memory stays bounded:
/// at most `depth` batches of `batchSize` lines are in flight.
final class ParsePipeline: @unchecked Sendable {
    enum Item {
        case beginSource(name: String?)
        /// `keys` only when the pipeline feeds a writer.
        case event(Event, line: Int, keys: EventKeys?)
        /// A line that stores nothing (blank).
        case skip(line: Int)
        case error(InputError)
        case failure(any Error)
    }

    static let batchSize = 4096
    static let depth = 4

    private let queue = BatchQueue<Item>(depth: ParsePipeline.depth)
    private let done = DispatchGroup()

    /// With `forWriter`, each event comes with its `EventKeys`.
    init(sources: [InputSource], options: AppendOptions, totalBytes: Int?, forWriter: Bool = true) {
        done.enter()
        let thread = DispatchQueue(label: "sledger.parse")
        thread.async { [self] in
            self.produce(sources, options, totalBytes, forWriter)
            self.done.leave()
        }
    }

    /// The next batch, reversed for taking with `popLast()` (`BatchQueue.nextToTake`), or nil
    /// when the reader has finished.
    func nextToTake() -> [Item]? { queue.nextToTake() }

    /// Stops the reader and waits for it; call before the sources go away.
    func stop() {
        queue.cancel()
        done.wait()
    }

    private func push(_ batch: [Item]) -> Bool { queue.push(batch) }

    private func finish() { queue.finish() }

    private func produce(_ sources: [InputSource], _ options: AppendOptions, _ totalBytes: Int?, _ forWriter: Bool) {
        defer { finish() }
        var parser = EventParser()
        var names = CallNames(limit: options.callNamesLimit)
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
                                batch.append(.event(event, line: number, keys: forWriter ? names.keys(for: event) : nil))
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
