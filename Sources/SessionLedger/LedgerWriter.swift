import Dispatch
import LMDB
#if canImport(Glibc)
import Glibc
#endif

/// Options of one `append`/`import` call.
public struct AppendOptions {
    /// Keep reading after the first bad line and report every one (nothing is stored either way).
    public var allErrors = false
    /// Called now and then while reading, for a progress line on a terminal.
    public var progress: ((AppendProgress) -> Void)?
    /// After a call that stored events, write checkpoints when the next one is due at this
    /// spacing (nil: never).
    public var checkpointSpacing: CheckpointSpacing? = .adaptive
    /// Fold the checkpoints on another core while storing, for inputs of at least this many
    /// bytes (all regular files), and write them in the call's transaction (nil: never).
    public var followCheckpointsFrom: Int? = 16 << 20
    /// After a call of at least this many bytes of input, write a checkpoint near the end of
    /// the time line when it is due (`Ledger.tailIsDue`, `Ledger.writeTailCheckpoint`), after a
    /// smaller one a rolling tail, which the next may replace (`Ledger.writeRollingTail`; nil: neither).
    public var tailCheckpointFrom: Int? = 16 << 20
    /// Ids claimed before they are filed in `ids` (smaller in tests, to cross a filing).
    var idClaimsFlushAt = IDClaims.flushAt
    /// Whether to read the filed ids into a filter as the call begins (nil: when the call is
    /// large beside them; set in tests).
    var scanFiledIds: Bool?
    /// Whether a call into a ledger whose filed ids it does not read into a filter may check
    /// its claims against them as it files them, instead of searching `ids` for each
    /// (`IDClaims`); a filed one found then runs the call again without. Nil: `Ledger.append`
    /// does (it can run a call again), other users of `AppendBatch` do not (false in tests,
    /// to compare).
    var checkIdsWhenFiled: Bool?
    /// Claims searched before that (smaller in tests).
    var idClaimsProbe = IDClaims.probe
    /// The bytes of the `id_filters` a call makes that it keeps when it reads the filed ids
    /// into a filter or starts the ledger (smaller in tests, to search closed blocks instead).
    var keptIdFilterBytes = IDClaims.keptFilterBytes
    /// Names the reader numbers before it starts again (smaller in tests).
    var callNamesLimit = CallNames.limit
    /// Events handed to the checkpoint follower at a time (smaller in tests).
    var followerBatchSize = CheckpointFollower.batchSize
    /// Room every attempt reserves beyond its estimate (`Ledger.room`; none in tests, so that
    /// a small ledger shows whether the estimate holds).
    var roomSlack = Ledger.roomSlack
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
    /// Checkpoints written after the call.
    public var checkpointsWritten = 0
    /// Why writing checkpoints failed, if it did: the events are stored all the same (queries
    /// then fold from an earlier checkpoint).
    public var checkpointError: String?
    /// The checkpoints are current: folded while storing (`CheckpointFollower`).
    var checkpointsFollowed = false
    /// The tail checkpoint was folded while storing too (written in the call's transaction,
    /// or found not due): the pass after the call does not look for it.
    var tailFollowed = false
    /// How many times the call ran: each `MDB_MAP_FULL` runs it again on a larger map, and a
    /// call that checked its ids as it filed them and must search them instead (an id filed
    /// before, or bad input: `IDClaims.SearchNeeded`) runs once more (counted as one, with
    /// the map-full runs of that last try).
    var attempts = 1
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
        var first = options
        if first.checkIdsWhenFiled == nil { first.checkIdsWhenFiled = true }
        do {
            return try appendOnce(sources, options: first)
        } catch is IDClaims.SearchNeeded {
            // An id of the call was filed before it, or the call has bad input while its
            // claims went unchecked: run it again searching `ids` for each claim, which skips
            // a duplicate and reports the first bad line (or every one) as always.
            var careful = options
            careful.checkIdsWhenFiled = false
            var summary = try appendOnce(sources, options: careful)
            summary.attempts += 1
            return summary
        }
    }

    private func appendOnce(_ sources: [InputSource], options: AppendOptions) throws -> AppendSummary {
        let totalBytes = InputSource.totalSize(of: sources)
        // What a call of this size does beside storing (both thresholds count files only).
        let follow = options.followCheckpointsFrom.map { totalBytes ?? 0 >= $0 } ?? false
        let tail = options.tailCheckpointFrom.map { totalBytes ?? 0 >= $0 } ?? false
        let prefault = DispatchGroup()
        var attempt = 0
        var previousSize = 0
        var summary: AppendSummary
        do {
            try clearStaleReaders()
            defer {
                prefault.wait()
                cutToPagesInUse()
            }
            summary = try env.writeGrowingMap(prepare: {
                prefault.wait()  // no resize while the pre-fault thread walks the map
                attempt += 1
                try prepareRoom(attempt: attempt, inputBytes: totalBytes, eventsIn: true, slack: options.roomSlack,
                                previousSize: &previousSize)
                if attempt == 1, env.writesThroughMap, let totalBytes, totalBytes > 1 << 20 {
                    // Zero-fill the pages this call will write through the map on another core
                    // while it parses and writes (measured: about a tenth of an import's time otherwise).
                    let env = self.env
                    let used = try env.info().usedBytes
                    // At most the first 256 MiB: populating more of a large import's pages at
                    // once fills the page cache with zeros and makes the kernel write back the
                    // writer's own dirty pages early (a 100M-event import crawled at 41k events/s).
                    let length = min(2 * totalBytes, 256 << 20)
                    DispatchQueue.global().async(group: prefault) { env.prefault(offset: used, length: length) }
                }
            }, beforeGrowing: { prefault.wait() }) { txn in
                let follower = follow ? options.checkpointSpacing.map {
                    CheckpointFollower(ledger: self, spacing: $0, tail: tail, batchSize: options.followerBatchSize)
                } : nil
                defer { follower?.cancel() }
                var batch = try AppendBatch(txn: txn, db: db, options: options, inputBytes: totalBytes, follower: follower)
                let pipeline = ParsePipeline(sources: sources, options: options, totalBytes: totalBytes)
                defer { pipeline.stop() }
                try batch.consume(pipeline)
                var done = try batch.finish()
                done.attempts = attempt
                return done
            }
        } catch let error as LMDBError {
            throw LedgerError.storage(error, path: path)
        }
        if summary.imported > 0, let spacing = options.checkpointSpacing {
            // Checkpoints written (or removed) in transactions of their own grow the map, an error
            // halfway included: cut it again.
            defer { cutToPagesInUse() }
            do {
                if !summary.checkpointsFollowed { summary.checkpointsWritten = try writeCheckpointsIfDue(spacing: spacing) }
                let tails: Int
                if tail, !summary.tailFollowed {
                    tails = try writeTailCheckpoint(spacing: spacing, callWroteCheckpoints: summary.checkpointsWritten > 0)
                } else if !tail, options.tailCheckpointFrom != nil {
                    tails = try writeRollingTail(spacing: spacing)
                } else {
                    tails = 0
                }
                summary.checkpointsWritten += tails
            } catch {
                summary.checkpointError = "\(error)"
            }
        }
        return summary
    }

    /// Gives back the disk blocks past the pages in use, and cuts the map with them, so that the
    /// file's size is the pages in use (plus up to a MiB) and not the room reserved for a call
    /// or its checkpoints: how a call ends. Only while the writer lock is held and no
    /// transaction of this process is open (see `prepareRoom`).
    private func cutToPagesInUse() {
        guard let info = try? env.info() else { return }
        try? env.releaseDisk(from: info.usedBytes)
        let size = (info.usedBytes + (1 << 20) - 1) & ~((1 << 20) - 1)
        if size != info.mapSize { try? env.setMapSize(size) }  // a remap costs the map's pages
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

    /// Sizes the map for one attempt and claims its disk blocks before anything is written.
    ///
    /// Writing through MDB_WRITEMAP into a sparse file, a page that cannot get a block on a
    /// full disk faults (SIGBUS) instead of failing a call (a buffered call's `pwrite` would
    /// fail cleanly, but reserves the same way). So the map ends where the reserved blocks end:
    /// a call that needs more meets MDB_MAP_FULL (aborted, retried larger), and a reservation
    /// the disk cannot give is a clean "disk full" before the call writes anything. Each attempt
    /// asks for `room(inputBytes:used:eventsIn:attempt:slack:)` (`eventsIn`: the input is
    /// events, not one value such as a checkpoint), never more than the disk has free.
    func prepareRoom(attempt: Int, inputBytes: Int?, eventsIn: Bool = false, slack: Int = Ledger.roomSlack,
                     previousSize: inout Int) throws {
        let used = try env.info().usedBytes
        let want = Ledger.room(inputBytes: inputBytes, used: used, eventsIn: eventsIn, attempt: attempt, slack: slack)
        var fs = statvfs()
        let free = statvfs(path, &fs) == 0 ? Int(fs.f_bavail) * Int(fs.f_frsize) : want
        var room = min(want, free - free / 64)  // leave the file system a little air
        // This process holds the writer lock, so no other writer maps past the used pages, and
        // readers never touch pages past them: the map (and so the file) may shrink to this.
        while true {
            let size = (used + room) & ~4095
            // A retry that cannot be given more room than the last attempt had would fail the same way.
            guard room >= 1 << 20, size > previousSize else {
                throw LMDBError(code: .noSpace, operation: "posix_fallocate(data.mdb)")
            }
            try env.setMapSize(size)
            if try env.reserveDisk(from: used) != ENOSPC {
                previousSize = size
                return
            }
            room /= 2  // the file system promised more than it can give: ask for less
        }
    }
}

