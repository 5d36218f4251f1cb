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
/// before it, which are every earlier one with its prefix. Finding its id there throws
/// `SearchNeeded`: the call's transaction is dropped and `Ledger.append` runs it again
/// searching, which skips a duplicate or names the conflicting line as before (so does a
/// call that ends with bad input: its first bad line may be a conflict not yet seen). The
/// search was 28% of the writer's time in a 1M-event call into 100M events
/// (docs/PERFORMANCE.md).
struct IDClaims {
    /// The call must run again with every claim searched in `ids`: a claimed id was found
    /// filed before it (or earlier in it) while filing, after its event was stored as new, or
    /// the call has bad input and claims went unchecked.
    struct SearchNeeded: Error {}

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

    /// `scan`: whether to read the filed hashes into the filter as the call begins (nil:
    /// when the call expects at least one id for every `scanRatio` filed).
    /// `checkWhenFiled`: whether claims may stop searching `ids` once `probe` of them found
    /// none filed, when the filed hashes are not read into the filter.
    init(txn: Transaction, db: Ledger.Databases, expected: Int? = nil, flushAt: Int = IDClaims.flushAt,
         scan: Bool? = nil, checkWhenFiled: Bool = false, probe: Int = IDClaims.probe) throws {
        precondition(probe > 0)
        let stored = try txn.count(db.ids)
        self.expected = expected
        self.flushAt = flushAt
        guard stored > 0 else {
            unfiltered = false
            readFiledIds = false
            return
        }
        let worthIt = expected.map { $0 >= stored / IDClaims.scanRatio && stored + $0 <= HashFilter.largestBits / 4 } ?? false
        guard scan ?? worthIt else {
            unfiltered = true
            readFiledIds = false
            probing = checkWhenFiled ? probe : nil
            return
        }
        var filter = HashFilter(expected: stored + (expected ?? 0))
        try txn.withCursor(db.ids) { cursor in
            // A page of a key's values at a time, each page's hashes into the filter in a
            // tight loop: the filter's cache misses then overlap instead of waiting one by one
            // behind a cursor step each (8M filed ids: 1.5 s of a 1M-event call before).
            var entry = try cursor.first()
            while let current = entry {
                try IDIndex.checkSize(key: current.key, value: current.value)
                let key = Array(current.key)  // kept past the cursor's moves below
                var page = try cursor.valuesOnPage()
                while let values = page {
                    try IDIndex.checkSize(values: values)
                    key.withUnsafeBytes { key in
                        var offset = 0
                        while offset < values.count {
                            filter.insert(IDIndex.prefix(key: key, value: values, at: offset))
                            offset += IDIndex.valueSize
                        }
                    }
                    page = try cursor.valuesOnNextPage()
                }
                entry = try cursor.nextKey()
            }
        }
        filed = filter
        unfiltered = false
        readFiledIds = true
    }

    /// The stored event whose id is `id`: filed in `ids` or claimed in this call. `hash` is `IDIndex.hash(id)`.
    func holder(of id: String, hash: UInt64, txn: Transaction, db: Ledger.Databases) throws -> StoredEvent? {
        var earlier: [UInt64] = []
        if unfiltered ? !checksWhenFiled : filed?.mayContain(IDIndex.prefix(hash)) == true {
            earlier = try IDIndex(txn: txn, db: db).seqs(hash: hash)
        }
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index].seq != 0 {
            if slots[index].hash == hash { earlier.append(slots[index].seq) }
            index = (index + 1) & mask
        }
        return earlier.isEmpty ? nil : try IDIndex(txn: txn, db: db).holder(of: id, among: earlier)
    }

    /// Claims `id` (whose `IDIndex.hash` is `hash`) for `seq`, or returns the stored event that
    /// already holds it (and claims nothing): one with the same id stored before this call or
    /// earlier in it.
    mutating func claim(_ id: String, hash: UInt64, seq: UInt64, txn: WriteTransaction, db: Ledger.Databases) throws -> StoredEvent? {
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
            try flush(txn, db, claiming: (seq, id))
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
        let own = claiming?.seq == claim.seq ? claiming?.id : try LedgerSnapshot(txn: txn, db: db).event(seq: claim.seq)?.event.id
        guard let own else {
            throw LedgerError.damaged(seq: claim.seq, problem: "the call claimed an id for seq \(claim.seq), which the log does not hold with one")
        }
        if try IDIndex(txn: txn, db: db).holder(of: own, among: earlier) != nil { throw SearchNeeded() }
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

    /// Files every claim in `ids`, in key order.
    /// `claiming`: the claim that filled the table, when it does (its event is not stored yet).
    mutating func flush(_ txn: WriteTransaction, _ db: Ledger.Databases, claiming: (seq: UInt64, id: String)? = nil) throws {
        guard count > 0 else { return }
        var claims: [(hash: UInt64, seq: UInt64)] = []
        claims.reserveCapacity(count)
        for slot in slots where slot.seq != 0 { claims.append(slot) }
        IndexEntrySort.byHash(&claims)
        var key: [UInt8] = [], value: [UInt8] = []
        try txn.withCursor(db.ids) { cursor in
            for claim in claims {
                IDIndex.entry(hash: claim.hash, seq: claim.seq, key: &key, value: &value)
                try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try cursor.put(k, v) } }
                if checksWhenFiled { try checkFiledBefore(claim, claiming: claiming, cursor: cursor, txn: txn, db: db) }
            }
        }
        if !unfiltered {
            if filed == nil { filed = HashFilter(expected: max(expected ?? 0, 2 * claims.count)) }
            for claim in claims { filed!.insert(IDIndex.prefix(claim.hash)) }
        }
        for index in slots.indices { slots[index] = (0, 0) }
        count = 0
    }
}

/// A blocked Bloom filter of hashes that are already uniform (SHA-256 bytes; here the 40-bit
/// prefixes `ids` files): each hash sets 6 bits of one 512-bit block, so a lookup reads one
/// cache line. About 8 bits an
/// expected hash, within 64 KiB and 64 MiB; false positives (a few percent at the expected
/// count, more past it) only cost a search.
struct HashFilter {
    private var words: [UInt64]
    private let blockShift: Int

    /// 64 MiB.
    static let largestBits = 1 << 29

    init(expected: Int) {
        let bits = min(max(8 * expected, 1 << 19), HashFilter.largestBits)
        let blocks = 1 << (Int.bitWidth - (bits / 512 - 1).leadingZeroBitCount)  // a power of two
        words = Array(repeating: 0, count: 8 * blocks)
        blockShift = 64 - blocks.trailingZeroBitCount
    }

    private func positions(_ hash: UInt64) -> (block: Int, bits: UInt64) {
        let spread = hash &* 0xD6E8_FEB8_6659_FD93  // over all 64 bits, whatever bits the hash uses
        let block = blockShift == 64 ? 0 : Int(spread >> UInt64(blockShift))
        return (8 * block, spread &* 0x9E37_79B9_7F4A_7C15)  // the block's bits from a remix of the hash
    }

    mutating func insert(_ hash: UInt64) {
        var (base, bits) = positions(hash)
        for _ in 0..<6 {
            let bit = Int(bits & 511)
            words[base + bit >> 6] |= 1 << UInt64(bit & 63)
            bits >>= 9
        }
    }

    func mayContain(_ hash: UInt64) -> Bool {
        var (base, bits) = positions(hash)
        for _ in 0..<6 {
            let bit = Int(bits & 511)
            if words[base + bit >> 6] & (1 << UInt64(bit & 63)) == 0 { return false }
            bits >>= 9
        }
        return true
    }
}
