import LMDB

/// The ids claimed by one append call and not yet filed in `ids`.
///
/// Filing every id as its event is stored made one random insert into the `ids` tree per
/// event: the largest cost of an import (22% of a 1M-event import's samples). Claims are kept
/// here instead, in an open-addressing table keyed by the id's hash, and filed in hash order
/// when the table is full and when the call ends, so LMDB walks the tree once per flush.
/// A claim looks in the table, then in `ids`. A Bloom filter of the hashes in `ids`
/// (`HashFilter`) spares the search for nearly every claim when it holds all of them: when
/// `ids` was empty as the call began (only this call's filings are there), or when the call
/// brings enough ids to pay for reading every filed hash into the filter first. Otherwise
/// every claim searches `ids`: at 20M events that search was a third of a 10M-event call's
/// writer time, about 5 µs a claim (docs/PERFORMANCE.md). The entries filed are the same
/// either way (decision 0009).
///
/// A call into a large ledger (no filter) may instead check its claims against `ids` as it
/// files them (`checkWhenFiled`): after its first `probe` claims searched `ids` and found
/// none filed, a claim looks only in the table, and each filing looks at the entries just
/// before it, which are every earlier one of its block with its prefix, and at the filter of
/// every closed block before its own (below). Finding its id there throws
/// `SearchNeeded`: the call's transaction is dropped and `Ledger.append` runs it again
/// searching, which skips a duplicate or names the conflicting line as before (so does a
/// call that ends with bad input: its first bad line may be a conflict not yet seen). The
/// search was 28% of the writer's time in a 1M-event call into 100M events
/// (docs/PERFORMANCE.md).
///
/// `ids` is keyed by block of the log first (format 7, decision 0015), so only a claim's own
/// block holds every earlier entry with its prefix. A search asks each closed block's filter
/// (`IDFilters`) before looking there, and a call that checks its claims as it files them
/// also asks, after each filing, every closed block before a claim's own: its claims in hash
/// order against each filter in turn, which reads the filter front to back. A flush files
/// the filter of each block it closes.
struct IDClaims {
    /// The call must run again with every claim searched in `ids`: a claimed id was found
    /// filed before it (or earlier in it) while filing, after its event was stored as new, or
    /// the call has bad input and claims went unchecked.
    struct SearchNeeded: Error {}

    /// The bytes of the filters it closes a call keeps when `filed` holds every filed prefix
    /// (a call that searches keeps them all).
    static let keptFilterBytes = 64 << 20

    /// Claims searched in `ids` before a call that may check them when filed stops searching.
    static let probe = 4096

    /// Claims held before filing: bounds the table to 32 MiB.
    static let flushAt = 1 << 20

    /// A call that expects at least one id for every `scanRatio` filed reads the filed hashes
    /// into `filed` as it begins, unless the filter would then hold fewer than 4 bits a hash
    /// (more than 536M hashes in its 64 MiB), when it would say "maybe" too often to pay.
    static let scanRatio = 16

    /// (hash, seq) slots; seq 0 marks an empty one (seqs start at 1). At most half are used:
    /// the table doubles as it fills, up to twice `flushAt` slots.
    private var slots: [(hash: UInt64, seq: UInt64)] = Array(repeating: (0, 0), count: 1 << 10)
    private var mask: Int { slots.count - 1 }
    private(set) var count = 0
    /// Whether `ids` may hold hashes that `filed` does not: every claim must then search it.
    private let unfiltered: Bool
    /// Whether the call began by reading the hashes filed before it into `filed`.
    let readFiledIds: Bool
    /// Claims still to search in `ids` before claims stop searching (nil: they never stop).
    private var probing: Int?
    /// Whether claims have stopped searching `ids`: each filing then checks the entries before it.
    private(set) var checksWhenFiled = false
    /// Every hash in `ids` when `unfiltered` is false (nil: none yet).
    private var filed: HashFilter?
    private let flushAt: Int
    /// About how many ids the call brings (nil: unknown), to size `filed`.
    private let expected: Int?
    /// The filters of the closed blocks.
    private var filters: IDFilters
    /// The largest `seq` whose claim is filed (the head, as the call began): every entry of
    /// `ids` is in its block or an earlier one, and a search looks no further (the later
    /// claims are in the table).
    private var filedThrough: UInt64
    /// The filed `seq`s found for a hash by `holderRemembering`, for its claim to use instead
    /// of searching again (a group commit checks a request's ids before it stores the
    /// request; each search asks every closed block's filter). A flush changes what is filed,
    /// so it forgets them; a claim uses its own and forgets it.
    private var remembered: [UInt64: [UInt64]] = [:]

