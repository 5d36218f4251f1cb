import LMDB

/// What `sledger check` found.
public struct CheckReport: Sendable {
    public struct Problem: Sendable, CustomStringConvertible {
        /// The damaged `seq`, when one can be named.
        public var seq: UInt64?
        public var what: String
        public var description: String { seq.map { "seq \($0): \(what)" } ?? what }
    }

    public var events: UInt64 = 0
    public var head = HashChain()
    public var problems: [Problem] = []
    /// How many checkpoints there are (verified when the log is intact).
    public var checkpoints = 0
    /// True when `--digest` was given and the ledger still holds exactly that prefix.
    public var digestMatched: Bool?

    public var isIntact: Bool { problems.isEmpty }

    /// The smallest `seq` any problem names.
    public var firstDamagedSeq: UInt64? { problems.compactMap(\.seq).min() }
}

extension Ledger {
    /// Verifies every record, `seq` contiguity, the hash chain and every index against the log;
    /// with `digest`, that the ledger still holds exactly that prefix; and, when all that holds,
    /// every checkpoint against a refold of the log (docs/FORMAT.md).
    public func check(digest: (seq: UInt64, value: [UInt8])? = nil) throws -> CheckReport {
        var report = try read { snapshot in
            var check = IntegrityCheck(snapshot: snapshot)
            return try check.run(digest: digest)
        }
        if report.isIntact {
            report.checkpoints = try read { try $0.txn.count($0.db.checkpoints) }
            report.problems += try checkpointProblems()
        }
        return report
    }
}

struct IntegrityCheck {
    let snapshot: LedgerSnapshot
    var txn: Transaction { snapshot.txn }
    var db: Ledger.Databases { snapshot.db }
    var report = CheckReport()

    init(snapshot: LedgerSnapshot) { self.snapshot = snapshot }

