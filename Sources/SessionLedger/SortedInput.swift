import HeapModule

/// The events of an NDJSON source, folded in (`at`, `seq`) order without holding them all:
/// what `replay --input FILE` verifies. (`InputLog` holds its events; a file of 100M events
/// would need tens of GiB that way.)
///
/// The source is read once, with the strict reader of `append` (a bad line is reported by its
/// number and key, and nothing is folded). Events are kept as bytes (`EventBytes`) in runs of
/// about `runBytes`; each run is sorted by (`at`, `seq`) when it is full and, when there is
/// more than one, written to a `TemporaryFile` (in `TMPDIR`). A walk in time order merges the
/// runs, reading them back through the file's map: file pages, not the process's own memory.
/// A source with less than `runBytes` of events never touches the disk (a pipe is not copied
/// either: the source is read once). `seq` is the event's place among the source's events
/// (blank lines not counted), as in `InputLog`; there is no `recorded`, so `future-event` is
/// not checked. Which events are late is decided as they are read, for the `max_skew` given:
/// memory in proportion to the late events only. Users and sessions are numbered as a ledger
/// numbers them (`ByteInterner`: by exact bytes, in order of first appearance), so that a
/// `replay` fold retires ended sessions as it does a ledger's; the table of names is let go
/// once the source is read, and the numbers travel with the events.
public final class SortedInput: FoldSource {
    /// Where each run's events lie, in (`at`, `seq`) order: `[start, end)` of the bytes.
    private var runs: [Range<Int>] = []
    /// The bytes of the runs when there is only one (else they are in `file`).
    private var held: [UInt8] = []
    private var file: TemporaryFile?
    private var mapped: UnsafeRawBufferPointer?
    private var events = 0
    /// The `max_skew` the late events were decided for, and their `seq`s.
    private let maxSkew: Duration?
    private var late: [UInt64] = []

    public let hasRecorded = false
    /// How many sorted runs there are, and whether they went to a file (for tests).
    var runCount: Int { runs.count }
    var spilled: Bool { file != nil }

    /// Bytes a run holds in memory before it is sorted and written out.
    public static let runBytes = 32 << 20

    /// Reads every event of `source`, whose late events are those of `maxSkew` (the fold's
    /// policy's); throws `InputErrors` when a line is bad (with `allErrors`, every bad line;
    /// else the first).
    public init(source: InputSource, maxSkew: Duration?, allErrors: Bool = false, runBytes: Int = SortedInput.runBytes) throws {
        self.maxSkew = maxSkew
        source.readsOnce()
        var options = AppendOptions()
        options.allErrors = allErrors
        let pipeline = ParsePipeline(sources: [source], options: options, totalBytes: source.size, forWriter: false)
        defer { pipeline.stop() }
        var run = Run(reserving: runBytes)
        var errors: [InputError] = []
        var lateness = LatenessTracker(maxSkew: maxSkew)
        var users = ByteInterner(), sessions = ByteInterner()
        while var items = pipeline.nextToTake() {
            // A batch comes reversed (`ParsePipeline.nextToTake`): popped, it is in order.
            while let item = items.popLast() {
                switch consume item {
                case .event(let event, _, _):
                    events += 1
                    let seq = UInt64(events)
                    if lateness.isLate(event.at) { late.append(seq) }
                    guard errors.isEmpty else { continue }  // no fold follows: keep nothing
                    run.add(event, seq: seq, user: users.number(event.user), session: event.session.map { sessions.number($0) } ?? 0)
                    if run.bytes.count >= runBytes { try spill(&run) }
                case .error(let error): errors.append(error)
                case .failure(let error): throw error
                case .beginSource, .skip: break
                }
            }
        }
        if !errors.isEmpty { throw InputErrors(errors: errors) }
        if file == nil {
            held = run.sorted()
            runs = [0..<held.count]
        } else {
            try spill(&run)
            mapped = try file!.map()
        }
    }

    /// Sorts `run`, adds it to the file (made on first use), and empties it.
    private func spill(_ run: inout Run) throws {
        guard !run.entries.isEmpty else { return }
        if file == nil { file = try TemporaryFile(for: "the events of the input in time order") }
        let start = file!.count
        try file!.append(run.sorted())
        runs.append(start..<file!.count)
        run.removeAll()
    }

    public func totalEvents() throws -> Int { events }

    public func verify() throws {}

    /// The late events for the `max_skew` given at `init` (the only one this source knows).
    public func lateSeqs(maxSkew: Duration?) throws -> Set<UInt64> {
        precondition(maxSkew == self.maxSkew, "SortedInput read for max_skew \(String(describing: self.maxSkew)), asked for \(String(describing: maxSkew))")
        return Set(late)
    }

