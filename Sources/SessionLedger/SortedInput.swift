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
            // A binary heap of the runs' next events, least (`at`, `seq`) on top.
            var heads: [(event: StoredEvent, next: Int, end: Int)] = []
            for run in runs where !run.isEmpty {
                let (event, next) = EventBytes.read(bytes, at: run.lowerBound)
                heads.append((event, next, run.upperBound))
            }
            func precedes(_ i: Int, _ j: Int) -> Bool {
                (heads[i].event.event.at, heads[i].event.seq) < (heads[j].event.event.at, heads[j].event.seq)
            }
            func siftDown(_ start: Int) {
                var i = start
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var least = i
                    if l < heads.count, precedes(l, least) { least = l }
                    if r < heads.count, precedes(r, least) { least = r }
                    if least == i { return }
                    heads.swapAt(i, least)
                    i = least
                }
            }
            for i in stride(from: heads.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
            while let top = heads.first {
                let stored = top.event
                if let to, stored.event.at >= to { return }
                if from.map({ stored.event.at >= $0 }) ?? true {
                    guard try body(stored) else { return }
                }
                if top.next < top.end {
                    let (event, next) = EventBytes.read(bytes, at: top.next)
                    heads[0] = (event, next, top.end)
                } else {
                    heads.swapAt(0, heads.count - 1)
                    heads.removeLast()
                }
                siftDown(0)
            }
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

        init(reserving capacity: Int) { bytes.reserveCapacity(min(capacity, 1 << 30) + EventParser.maxLineBytes) }

        mutating func removeAll() {
            bytes.removeAll(keepingCapacity: true)
            entries.removeAll(keepingCapacity: true)
        }

        mutating func add(_ event: Event, seq: UInt64, user: UInt32, session: UInt32) {
            entries.append((event.at.nanoseconds, seq, bytes.count))
            EventBytes.append(event, seq: seq, user: user, session: session, to: &bytes)
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

/// An event, its `seq` and its numbers as bytes, exactly as parsed (the runs of `SortedInput`):
/// `seq` u64, user number u32, session number u32 (0: none), kind u8, `at` i64, then `user`, `session`, `client`, `method`, `id`, `ip`, `agent`, each a
/// u32 length (`absent` for none) and its UTF-8, then the number of `meta` pairs (`absent`
/// when the event has no `meta`) and each pair's key and value. Little-endian.
enum EventBytes {
    static let absent: UInt32 = .max

    static func append(_ event: Event, seq: UInt64, user: UInt32, session: UInt32, to out: inout [UInt8]) {
        appendLE(seq, 8, &out)
        appendLE(UInt64(user), 4, &out)
        appendLE(UInt64(session), 4, &out)
        out.append(event.kind.rawValue)
        appendLE(UInt64(bitPattern: event.at.nanoseconds), 8, &out)
        for text in [event.user, event.session, event.client, event.method, event.id, event.ip, event.agent] {
            appendText(text, &out)
        }
        appendLE(UInt64(event.hasMeta ? UInt32(event.meta.count) : absent), 4, &out)
        for pair in event.meta {
            appendText(pair.key, &out)
            appendText(pair.value, &out)
        }
    }

    private static func appendText(_ text: String?, _ out: inout [UInt8]) {
        guard let text else { return appendLE(UInt64(absent), 4, &out) }
        appendLE(UInt64(text.utf8.count), 4, &out)
        out.append(contentsOf: text.utf8)
    }

    /// The event whose bytes begin at `offset`, and where the next one begins.
    static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> (StoredEvent, next: Int) {
        var at = offset
        func int(_ size: Int) -> UInt64 {
            defer { at += size }
            return readLE(bytes, at, size)
        }
        func text() -> String? {
            let length = UInt32(int(4))
            guard length != absent else { return nil }
            defer { at += Int(length) }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[at..<(at + Int(length))]), as: UTF8.self)
        }
        let seq = int(8)
        let (userNumber, sessionNumber) = (UInt32(int(4)), UInt32(int(4)))
        let kind = Event.Kind(rawValue: UInt8(int(1)))!
        let instant = Instant(nanoseconds: Int64(bitPattern: int(8)))
        let user = text()!
        let (session, client, method, id, ip, agent) = (text(), text(), text(), text(), text(), text())
        let pairs = UInt32(int(4))
        var meta: [Event.MetaPair] = []
        if pairs != absent {
            meta.reserveCapacity(Int(pairs))
            for _ in 0..<pairs { meta.append(Event.MetaPair(key: text()!, value: text()!)) }
        }
        var event = Event(kind: kind, at: instant, user: user, session: session, client: client, method: method,
                          id: id, ip: ip, agent: agent, hasMeta: pairs != absent)
        event.meta = meta  // already in canonical order: not sorted again
        return (StoredEvent(seq: seq, recorded: instant, event: event, sessionNumber: sessionNumber, userNumber: userNumber), at)
    }
}
