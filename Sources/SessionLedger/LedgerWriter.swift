import Dispatch
import LMDB

/// Options of one `append`/`import` call.
public struct AppendOptions {
    /// Keep reading after the first bad line and report every one (nothing is stored either way).
    public var allErrors = false
    /// Called now and then while reading, for a progress line on a terminal.
    public var progress: ((AppendProgress) -> Void)?
    public init() {}
}

public struct AppendProgress: Sendable {
    public var lines: Int
    public var bytesRead: Int
    /// The total size of the inputs, when all of them are regular files.
    public var totalBytes: Int?
}

/// What one successful call stored.
public struct AppendSummary: Sendable {
    public var imported: Int
    public var duplicates: Int
    /// The head after the call.
    public var head: HashChain
}

/// Every bad line of a refused call (just the first without `allErrors`).
public struct InputErrors: Error, CustomStringConvertible {
    public var errors: [InputError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

extension Ledger {
    /// Appends the events of `sources`, all or nothing, in one durable LMDB transaction.
    ///
    /// Bad input throws `InputErrors` and stores nothing. An event whose `id` is stored with the
    /// same canonical content is skipped and counted as a duplicate. When this returns, the
    /// events are on disk. The map grows as needed: if LMDB reports MDB_MAP_FULL, the whole call
    /// is run again from the first byte of its inputs on a larger map.
    public func append(_ sources: [InputSource], options: AppendOptions = AppendOptions()) throws -> AppendSummary {
        precondition(access == .readWrite, "append needs a ledger opened .readWrite")
        let knownSizes = sources.compactMap(\.size)
        let totalBytes = knownSizes.count == sources.count ? knownSizes.reduce(0, +) : nil
        do {
            try clearStaleReaders()
            // Records and indexes take about as much room as the NDJSON; grow once up front
            // rather than discover it through MDB_MAP_FULL.
            try ensureRoom(bytes: 2 * (totalBytes ?? 0) + (16 << 20))
            // Zero-fill the pages this call will write on another core while it parses and
            // writes (measured: about a tenth of an import's time otherwise).
            let prefault = DispatchGroup()
            if let totalBytes, totalBytes > 1 << 20 {
                let env = self.env
                let used = try env.info().usedBytes
                DispatchQueue.global().async(group: prefault) { env.prefault(offset: used, length: 2 * totalBytes) }
            }
            defer { prefault.wait() }
            return try env.writeGrowingMap { txn in
                var batch = try AppendBatch(txn: txn, db: db, options: options)
                let pipeline = ParsePipeline(sources: sources, options: options, totalBytes: totalBytes)
                defer { pipeline.stop() }
                try batch.consume(pipeline)
                return try batch.finish()
            }
        } catch let error as LMDBError {
            throw LedgerError.storage(error, path: path)
        }
    }

    /// Appends events given as values (for library users and tests): the same path as NDJSON.
    public func append(events: [Event]) throws -> AppendSummary {
        var text: [UInt8] = []
        for event in events {
            CanonicalWriter.write(event, into: &text)
            text.append(0x0A)
        }
        return try append([InputSource(bytes: text)])
    }

    private func ensureRoom(bytes: Int) throws {
        let info = try env.info()
        let free = info.mapSize - info.usedBytes
        guard free < bytes else { return }
        var size = info.mapSize
        while size - info.usedBytes < bytes { size *= 2 }
        try env.setMapSize(size)
    }
}

/// The work of one attempt at one append call, inside its write transaction.
struct AppendBatch {
    let txn: WriteTransaction
    let db: Ledger.Databases
    let options: AppendOptions
    let recorded: Instant
    let firstSeq: UInt64
    var chain: HashChain
    var userCount: UInt32
    var sessionCount: UInt32
    var userCache: [ByteIdentity: UInt32] = [:]
    var sessionCache: [ByteIdentity: UInt32] = [:]
    var record: [UInt8] = []
    var pending = PendingIndexes()
    var lines = CallLines()
    var errors: [InputError] = []
    var imported = 0
    var duplicates = 0

    /// Interning caches are dropped past this many entries, to bound memory on huge imports.
    static let cacheLimit = 1 << 20

    init(txn: WriteTransaction, db: Ledger.Databases, options: AppendOptions) throws {
        self.txn = txn
        self.db = db
        self.options = options
        self.recorded = Instant.now()
        let snapshot = LedgerSnapshot(txn: txn, db: db)
        self.chain = try snapshot.head()
        self.firstSeq = chain.seq + 1
        self.userCount = UInt32(try txn.count(db.users))
        self.sessionCount = UInt32(try txn.count(db.sessions))
        record.reserveCapacity(512)
    }

    /// Stores what the pipeline parsed, in input order, until it ends or the first error
    /// (every parse error with `allErrors`; nothing more is stored after the first one).
    mutating func consume(_ pipeline: ParsePipeline) throws {
        var source: String?
        while let items = pipeline.next() {
            for item in items {
                switch item {
                case .beginSource(let name):
                    source = name
                    lines.begin(source: name, firstSeq: chain.seq + 1)
                case .skip(let line):
                    lines.skip(line)
                case .event(let event, let line):
                    guard errors.isEmpty else { continue }
                    do {
                        try store(event, line: line)
                    } catch var error as InputError {
                        error.file = source
                        errors.append(error)
                        if !options.allErrors { return }
                    }
                case .error(let error):
                    errors.append(error)
                    if !options.allErrors { return }
                case .failure(let error):
                    throw error
                }
            }
        }
    }

    private mutating func store(_ event: Event, line: Int) throws {
        let seq = chain.seq + 1
        if var id = event.id {
            // Claims the id for this seq, or finds the seq that holds it: one search either way.
            let held = try withUnsafeBytes(of: seq.bigEndian) { seqKey in
                try id.withUTF8 { try txn.insertOrGet(db.ids, UnsafeRawBufferPointer($0), seqKey) }
            }.map { readBE($0, 0, 8) }
            if let held {
                guard let earlier = try LedgerSnapshot(txn: txn, db: db).event(seq: held) else {
                    throw LedgerError.damaged(seq: held, problem: "the id index names seq \(held), which the log does not hold")
                }
                if CanonicalWriter.bytes(of: earlier.event) == CanonicalWriter.bytes(of: event) {
                    duplicates += 1
                    lines.skip(line)
                    return
                }
                let place = held >= firstSeq ? lines.place(of: held) : "seq \(held)"
                throw InputError(line: line, key: "id", problem: "id conflict with \(place)")
            }
        }
        let userNumber = try AppendBatch.intern(event.user, txn: txn, database: db.users, cache: &userCache, count: &userCount)
        var sessionNumber: UInt32 = 0
        if let session = event.session {
            sessionNumber = try AppendBatch.intern(session, txn: txn, database: db.sessions, cache: &sessionCache, count: &sessionCount)
        }
        Record.encode(event, recorded: recorded, userNumber: userNumber, sessionNumber: sessionNumber, into: &record)
        let seqKey = seq.bigEndian
        try record.withUnsafeBytes { value in
            try withUnsafeBytes(of: seqKey) { key in
                try txn.put(db.log, key, value, flags: .append)
            }
            chain.append(value)
        }
        if seq % HashChain.storedEvery == 0 {
            try txn.put(db.chain, Key.seq(seq), chain.value, flags: .append)
        }
        pending.add(seq: seq, at: event.at, user: userNumber, session: sessionNumber)
        if pending.count >= PendingIndexes.flushAt { try pending.flush(txn, db) }
        imported += 1
    }

    private static func intern(_ name: String, txn: WriteTransaction, database: Database, cache: inout [ByteIdentity: UInt32],
                               count: inout UInt32) throws -> UInt32 {
        let key = ByteIdentity(name)
        if let number = cache[key] { return number }
        var name = name
        let number: UInt32 = try name.withUTF8 { utf8 in
            let key = UnsafeRawBufferPointer(utf8)
            if let stored = try txn.get(database, key) { return UInt32(readLE(stored, 0, 4)) }
            count += 1
            let number = count
            try withUnsafeBytes(of: number.littleEndian) { try txn.put(database, key, $0, flags: .noOverwrite) }
            return number
        }
        if cache.count >= AppendBatch.cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[key] = number
        return number
    }

    mutating func finish() throws -> AppendSummary {
        if !errors.isEmpty { throw InputErrors(errors: errors) }
        try pending.flush(txn, db)
        if imported > 0 {
            var head: [UInt8] = []
            appendLE(chain.seq, 8, &head)
            head += chain.value
            try txn.put(db.meta, Key.head, head)
        }
        return AppendSummary(imported: imported, duplicates: duplicates, head: chain)
    }
}

/// Index entries gathered between flushes, then written in key order: LMDB touches each
/// page once per run of neighbouring keys instead of once per event.
struct PendingIndexes {
    static let flushAt = 1 << 16

    private var byTime: [(at: UInt64, seq: UInt64)] = []
    private var byUser: [(user: UInt32, at: UInt64, seq: UInt64)] = []
    private var bySession: [(session: UInt32, seq: UInt64)] = []

    var count: Int { byTime.count }

    mutating func add(seq: UInt64, at: Instant, user: UInt32, session: UInt32) {
        byTime.append((at.biased, seq))
        byUser.append((user, at.biased, seq))
        if session != 0 { bySession.append((session, seq)) }
    }

    mutating func flush(_ txn: WriteTransaction, _ db: Ledger.Databases) throws {
        var key = [UInt8](repeating: 0, count: 16)
        var value = [UInt8](repeating: 0, count: 16)
        let empty = [UInt8]()
        byTime.sort { ($0.at, $0.seq) < ($1.at, $1.seq) }
        try txn.withCursor(db.byTime) { cursor in
            // Entries past the last stored key (the usual case: events come roughly in time
            // order) are appended without a search; the rest are inserted where they belong.
            var last = try cursor.last().map { (readBE($0.key, 0, 8), readBE($0.key, 8, 8)) }
            for entry in byTime {
                key.removeAll(keepingCapacity: true)
                appendBE(entry.at, 8, &key)
                appendBE(entry.seq, 8, &key)
                let appending = last.map { (entry.at, entry.seq) > $0 } ?? true
                try key.withUnsafeBytes { k in
                    try empty.withUnsafeBytes { v in try cursor.put(k, v, flags: appending ? .append : []) }
                }
                if appending { last = (entry.at, entry.seq) }
            }
        }
        byUser.sort { ($0.user, $0.at, $0.seq) < ($1.user, $1.at, $1.seq) }
        try txn.withCursor(db.byUser) { cursor in
            for entry in byUser {
                key.removeAll(keepingCapacity: true)
                appendBE(UInt64(entry.user), 4, &key)
                value.removeAll(keepingCapacity: true)
                appendBE(entry.at, 8, &value)
                appendBE(entry.seq, 8, &value)
                try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try cursor.put(k, v) } }
            }
        }
        bySession.sort { ($0.session, $0.seq) < ($1.session, $1.seq) }
        try txn.withCursor(db.bySession) { cursor in
            for entry in bySession {
                key.removeAll(keepingCapacity: true)
                appendBE(UInt64(entry.session), 4, &key)
                value.removeAll(keepingCapacity: true)
                appendBE(entry.seq, 8, &value)
                try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try cursor.put(k, v) } }
            }
        }
        byTime.removeAll(keepingCapacity: true)
        byUser.removeAll(keepingCapacity: true)
        bySession.removeAll(keepingCapacity: true)
    }
}