    /// `head`: the last `seq` stored before the call.
    /// `scan`: whether to read the filed hashes into the filter as the call begins (nil:
    /// when the call expects at least one id for every `scanRatio` filed).
    /// `checkWhenFiled`: whether claims may stop searching `ids` once `probe` of them found
    /// none filed, when the filed hashes are not read into the filter.
    /// `keptFilters`: the bytes of the filters it closes a call keeps when `filed` holds every
    /// filed prefix.
    init(txn: Transaction, db: Ledger.Databases, head: UInt64, expected: Int? = nil, flushAt: Int = IDClaims.flushAt,
         scan: Bool? = nil, checkWhenFiled: Bool = false, probe: Int = IDClaims.probe,
         keptFilters: Int = IDClaims.keptFilterBytes) throws {
        precondition(probe > 0)
        let stored = try txn.count(db.ids)
        self.expected = expected
        self.flushAt = flushAt
        self.filedThrough = head
        let worthIt = expected.map { $0 >= stored / IDClaims.scanRatio && stored + $0 <= HashFilter.largestBits / 4 } ?? false
        // A call whose `filed` holds every filed prefix searches only on a "maybe" from it, and
        // then asks the filters of the blocks it closed, within 64 MiB of them (a 100M-event
        // import into an empty ledger closes 23 blocks); one that searches or checks when filed
        // asks them for every claim, and keeps them all.
        let searches = stored > 0 && !(scan ?? worthIt)
        filters = try IDFilters(txn: txn, db: db, through: head, keepMade: searches ? .max : keptFilters)
        guard stored > 0, scan ?? worthIt else {
            unfiltered = stored > 0
            readFiledIds = false
            probing = stored > 0 && checkWhenFiled ? probe : nil
            return
        }
        var filter = HashFilter(expected: stored + (expected ?? 0))
        // A page of a key's values at a time, each page's hashes into the filter in a tight
        // loop: the filter's cache misses then overlap instead of waiting one by one behind a
        // cursor step each (8M filed ids: 1.5 s of a 1M-event call before).
        for block in 0...(try IDIndex(txn: txn, db: db).lastBlock() ?? 0) {
            try IDIndex.forEachEntry(inBlock: block, txn: txn, db: db) { filter.insert($0) }
        }
        filed = filter
        unfiltered = false
        readFiledIds = true
    }

