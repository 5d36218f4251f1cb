import LMDB

/// One consistent view of a ledger, valid inside `Ledger.read` (or a write) only.
///
/// Every record read is checked (version, layout, checksum); a record that fails throws
/// `LedgerError.damaged` naming its `seq`, so no query answers silently from a damaged log.
public struct LedgerSnapshot {
    let txn: Transaction
    let db: Ledger.Databases
    /// The names this snapshot's records gave by number, as looked up so far.
    let names = NameCache()
    /// The lagged events of the last range walked in time order (`laggedEvents`).
    let lagged = LaggedCache()

    /// The head of the chain (`seq` 0 and zeros for an empty ledger).
    public func head() throws -> HashChain {
        guard let bytes = try txn.get(db.meta, Key.head) else { return HashChain() }
        guard bytes.count == 40 else { throw LedgerError.damaged(seq: nil, problem: "the head record has \(bytes.count) bytes, not 40") }
        return HashChain(seq: readLE(bytes, 0, 8), value: Array(bytes[8..<40]))
    }

    /// The number of events stored (the head's `seq`).
    public func eventCount() throws -> UInt64 { try head().seq }
    public func userCount() throws -> Int { try txn.count(db.users) }
    public func sessionCount() throws -> Int { try txn.count(db.sessions) }

    /// The stored event at `seq`, or nil past the head.
    public func event(seq: UInt64) throws -> StoredEvent? {
        guard let bytes = try txn.get(db.log, Key.seq(seq)) else { return nil }
        return try decode(seq: seq, bytes)
    }

    /// Visits events with `seq > after` in `seq` order while `body` returns true.
    ///
    /// The scan steps the hash chain from the nearest stored chain value at or before `after`
    /// and hands out each block of events only once it hashes to the next stored value (or to
    /// the head): a swapped, rewritten or missing record throws `LedgerError.damaged` before
    /// any event of its block is given out. At most `HashChain.storedEvery` events are held.
    public func forEachEvent(after: UInt64 = 0, _ body: (StoredEvent) throws -> Bool) throws {
        let head = try head()
        guard after < head.seq else { return }
        let base = after / HashChain.storedEvery * HashChain.storedEvery
        var chain = HashChain()
        if base > 0 {
            guard let value = try txn.get(db.chain, Key.seq(base)), value.count == 32 else {
                throw LedgerError.damaged(seq: base, problem: "the chain value stored for seq \(base) is missing")
            }
            chain = HashChain(seq: base, value: Array(value))
        }
        var pending: [StoredEvent] = []
        var blockStart = base + 1
        var stopped = false
        func release(upTo seq: UInt64, expected: [UInt8]) throws -> Bool {
            guard chain.value == expected else {
                throw LedgerError.damaged(seq: blockStart, problem: "the events from seq \(blockStart) to \(seq) do not hash to the stored chain value")
            }
            defer { pending.removeAll(keepingCapacity: true); blockStart = seq + 1 }
            for stored in pending {
                guard try body(stored) else {
                    stopped = true
                    return false
                }
            }
            return true
        }
        try txn.withCursor(db.log) { cursor in
            try cursor.forEach(from: cursor.seek(atLeast: Key.seq(base + 1))) { entry in
                let seq = readBE(entry.key, 0, 8)
                guard seq == chain.seq + 1, seq <= head.seq else {
                    throw LedgerError.damaged(seq: min(seq, chain.seq + 1), problem: "the log's seq runs are broken (expected seq \(chain.seq + 1), found \(seq))")
                }
                chain.append(entry.value)
                if seq > after { pending.append(try decode(seq: seq, entry.value)) }
                if seq == head.seq {
                    _ = try release(upTo: seq, expected: head.value)
                    return false
                }
                if seq % HashChain.storedEvery == 0 {
                    guard let stored = try txn.get(db.chain, Key.seq(seq)) else {
                        throw LedgerError.damaged(seq: seq, problem: "the chain value stored for seq \(seq) is missing")
                    }
                    return try release(upTo: seq, expected: Array(stored))
                }
                return true
            }
        }
        if !stopped, chain.seq < head.seq {
            throw LedgerError.damaged(seq: chain.seq + 1, problem: "the log ends at seq \(chain.seq) but the head says \(head.seq)")
        }
    }

    /// Throws `LedgerError.damaged` unless the log holds one record per event of the head: what
    /// a fold of the log checks first, since its walk in time order does not see a missing
    /// record (O(1): LMDB keeps the count). A fold through an index checks that index instead
    /// (`UserLog.verify`).
    public func verifyLogCount() throws {
        let events = try eventCount()
        let records = try txn.count(db.log)
        guard records == events else {
            throw LedgerError.damaged(seq: nil, problem: "the head says \(events) events, the log holds \(records)")
        }
    }