/// Maps a `seq` assigned during this call back to the input line that produced it,
/// for "id conflict with line M". Keeps only the lines that produced no event, as runs of
/// consecutive lines, so re-importing a file (every line a duplicate) costs one run.
struct CallLines {
    private struct Source {
        var name: String?
        var firstSeq: UInt64
        /// Runs of skipped lines, ascending: (first line, count).
        var skipped: [(first: Int, count: Int)] = []
    }

    private var sources: [Source] = []

    mutating func begin(source name: String?, firstSeq: UInt64) {
        sources.append(Source(name: name, firstSeq: firstSeq))
    }

    /// Line `line` of the current source stored no event (blank, or a duplicate).
    mutating func skip(_ line: Int) {
        let last = sources.count - 1
        if let run = sources[last].skipped.last, run.first + run.count == line {
            sources[last].skipped[sources[last].skipped.count - 1].count += 1
        } else {
            sources[last].skipped.append((line, 1))
        }
    }

    /// "line M" (or "FILE line M") for a `seq` assigned in this call.
    func place(of seq: UInt64) -> String {
        guard let source = sources.last(where: { $0.firstSeq <= seq }) else { return "seq \(seq)" }
        var line = Int(seq - source.firstSeq) + 1
        for run in source.skipped {
            if run.first <= line { line += run.count } else { break }
        }
        return source.name.map { "\($0) line \(line)" } ?? "line \(line)"
    }
}