    /// The stored event whose id is `id`: filed in `ids` or claimed in this call. `hash` is `IDIndex.hash(id)`.
    func holder(of id: String, hash: UInt64, txn: Transaction, db: Ledger.Databases) throws -> StoredEvent? {
        var earlier = try remembered[hash] ?? filedSeqs(hash: hash, txn: txn, db: db)
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index].seq != 0 {
            if slots[index].hash == hash { earlier.append(slots[index].seq) }
            index = (index + 1) & mask
        }
        return earlier.isEmpty ? nil : try IDIndex(txn: txn, db: db).holder(of: id, among: earlier)
    }

    /// `holder(of:hash:txn:db:)`, remembering what it found filed under `hash` for the claim
    /// that may follow (`remembered`).
    mutating func holderRemembering(of id: String, hash: UInt64, txn: Transaction, db: Ledger.Databases) throws -> StoredEvent? {
        if remembered[hash] == nil { remembered[hash] = try filedSeqs(hash: hash, txn: txn, db: db) }
        return try holder(of: id, hash: hash, txn: txn, db: db)
    }

    /// The `seq`s filed under `hash`'s prefix, in `seq` order, as far as a claim must look:
    /// none when `filed` says none is, and none when claims are checked as they are filed.
    private func filedSeqs(hash: UInt64, txn: Transaction, db: Ledger.Databases) throws -> [UInt64] {
        guard unfiltered ? !checksWhenFiled : filed?.mayContain(IDIndex.prefix(hash)) == true else { return [] }
        return try IDIndex(txn: txn, db: db).seqs(hash: hash, through: db.blocks.block(of: filedThrough), filters: filters)
    }

    /// Claims `id` (whose `IDIndex.hash` is `hash`) for `seq`, or returns the stored event that
    /// already holds it (and claims nothing): one with the same id stored before this call or
    /// earlier in it.
    mutating func claim(_ id: String, hash: UInt64, seq: UInt64, txn: WriteTransaction, db: Ledger.Databases) throws -> StoredEvent? {
        defer { if !remembered.isEmpty { remembered[hash] = nil } }
        if let held = try holder(of: id, hash: hash, txn: txn, db: db) {
            probing = nil  // the call brings ids filed before it: go on searching
            return held
        }
        if let left = probing {
            probing = left > 1 ? left - 1 : nil
            checksWhenFiled = left == 1
        }
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index].seq != 0 { index = (index + 1) & mask }
        slots[index] = (hash, seq)
        count += 1
        if count >= flushAt {
            try flush(txn, db, through: seq, claiming: (seq, id))
        } else if 2 * count > slots.count {
            grow()
        }
        return nil
    }

    /// Throws `SearchNeeded` when an entry before the one `cursor` just filed for `claim` has
    /// its prefix and names an event with its id. Every entry filed earlier with that prefix
    /// lies there: the values of a key go in order of prefix, then `seq`, and every earlier
    /// `seq` is smaller. (An entry of the same filing may lie after it: a claim of this call
    /// filed first for its smaller hash, which differs in the bytes past the prefix, so its id
    /// is another; claims with the same whole hash go in `seq` order and were compared by id
    /// in the table.)
    /// `claiming`: the claim being made, whose event is not stored yet.
    private func checkFiledBefore(_ claim: (hash: UInt64, seq: UInt64), claiming: (seq: UInt64, id: String)?,
                                  cursor: Cursor, txn: Transaction, db: Ledger.Databases) throws {
        let prefix = IDIndex.prefix(claim.hash)
        var earlier: [UInt64] = []
        var previous = try cursor.previousValue()
        while let entry = previous {
            try IDIndex.checkSize(key: entry.key, value: entry.value)
            guard IDIndex.prefix(key: entry.key, value: entry.value) == prefix else { break }
            earlier.append(IDIndex.seq(ofValue: entry.value))
            previous = try cursor.previousValue()
        }
        guard !earlier.isEmpty else { return }
        let own = try id(of: claim, claiming: claiming, txn: txn, db: db)
        if try IDIndex(txn: txn, db: db).holder(of: own, among: earlier) != nil { throw SearchNeeded() }
    }

    /// Throws `SearchNeeded` when a claim's id is filed in a closed block before its own.
    /// Block by block, the claims in hash order, so each filter is read front to back.
    private func checkClosedBlocks(_ claims: [(hash: UInt64, seq: UInt64)], claiming: (seq: UInt64, id: String)?,
                                   txn: Transaction, db: Ledger.Databases) throws {
        let index = IDIndex(txn: txn, db: db)
        for closed in 0..<filters.count {
            let block = UInt32(closed)
            for claim in claims where db.blocks.block(of: claim.seq) > block {
                guard filters.mayContain(IDIndex.prefix(claim.hash), block: block) else { continue }
                let earlier = try index.seqs(hash: claim.hash, block: block)
                guard !earlier.isEmpty else { continue }
                if try index.holder(of: id(of: claim, claiming: claiming, txn: txn, db: db), among: earlier) != nil {
                    throw SearchNeeded()
                }
            }
        }
    }

    /// The id `claim` was made for: `claiming`'s, else its stored event's.
    private func id(of claim: (hash: UInt64, seq: UInt64), claiming: (seq: UInt64, id: String)?,
                    txn: Transaction, db: Ledger.Databases) throws -> String {
        if let claiming, claiming.seq == claim.seq { return claiming.id }
        guard let own = try LedgerSnapshot(txn: txn, db: db).event(seq: claim.seq)?.event.id else {
            throw LedgerError.damaged(seq: claim.seq, problem: "the call claimed an id for seq \(claim.seq), which the log does not hold with one")
        }
        return own
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: (0, 0), count: 2 * old.count)
        for slot in old where slot.seq != 0 {
            var index = Int(truncatingIfNeeded: slot.hash) & mask
            while slots[index].seq != 0 { index = (index + 1) & mask }
            slots[index] = slot
        }
    }

    /// Files every claim in `ids`, in hash order (each under its block: a flush of two blocks
    /// writes to two parts of the tree in turn), then the filter of each block closed once
    /// every `seq` up to `through` is given (every one with an id is claimed by then: each
    /// caller passes the claim being made, the event being stored or the head).
    /// `claiming`: the claim that filled the table, when it does (its event is not stored yet).
    mutating func flush(_ txn: WriteTransaction, _ db: Ledger.Databases, through: UInt64,
                        claiming: (seq: UInt64, id: String)? = nil) throws {
        remembered.removeAll()
        var claims: [(hash: UInt64, seq: UInt64)] = []
        claims.reserveCapacity(count)
        for slot in slots where slot.seq != 0 { claims.append(slot) }
        IndexEntrySort.byHash(&claims)
        var key: [UInt8] = [], value: [UInt8] = []
        try txn.withCursor(db.ids) { cursor in
            for claim in claims {
                IDIndex.entry(hash: claim.hash, seq: claim.seq, block: db.blocks.block(of: claim.seq), key: &key, value: &value)
                try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try cursor.put(k, v) } }
                if checksWhenFiled { try checkFiledBefore(claim, claiming: claiming, cursor: cursor, txn: txn, db: db) }
            }
        }
        filedThrough = max(filedThrough, through)
        try filters.close(through: filedThrough, txn: txn, db: db)
        if checksWhenFiled { try checkClosedBlocks(claims, claiming: claiming, txn: txn, db: db) }
        guard count > 0 else { return }
        if !unfiltered {
            if filed == nil { filed = HashFilter(expected: max(expected ?? 0, 2 * claims.count)) }
            for claim in claims { filed!.insert(IDIndex.prefix(claim.hash)) }
        }
        for index in slots.indices { slots[index] = (0, 0) }
        count = 0
    }
}