    /// Visits events in (`at`, `seq`) order with `from <= at < to` while `body` returns true.
    public func forEachEventInTimeOrder(from: Instant? = nil, to: Instant? = nil,
                                        _ body: (StoredEvent) throws -> Bool) throws {
        try forEachEventInTimeOrder(from: from, to: to, foldOnly: false, body)
    }

    /// The same, where `foldOnly` leaves out the fields the derivation does not read
    /// (`id`, `ip`, `agent`, `meta`), which saves making them into strings.
    public func forEachEventInTimeOrder(from: Instant?, to: Instant?, foldOnly: Bool,
                                        _ body: (StoredEvent) throws -> Bool) throws {
        try forEachRecordInTimeOrder(from: from, to: to, foldOnly: foldOnly) { try body($1) }
    }

    /// The same, where each refresh that carries no name goes to `shortcut` first, checked
    /// but not decoded; one it applied (true) is not decoded at all, and the log is read
    /// `foldLookahead` records ahead for `ahead` (`forEachRecordHeaderInTimeOrder`, FoldSource).
    public func forEachEventInTimeOrder(from: Instant?, to: Instant?, foldOnly: Bool,
                                        shortcut: (UInt64, Record.Header) throws -> Bool,
                                        ahead: (Record.Header, Derivation.PrefetchStep) -> Void,
                                        _ body: (StoredEvent) throws -> Bool) throws {
        try forEachRecordInTimeOrder(from: from, to: to, foldOnly: foldOnly, shortcut: shortcut, ahead: ahead) { try body($1) }
    }

    /// The same, with each record's header (its user and session numbers). Reads the log in
    /// `seq` order and merges in the events `lags` lists (TimeOrder.swift).
    func forEachRecordInTimeOrder(from: Instant?, to: Instant?, foldOnly: Bool,
                                  _ body: (Record.Header, StoredEvent) throws -> Bool) throws {
        try forEachRecordHeaderInTimeOrder(from: from, to: to) { seq, header, record in
            try body(header, try decode(seq: seq, record, foldOnly: foldOnly))
        }
    }

    /// The same for a fold: each record is offered to its `shortcut` first (`offer`), and the
    /// log is read `foldLookahead` records ahead for its `ahead` (`forEachRecordHeaderInTimeOrder`).
    func forEachRecordInTimeOrder(from: Instant?, to: Instant?, foldOnly: Bool,
                                  shortcut: (UInt64, Record.Header) throws -> Bool,
                                  ahead: (Record.Header, Derivation.PrefetchStep) -> Void,
                                  _ body: (Record.Header, StoredEvent) throws -> Bool) throws {
        try forEachRecordHeaderInTimeOrder(from: from, to: to, lookahead: Self.foldLookahead, ahead: ahead) { seq, header, record in
            if try offer(seq, header, record, to: shortcut) { return true }
            return try body(header, try decode(seq: seq, record, foldOnly: foldOnly))
        }
    }

    /// Hands a refresh that carries no name to a fold's `shortcut` (`Derivation.applyRefresh`),
    /// after checking the whole record as decoding would; true when the fold applied it.
    /// (A record that carries a name is decoded, so the snapshot's names learn it.)
    @inline(__always)
    func offer(_ seq: UInt64, _ header: Record.Header, _ record: UnsafeRawBufferPointer,
               to shortcut: (UInt64, Record.Header) throws -> Bool) throws -> Bool {
        guard header.kind == .refresh, Record.carried(record).isEmpty else { return false }
        do {
            _ = try Record.check(record)
        } catch let damage as Record.Damage {
            throw LedgerError.damaged(seq: seq, problem: damage.problem)
        }
        return try shortcut(seq, header)
    }

    /// The earliest and latest `at` stored, from the log's first and last records and `lags`.
    ///
    /// The latest is O(1): the last event's `at` when it is not lagged, else its `at` plus its
    /// lag (a lag is measured from the largest `at` before it). The earliest is the first
    /// event's or a lagged one's, so it reads every `lags` entry: O(lagged events).
    public func timeRange() throws -> (first: Instant, last: Instant)? {
        guard let last = try latestInstant(), let record = try txn.get(db.log, Key.seq(1)) else { return nil }
        let first = try verifiedHeader(of: record, seq: 1).at
        var earliest = first
        try txn.withCursor(db.lags) { cursor in
            try cursor.forEach(from: cursor.first()) { stored in
                earliest = min(earliest, try LagEntry.read(stored).entry.at)  // damage refused, as `latestInstant` does
                return true
            }
        }
        return (earliest, last)
    }