extension Ledger {
    /// The room every attempt reserves beyond its estimate, for what the estimate misses.
    static let roomSlack = 16 << 20

    /// The room beyond the `used` bytes that attempt `attempt` at writing `inputBytes` bytes
    /// reserves: twice the input plus `slack` for what it adds (records and indexes take about
    /// 1.7 times the NDJSON); for events, plus the pages it may copy (copy-on-write of every
    /// leaf an event changes in `ids`, `by_user` and `by_session`, with their branches: about
    /// five pages an event, no event under 64 bytes, never more than the pages in use); each
    /// retry twice as much. Without the copies, a first call of 10,000 events after `compact`
    /// (no free pages to reuse) was run four times over on a 10M-event ledger, its room
    /// doubled each time.
    static func room(inputBytes: Int?, used: Int, eventsIn: Bool, attempt: Int, slack: Int) -> Int {
        let input = inputBytes ?? 0
        let copies = eventsIn ? min(used, input / 64 * 5 * 4096) : 0
        return (2 * input + slack + copies) << min(attempt - 1, 20)
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
    /// The largest `at` stored so far, for the `lags` index.
    var lateness: LatenessTracker
    /// The latest checkpoint's instant: an event at or before it makes the checkpoints from
    /// its instant on stale, and they are removed in this transaction.
    let latestCheckpoint: Instant?
    var staleFrom: Instant?
    /// Folding checkpoints beside the writer, until an event out of time order ends it.
    var follower: CheckpointFollower?
    /// The keys of the checkpoints it folded, stored in this transaction.
    var followedKeys: [[UInt8]] = []
    /// Numbers the names of events that come without `EventKeys` (a group commit's).
    var callNames: CallNames
    var numbers = LedgerNumbers()
    var record: [UInt8] = []
    var pending = PendingIndexes()
    var claims: IDClaims
    var lines = CallLines()
    var errors: [InputError] = []
    var imported = 0
    var duplicates = 0
    /// `meta/lagged`'s count as of the head this call began at (nil: damaged), and the lagged
    /// events this call stored.
    let laggedBefore: UInt64?
    var laggedStored: UInt64 = 0

    /// `inputBytes`: the size of the inputs, when known.
    init(txn: WriteTransaction, db: Ledger.Databases, options: AppendOptions, inputBytes: Int? = nil,
         follower: CheckpointFollower? = nil) throws {
        self.txn = txn
        self.follower = follower
        self.db = db
        self.options = options
        self.recorded = Instant.now()
        let snapshot = LedgerSnapshot(txn: txn, db: db)
        self.chain = try snapshot.head()
        self.firstSeq = chain.seq + 1
        self.userCount = UInt32(try txn.count(db.users))
        self.sessionCount = UInt32(try txn.count(db.sessions))
        self.lateness = LatenessTracker(maxSkew: nil, latest: try snapshot.latestInstant())
        // A damaged count (which readers refuse, and `check` names) is counted again, as a missing one.
        self.laggedBefore = try? snapshot.laggedCount()
        // An event is 100 bytes of NDJSON or more.
        self.callNames = CallNames(limit: options.callNamesLimit)
        self.claims = try IDClaims(txn: txn, db: db, head: chain.seq, expected: inputBytes.map { $0 / 100 }, flushAt: options.idClaimsFlushAt,
                                   scan: options.scanFiledIds, checkWhenFiled: options.checkIdsWhenFiled ?? false,
                                   probe: options.idClaimsProbe, keptFilters: options.keptIdFilterBytes)
        self.latestCheckpoint = try txn.withCursor(db.checkpoints) { try $0.last().map { Instant(biased: readBE($0.key, 0, 8)) } }
        record.reserveCapacity(512)
    }

    /// Stores what the pipeline parsed, in input order, until it ends or the first error
    /// (every parse error with `allErrors`; nothing more is stored after the first one).
    mutating func consume(_ pipeline: ParsePipeline) throws {
        var source: String?
        while var items = pipeline.nextToTake() {
            while let item = items.popLast() {
                switch consume item {
                case .beginSource(let name):
                    source = name
                    lines.begin(source: name, firstSeq: chain.seq + 1)
                case .skip(let line):
                    lines.skip(line)
                case .event(let event, let line, let keys):
                    guard errors.isEmpty else { continue }
                    do {
                        try store(event, line: line, keys: keys)
                    } catch var error as InputError {
                        error.file = source
                        errors.append(error)
                        if !options.allErrors { return }
                    }
                case .error(let error):
                    errors.append(error)
                    if !options.allErrors { return }
                case .failure(let error):
                    // An unchecked claim before it may be a conflict: the first error to report.
                    if claims.checksWhenFiled { throw IDClaims.SearchNeeded() }
                    throw error
                }
            }
        }
    }

    /// Stores `event` (or counts it as a duplicate). `keys` are worked out here when not given.
    /// `consuming`: the follower takes the event over without a copy.
    mutating func store(_ event: consuming Event, line: Int, keys: EventKeys? = nil) throws {
        let seq = chain.seq + 1
        let keys = keys ?? callNames.keys(for: event)
        if keys.renumbered { numbers.forget() }
        if let id = event.id {
            if let earlier = try claims.claim(id, hash: keys.idHash, seq: seq, txn: txn, db: db) {
                let held = earlier.seq
                if CanonicalWriter.bytes(of: earlier.event) == CanonicalWriter.bytes(of: event) {
                    duplicates += 1
                    lines.skip(line)
                    return
                }
                let place = held >= firstSeq ? lines.place(of: held) : "seq \(held)"
                throw InputError(line: line, key: "id", problem: "id conflict with \(place)")
            }
        }
        // The first record naming a user or session carries its string (decision 0008).
        var carrying: Record.Carried = []
        let (userNumber, _, newUser) = try AppendBatch.intern(event.user, keys.user, txn: txn, database: db.users, names: db.userNames,
                                                           numbers: &numbers.users, count: &userCount)
        if newUser { carrying.insert(.user) }
        var sessionNumber: UInt32 = 0
        // `by_session` leaves out the session's refreshes by its home user: `by_user` has them.
        var indexSession = false
        if let session = event.session {
            let (number, home, newSession) = try AppendBatch.internSession(session, keys.session, user: userNumber, txn: txn,
                                                                           db: db, numbers: &numbers, count: &sessionCount)
            sessionNumber = number
            if newSession { carrying.insert(.session) }
            indexSession = SessionHome.isIndexed(event.kind, user: userNumber, home: home)
        }
        Record.encode(event, recorded: recorded, userNumber: userNumber, sessionNumber: sessionNumber, carrying: carrying,
                      into: &record)
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
        let lag = lateness.lag(event.at)
        if lag > 0 {
            // Logged after a later event: keep by how much, so `late-event` can be decided for
            // any `max_skew` without a pass over the log.
            let value = LagEntry(lag: lag, at: event.at).value(seq: seq)
            try withUnsafeBytes(of: seqKey) { key in
                try value.withUnsafeBytes { try txn.put(db.lags, key, $0, flags: .append) }
            }
            laggedStored += 1
        }
        if let checkpoint = latestCheckpoint, event.at <= checkpoint, staleFrom.map({ event.at < $0 }) ?? true {
            staleFrom = event.at
        }
        if let follower {
            // While the follower captures a checkpoint (0.2-0.5 s), file the claims and index
            // entries gathered so far, rather than alone at the next flush or the call's end
            // (at least 65,536 of them: a flush sorts them and walks its tree once).
            if staleFrom == nil, follower.nextAddWaits, follower.isCapturing {
                if claims.count >= 1 << 16 { try claims.flush(txn, db, through: seq) }
                if pending.count >= 1 << 16 { try pending.flush(txn, db) }
            }
            if staleFrom != nil {
                try abandonFollower()
            } else if !follower.add(StoredEvent(seq: seq, recorded: recorded, event: event,
                                                      sessionNumber: sessionNumber, userNumber: userNumber)) {
                try abandonFollower()
            } else if seq % UInt64(follower.batchSize) == 0 {
                try storeFollowed(follower.take())
            }
        }
        pending.add(seq: seq, user: userNumber, session: indexSession ? sessionNumber : 0)
        if pending.count >= PendingIndexes.flushAt { try pending.flush(txn, db) }
        imported += 1
    }

    /// The number of `name` in `database`, and whether this call just gave it one (then also
    /// filed under the number in `names`). `numbers` holds what earlier events of the call
    /// learned, by call number. `home`, for a session: stored after a new number (its home
    /// user, docs/FORMAT.md); what is returned is then the stored home, else 0.
    private static func intern(_ name: String, _ callNumber: UInt32, home: UInt32? = nil, txn: WriteTransaction,
                               database: Database, names: Database, numbers: inout [UInt32],
                               count: inout UInt32) throws -> (UInt32, home: UInt32, isNew: Bool) {
        if let number = numbers.learned(callNumber) { return (number, 0, false) }
        var name = name
        let (number, storedHome, isNew): (UInt32, UInt32, Bool) = try name.withUTF8 { utf8 in
            let key = UnsafeRawBufferPointer(utf8)
            let next = count + 1
            let size = home == nil ? 4 : 8
            let found = try withUnsafeBytes(of: (next.littleEndian, (home ?? 0).littleEndian)) { both in
                try txn.insertOrGet(database, key, UnsafeRawBufferPointer(rebasing: both[0..<size]))
            }
            if let stored = found {
                guard stored.count == size else {
                    throw LedgerError.damaged(seq: nil, problem: "\(database.name) holds a \(stored.count)-byte entry, not \(size)")
                }
                return (UInt32(readLE(stored, 0, 4)), home == nil ? 0 : UInt32(readLE(stored, 4, 4)), false)
            }
            count = next
            let entry = NameEntry.value(next, key)
            try withUnsafeBytes(of: next.bigEndian) { k in try entry.withUnsafeBytes { try txn.put(names, k, $0, flags: .append) } }
            return (next, home ?? 0, true)
        }
        numbers.learn(callNumber, is: number)
        return (number, storedHome, isNew)
    }

    /// A session's number, its home user (the user of the first event naming it) and whether
    /// this call just gave it its number; `user` is the event's, the home of a new session.
    private static func internSession(_ name: String, _ callNumber: UInt32, user: UInt32, txn: WriteTransaction,
                                      db: Ledger.Databases, numbers: inout LedgerNumbers,
                                      count: inout UInt32) throws -> (number: UInt32, home: UInt32, isNew: Bool) {
        if let number = numbers.sessions.learned(callNumber) {
            return (number, numbers.sessionHomes[Int(callNumber)], false)
        }
        let (number, home, isNew) = try intern(name, callNumber, home: user, txn: txn, database: db.sessions,
                                               names: db.sessionNames, numbers: &numbers.sessions, count: &count)
        numbers.sessionHomes.learn(callNumber, is: home)
        return (number, home, isNew)
    }

    /// Stores checkpoints the follower folded.
    private mutating func storeFollowed(_ checkpoints: [(key: [UInt8], bytes: [UInt8])]) throws {
        for checkpoint in checkpoints {
            try txn.put(db.checkpoints, checkpoint.key, checkpoint.bytes)
            followedKeys.append(checkpoint.key)
        }
    }

    /// Stops the follower and removes what it stored: the checkpoints are then written after the call.
    private mutating func abandonFollower() throws {
        follower?.cancel()
        follower = nil
        for key in followedKeys { _ = try txn.delete(db.checkpoints, key) }
        followedKeys = []
    }

    mutating func finish() throws -> AppendSummary {
        if !errors.isEmpty {
            // A claim not yet checked may be an earlier line's conflict with a filed id.
            if claims.checksWhenFiled { throw IDClaims.SearchNeeded() }
            throw InputErrors(errors: errors)
        }
        var followed = false
        var tailFollowed = false
        // The follower folds its last events (and may take the tail checkpoint) while the
        // writer files the indexes and claims it deferred, instead of each waiting on the other.
        if imported > 0 { follower?.endInput() }
        try pending.flush(txn, db)
        try claims.flush(txn, db, through: chain.seq)
        if let follower {
            if imported == 0 {
                // Nothing stored: leave any checkpoint already due to the pass after a call, as before.
                try abandonFollower()
            } else if follower.finish() {
                try storeFollowed(follower.take())
                followed = true
                tailFollowed = follower.tailDecided
            } else {
                try abandonFollower()
            }
        }
        if let staleFrom {
            // A checkpoint is the state after every event up to its instant: one with an event
            // at or before its instant that it does not hold is wrong, not merely old.
            let stale = try txn.withCursor(db.checkpoints) { cursor in
                var keys: [[UInt8]] = []
                try cursor.forEach(from: cursor.seek(atLeast: Checkpoint.key(staleFrom))) { keys.append(Array($0.key)); return true }
                return keys
            }
            for key in stale { _ = try txn.delete(db.checkpoints, key) }
        }
        if imported > 0 {
            var head: [UInt8] = []
            appendLE(chain.seq, 8, &head)
            head += chain.value
            try txn.put(db.meta, Key.head, head)
            // Counted on from the kept count, never recounted from `lags` (which would take in
            // any damage to it), but where the count itself is damaged.
            let lagged = try laggedBefore.map { $0 + laggedStored } ?? UInt64(txn.count(db.lags))
            try txn.put(db.meta, Key.lagged, LaggedCount.value(head: chain.seq, count: lagged))
        }
        return AppendSummary(imported: imported, duplicates: duplicates, head: chain,
                             checkpointsWritten: followedKeys.count, checkpointsFollowed: followed, tailFollowed: tailFollowed)
    }
}

/// Index entries gathered between flushes, then written in key order: LMDB touches each
/// page once per run of neighbouring keys instead of once per event. Each key is the entry's
/// block and number (`IndexBlocks`), so a flush writes only under the newest block or two.
/// Each value is a `seq` larger than any stored, so it goes after its key's others
/// (`MDB_APPENDDUP`: no search among them, and full pages).
struct PendingIndexes {
    /// 262,144 events (8 MiB of entries): at 100,000 users, each flush meets most users' node
    /// in the newest block, so more events a flush touch fewer pages an event (format 5: a
    /// 10M-event call into 20M events, 88-89 s against 92-99 s at 65,536; flushes of 2M
    /// events were no faster, docs/PERFORMANCE.md).
    static let flushAt = 1 << 18