    mutating func run(digest: (seq: UInt64, value: [UInt8])?) throws -> CheckReport {
        let head: HashChain
        do {
            head = try snapshot.head()
        } catch let error as LedgerError {
            report.problems.append(.init(seq: nil, what: error.description))
            head = HashChain()
        }
        report.head = head
        var chain = HashChain()
        var digestValue: [UInt8]? = digest?.seq == 0 ? HashChain().value : nil
        var indexedBySession = 0, withID = 0
        var maxUser: UInt32 = 0, maxSession: UInt32 = 0
        var logEnded = false
        var lateness = LatenessTracker(maxSkew: nil)
        var lagged = 0

        try txn.withCursor(db.log) { cursor in
            var entry = try cursor.first()
            while let current = entry {
                let seq = readBE(current.key, 0, 8)
                let expected = chain.seq + 1
                guard current.key.count == 8, seq == expected else {
                    problem(expected, seq > expected ? "missing from the log (the next stored is seq \(seq))" : "log key out of order")
                    return
                }
                let record = current.value
                let decoded: (header: Record.Header, event: Event)
                do {
                    decoded = try Record.decode(record, names: SnapshotNames(snapshot: snapshot))
                } catch let damage as Record.Damage {
                    problem(seq, "record damaged: \(damage.problem)")
                    return
                }
                let (header, event) = decoded
                chain.append(record)
                if seq == digest?.seq { digestValue = chain.value }
                if seq % HashChain.storedEvery == 0 {
                    let stored = try txn.get(db.chain, Key.seq(seq)).map { Array($0) }
                    if stored != chain.value { problem(seq, "the stored chain value differs from the recomputed one") }
                }
                // Interned numbers: assigned 1, 2, 3 ... in order of first appearance, and the
                // record that first names each carries its string, which both tables must give.
                let carried = Record.carried(record)
                if try names(header.userNumber, event.user, carried: carried.contains(.user), after: maxUser,
                             table: db.users, valueSize: 4, reverse: db.userNames) == nil {
                    problem(seq, "the user number does not match the users and user_names indexes")
                }
                maxUser = max(maxUser, header.userNumber)
                if let session = event.session {
                    let stored = try names(header.sessionNumber, session, carried: carried.contains(.session), after: maxSession,
                                           table: db.sessions, valueSize: 8, reverse: db.sessionNames)
                    if stored == nil {
                        problem(seq, "the session number does not match the sessions and session_names indexes")
                    }
                    let home = stored.flatMap(SessionHome.entry)?.home
                    maxSession = max(maxSession, header.sessionNumber)
                    // The record that first names a session gives it its home user (SessionHome).
                    if carried.contains(.session), let home, home != header.userNumber {
                        problem(seq, "the sessions index gives this session another home user than the user of the event that first names it")
                    }
                    if let home, SessionHome.isIndexed(header.kind, user: header.userNumber, home: home) {
                        indexedBySession += 1
                        if !(try hasDuplicate(db.bySession, key: db.blocks.key(number: header.sessionNumber, seq: seq), value: Key.seq(seq))) {
                            problem(seq, "missing from the by_session index")
                        }
                    }
                }  // (a session number without a session flag does not decode: Record.decode)
                if let id = event.id {
                    withID += 1
                    if !(try IDIndex(txn: txn, db: db).names(seq, asHolderOf: id)) {
                        problem(seq, "the id index does not point at this event")
                    }
                }
                let lag = lateness.lag(header.at)
                if lag > 0 { lagged += 1 }
                // (Made only when needed: one string per event was 100M allocations at 100M.)
                func missed() -> String { "the lags index does not hold this event's lag of \(lag) ns and its instant" }
                if let stored = try txn.get(db.lags, Key.seq(seq)) {
                    if lag == 0 {
                        problem(seq, "the lags index names an event that was not logged late")
                    } else {
                        do {
                            if try LagEntry.read(stored, seq: seq) != LagEntry(lag: lag, at: header.at) { problem(seq, missed()) }
                        } catch LedgerError.damaged(_, let what) {
                            problem(seq, what)
                        }
                    }
                } else if lag > 0 {
                    problem(seq, missed())
                }
                if !(try hasDuplicate(db.byUser, key: db.blocks.key(number: header.userNumber, seq: seq), value: Key.seq(seq))) {
                    problem(seq, "missing from the by_user index")
                }
                entry = try cursor.next()
            }
            logEnded = true
        }

        if logEnded {
            if chain.seq != head.seq {
                problem(min(chain.seq, head.seq) + 1, "the head says \(head.seq) events, the log holds \(chain.seq)")
            } else if chain.value != head.value {
                problem(head.seq, "the head's chain value differs from the recomputed one")
            }
            let events = Int(chain.seq)
            try expectCount(db.byUser, events, "by_user") { _, value in (readBE(value, 0, 8), true) }
            try expectCount(db.bySession, indexedBySession, "by_session") { _, value in (readBE(value, 0, 8), true) }
            try expectCount(db.ids, withID, "ids") { _, value in (value.count == IDIndex.valueSize ? IDIndex.seq(ofValue: value) : 0, true) }
            try checkIdsAcrossBlocks(through: chain.seq)
            try expectCount(db.lags, lagged, "lags") { key, _ in (readBE(key, 0, 8), true) }
            // The writer's count of lagged events, as of the last event the log holds (a head
            // that disagrees is named above; docs/FORMAT.md).
            do {
                let counted = try snapshot.laggedCount(asOf: chain.seq)
                if counted != UInt64(lagged) {
                    report.problems.append(.init(seq: nil, what: "meta/lagged counts \(counted) lagged events, the log holds \(lagged)"))
                }
            } catch LedgerError.damaged(_, let problem) {
                report.problems.append(.init(seq: nil, what: problem))
            }
            try expectCount(db.users, Int(maxUser), "users", seqOf: nil)
            try expectCount(db.sessions, Int(maxSession), "sessions", seqOf: nil)
            try expectCount(db.userNames, Int(maxUser), "user_names", seqOf: nil)
            try expectCount(db.sessionNames, Int(maxSession), "session_names", seqOf: nil)
            try expectCount(db.chain, events / Int(HashChain.storedEvery), "chain", seqOf: nil)
        }
        report.events = chain.seq

        if let digest {
            if digest.seq > chain.seq {
                report.problems.append(.init(seq: nil, what: "the digest names seq \(digest.seq), but the ledger holds \(chain.seq) readable events"))
                report.digestMatched = false
            } else if digestValue != digest.value {
                report.problems.append(.init(seq: nil, what: "the events up to seq \(digest.seq) do not hash to the digest: history was rewritten or damaged"))
                report.digestMatched = false
            } else {
                report.digestMatched = true
            }
        }
        return report
    }