    /// The largest `at` stored, or nil for an empty ledger. O(1).
    public func latestInstant() throws -> Instant? {
        let head = try eventCount()
        guard head > 0, try txn.get(db.log, Key.seq(head)) != nil else { return nil }
        return try largestAt(through: head)
    }

    /// Every user the ledger names, in the order of their UTF-8 bytes (the `users` index's
    /// keys): O(users), without reading the log.
    public func userNames() throws -> [String] {
        var names: [String] = []
        try txn.withCursor(db.users) { cursor in
            try cursor.forEach(from: cursor.first()) { entry in
                names.append(String(decoding: entry.key, as: UTF8.self))
                return true
            }
        }
        return names
    }

    /// The interned number of a user, or nil when the ledger has never seen them.
    public func userNumber(_ user: String) throws -> UInt32? {
        try txn.get(db.users, Array(user.utf8)).map { UInt32(readLE($0, 0, 4)) }
    }

    /// The interned number of a session, or nil when no event has named it.
    public func sessionNumber(_ session: String) throws -> UInt32? {
        try sessionEntry(session)?.number
    }

    /// The `seq`s of one user's events, in `seq` order.
    public func seqs(ofUser number: UInt32) throws -> [UInt64] {
        try filed(db.byUser, number: number)
    }

    /// The `seq`s `by_session` files under one session, in `seq` order: every event naming it
    /// but its refreshes by its home user (`SessionHome`).
    public func seqs(ofSession number: UInt32, from: UInt64 = 0) throws -> [UInt64] {
        try filed(db.bySession, number: number, from: from)
    }

    /// The `seq`s `database` (`by_user` or `by_session`) files under `number`: its entries in
    /// each block of the log from `from`'s, the blocks in order (`IndexBlocks`), up to the last event's. A
    /// last key past that block is damage, reported as such (one flipped bit there would
    /// otherwise make every lookup walk billions of blocks). Read in a read transaction or
    /// after a call: a call's entries are filed in flushes, and the head at its end.
    private func filed(_ database: Database, number: UInt32, from: UInt64 = 0) throws -> [UInt64] {
        let head = try eventCount()
        return try txn.withCursor(database) { cursor in
            guard let last = try cursor.last() else { return [] }
            let lastBlock = db.blocks.block(of: head)
            guard last.key.count == 8, UInt32(readBE(last.key, 0, 4)) <= lastBlock else {
                throw LedgerError.damaged(seq: nil, problem: "an index by user or session holds a key past the last block of the log (\(last.key.count) bytes, block \(last.key.count >= 4 ? readBE(last.key, 0, 4) : 0))")
            }
            var out: [UInt64] = []
            let firstBlock = db.blocks.block(of: min(from, head))
            var key: [UInt8] = []
            key.reserveCapacity(8)
            for block in firstBlock...lastBlock {
                IndexBlocks.key(block: block, number: number, into: &key)
                var entry = try cursor.seek(exactly: key)
                while let current = entry {
                    out.append(readBE(current.value, 0, 8))
                    entry = try cursor.nextValue()
                }
            }
            return out
        }
    }

    func decode(seq: UInt64, _ bytes: UnsafeRawBufferPointer, foldOnly: Bool = false) throws -> StoredEvent {
        try decodeWithHeader(seq: seq, bytes, foldOnly: foldOnly).stored
    }

    func decodeWithHeader(seq: UInt64, _ bytes: UnsafeRawBufferPointer, foldOnly: Bool) throws -> (header: Record.Header, stored: StoredEvent) {
        do {
            let (header, event) = try Record.decode(bytes, foldOnly: foldOnly, names: SnapshotNames(snapshot: self))
            return (header, StoredEvent(seq: seq, recorded: header.recorded, event: event,
                                        sessionNumber: header.sessionNumber, userNumber: header.userNumber))
        } catch let damage as Record.Damage {
            throw LedgerError.damaged(seq: seq, problem: damage.problem)
        }
    }
}

/// Key encodings (docs/FORMAT.md): big-endian so that LMDB's byte order is numeric order.
enum Key {
    static let head = Array("head".utf8)
    static let format = Array("format".utf8)
    static let lagged = Array("lagged".utf8)

    @inline(__always) static func seq(_ seq: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(8)
        appendBE(seq, 8, &out)
        return out
    }

    @inline(__always) static func number(_ n: UInt32) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4)
        appendBE(UInt64(n), 4, &out)
        return out
    }
}