    public func forEachEventInTimeOrder(from: Instant?, to: Instant?, foldOnly: Bool,
                                        _ body: (StoredEvent) throws -> Bool) throws {
        try withBytes { bytes in
            // Each run's next event, least (`at`, `seq`) first.
            var heads = Heap<Head>()
            for run in runs where !run.isEmpty {
                let (event, next) = try EventBytes.read(bytes, at: run.lowerBound, foldOnly: foldOnly)
                heads.insert(Head(event: event, next: next, end: run.upperBound))
            }
            while let top = heads.min {
                if let to, top.event.event.at >= to { return }
                if from.map({ top.event.event.at >= $0 }) ?? true {
                    guard try body(top.event) else { return }
                }
                if top.next < top.end {
                    let (event, next) = try EventBytes.read(bytes, at: top.next, foldOnly: foldOnly)
                    heads.replaceMin(with: Head(event: event, next: next, end: top.end))
                } else {
                    heads.removeMin()
                }
            }
        }
    }

    /// A run's next event in a merge, and where the rest of the run lies.
    private struct Head: Comparable {
        var event: StoredEvent
        var next: Int
        var end: Int

        static func < (a: Head, b: Head) -> Bool {
            (a.event.event.at, a.event.seq) < (b.event.event.at, b.event.seq)
        }

        static func == (a: Head, b: Head) -> Bool {
            (a.event.event.at, a.event.seq) == (b.event.event.at, b.event.seq)
        }
    }

    private func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let mapped { return try body(mapped) }
        return try held.withUnsafeBytes(body)
    }

    /// Events in `seq` order as bytes, and where each begins.
    private struct Run {
        var bytes: [UInt8] = []
        var entries: [(at: Int64, seq: UInt64, offset: Int)] = []
        /// One event's record, before it joins `bytes`.
        private var scratch: [UInt8] = []

        init(reserving capacity: Int) { bytes.reserveCapacity(min(capacity, 1 << 30) + EventParser.maxLineBytes) }

        mutating func removeAll() {
            bytes.removeAll(keepingCapacity: true)
            entries.removeAll(keepingCapacity: true)
        }

        mutating func add(_ event: Event, seq: UInt64, user: UInt32, session: UInt32) {
            entries.append((event.at.nanoseconds, seq, bytes.count))
            EventBytes.append(event, seq: seq, user: user, session: session, scratch: &scratch, to: &bytes)
        }

        /// The run's bytes, its events in (`at`, `seq`) order.
        func sorted() -> [UInt8] {
            let order = entries.indices.sorted { (entries[$0].at, entries[$0].seq) < (entries[$1].at, entries[$1].seq) }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            for i in order {
                let end = i + 1 < entries.count ? entries[i + 1].offset : bytes.count
                out.append(contentsOf: bytes[entries[i].offset..<end])
            }
            return out
        }
    }
}

/// An event as a run of `SortedInput` holds it: its `seq` (u64), the length of its record
/// (u32), and its ledger record (`Record`: its numbers, every string, a checksum), carrying
/// both its names, so that no table of names is needed to read it back; `recorded` is `at`.
enum EventBytes {
    static func append(_ event: Event, seq: UInt64, user: UInt32, session: UInt32,
                       scratch: inout [UInt8], to out: inout [UInt8]) {
        Record.encode(event, recorded: event.at, userNumber: user, sessionNumber: session,
                      carrying: [.user, .session], into: &scratch)
        appendLE(seq, 8, &out)
        appendLE(UInt64(scratch.count), 4, &out)
        out.append(contentsOf: scratch)
    }

    /// The event whose bytes begin at `offset`, and where the next one begins. With `foldOnly`,
    /// its `id`, `ip`, `agent` and `meta` are left out (`Record.decode`).
    static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int, foldOnly: Bool = false) throws -> (StoredEvent, next: Int) {
        let seq = readLE(bytes, offset, 8)
        let end = offset + 12 + Int(readLE(bytes, offset + 8, 4))
        let (header, event) = try Record.decode(UnsafeRawBufferPointer(rebasing: bytes[(offset + 12)..<end]),
                                                foldOnly: foldOnly, names: CarriedNames())
        return (StoredEvent(seq: seq, recorded: event.at, event: event,
                            sessionNumber: header.sessionNumber, userNumber: header.userNumber), end)
    }

    /// Every record carries its names: none is ever looked up.
    private struct CarriedNames: NameSource {
        func user(_ number: UInt32) throws -> String { throw Record.Damage(problem: "user \(number) not carried") }
        func session(_ number: UInt32) throws -> String { throw Record.Damage(problem: "session \(number) not carried") }
    }
}