    /// (user number, seq), in the order the call stored them.
    private var byUser: [(key: UInt32, seq: UInt64)] = []
    /// (session number, seq), likewise.
    private var bySession: [(key: UInt32, seq: UInt64)] = []

    var count: Int { byUser.count }

    mutating func add(seq: UInt64, user: UInt32, session: UInt32) {
        byUser.append((user, seq))
        if session != 0 { bySession.append((session, seq)) }
    }

    mutating func flush(_ txn: WriteTransaction, _ db: Ledger.Databases) throws {
        try PendingIndexes.file(&byUser, in: db.byUser, txn, db.blocks)
        try PendingIndexes.file(&bySession, in: db.bySession, txn, db.blocks)
    }

    /// Files `entries` (in ascending `seq`) in `database` and empties them: block by block
    /// (their blocks do not go down), each block's in key order.
    private static func file(_ entries: inout [(key: UInt32, seq: UInt64)], in database: Database,
                             _ txn: WriteTransaction, _ blocks: IndexBlocks) throws {
        var key = [UInt8](repeating: 0, count: 8)
        var value = [UInt8](repeating: 0, count: 8)
        // One block's entries at a time, copied out to be sorted (a copy of at most 4 MiB a flush).
        var run: [(key: UInt32, seq: UInt64)] = []
        var start = entries.startIndex
        try txn.withCursor(database) { cursor in
            while start < entries.endIndex {
                let block = blocks.block(of: entries[start].seq)
                var end = start + 1
                while end < entries.endIndex, blocks.block(of: entries[end].seq) == block { end += 1 }
                run.removeAll(keepingCapacity: true)
                run.append(contentsOf: entries[start..<end])
                IndexEntrySort.byKey(&run)
                for entry in run {
                    IndexBlocks.key(block: block, number: entry.key, into: &key)
                    value.removeAll(keepingCapacity: true)
                    appendBE(entry.seq, 8, &value)
                    try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try cursor.put(k, v, flags: .appendDuplicate) } }
                }
                start = end
            }
        }
        entries.removeAll(keepingCapacity: true)
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