    /// `ids` block by block against what `names` (an event's own block) cannot see, in one pass
    /// over it, one key byte at a time:
    /// - each closed block's filter in `id_filters` says "may hold" for every prefix the block
    ///   files (what a search relies on; a bit set too many only costs a search, and an entry
    ///   missing from `ids` is named at its own event, not as a filter's fault);
    /// - no id is filed in two blocks: the byte's entries of every block in prefix order, and
    ///   the events sharing a prefix across blocks compared by their ids.
    private mutating func checkIdsAcrossBlocks(through head: UInt64) throws {
        let filters: IDFilters
        do {
            filters = try IDFilters(txn: txn, db: db, through: head)
        } catch let error as LedgerError {
            report.problems.append(.init(seq: nil, what: error.description))
            return
        }
        guard let last = try IDIndex(txn: txn, db: db).lastBlock() else { return }
        var unheld = Set<UInt32>()  // closed blocks whose filter misses a prefix they file
        var entries: [(prefix: UInt64, seq: UInt64)] = []
        var key: [UInt8] = []
        for byte in 0...UInt64(UInt8.max) {
            entries.removeAll(keepingCapacity: true)
            try txn.withCursor(db.ids) { cursor in
                for block in 0...last {
                    key.removeAll(keepingCapacity: true)
                    appendBE(UInt64(block), 4, &key)
                    appendBE(byte, 1, &key)
                    let closed = UInt64(block) < filters.count
                    var entry = try cursor.seek(exactly: key)
                    while let current = entry {
                        try IDIndex.checkSize(key: current.key, value: current.value)
                        let prefix = IDIndex.prefix(key: current.key, value: current.value)
                        if closed, !filters.mayContain(prefix, block: block) { unheld.insert(block) }
                        entries.append((prefix, IDIndex.seq(ofValue: current.value)))
                        entry = try cursor.nextValue()
                    }
                }
            }
            guard last > 0 else { continue }
            entries.sort { ($0.prefix, $0.seq) < ($1.prefix, $1.seq) }
            var start = 0
            while start < entries.count {
                var end = start + 1
                while end < entries.count, entries[end].prefix == entries[start].prefix { end += 1 }
                defer { start = end }
                let firstBlock = db.blocks.block(of: entries[start].seq)
                guard entries[start..<end].contains(where: { db.blocks.block(of: $0.seq) != firstBlock }) else { continue }
                var holders: [String: UInt64] = [:]
                for (_, seq) in entries[start..<end] {
                    guard let id = try? snapshot.event(seq: seq)?.event.id else { continue }  // check reports it at its seq
                    if let earlier = holders[id], db.blocks.block(of: earlier) != db.blocks.block(of: seq) {
                        problem(seq, "holds the id of seq \(earlier) (filed in another block of the ids index)")
                    }
                    holders[id] = holders[id] ?? seq
                }
            }
        }
        for block in unheld.sorted() {
            let first = max(UInt64(block) << UInt64(db.blocks.bits), 1)
            problem(first, "the id_filters entry of the block from seq \(first) does not hold every id its ids entries file")
        }
    }

    private mutating func problem(_ seq: UInt64, _ what: String) {
        report.problems.append(.init(seq: seq, what: what))
    }

    /// Whether a record's `number` for `name` is right: the next unused number exactly when the
    /// record carries the name, else one already used; `table` gives `name` that number; and the
    /// carried name is the one `reverse` files under it (a name not carried was read from
    /// `reverse`, so the `table` lookup checks the pair).
    /// Returns `table`'s entry for `name` (`valueSize` bytes, the number first; a session's also
    /// holds its home user) when all of that holds, else nil.
    private func names(_ number: UInt32, _ name: String, carried: Bool, after used: UInt32,
                       table: Database, valueSize: Int, reverse: Database) throws -> UnsafeRawBufferPointer? {
        guard number != 0, carried ? number == used + 1 : number <= used else { return nil }
        guard let stored = try txn.get(table, Array(name.utf8)), stored.count == valueSize,
              UInt32(readLE(stored, 0, 4)) == number else { return nil }
        guard carried else { return stored }
        let filed = try txn.get(reverse, Key.number(number)).flatMap { NameEntry.name(number, $0) }
        return filed?.elementsEqual(name.utf8) == true ? stored : nil
    }

    private func hasDuplicate(_ database: Database, key: [UInt8], value: [UInt8]) throws -> Bool {
        try txn.withCursor(database) { cursor in
            guard let found = try cursor.seek(key: key, valueAtLeast: value) else { return false }
            return found.value.elementsEqual(value)
        }
    }

    /// An index holding more entries than the log implies: name the first entry whose `seq`
    /// is out of place (past the head) when there is one.
    private mutating func expectCount(_ database: Database, _ expected: Int, _ name: String,
                                      seqOf: ((UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> (UInt64, Bool))?) throws {
        let actual = try txn.count(database)
        guard actual != expected else { return }
        var culprit: UInt64?
        if let seqOf, actual > expected {
            try txn.withCursor(database) { cursor in
                try cursor.forEach(from: cursor.first()) { entry in
                    let (seq, _) = seqOf(entry.key, entry.value)
                    if seq == 0 || seq > report.head.seq { culprit = seq; return false }
                    return true
                }
            }
        }
        report.problems.append(.init(seq: culprit, what: "the \(name) index holds \(actual) entries, the log implies \(expected)"))
    }
}
