import Crypto
import LMDB

/// The `ids` index: which `seq` holds each idempotency key (docs/FORMAT.md).
///
/// Keyed by a hash of the id, not by the id itself, and by the block of the log the event's
/// `seq` falls in before that (format 7, decision 0015; the blocks of `by_user` and
/// `by_session`, `IndexBlocks`): an entry is filed under the block (u32 big-endian) and the
/// first byte of the id's SHA-256, and its value is the next 4 bytes then the `seq` (u48):
/// 10 bytes, all of the same size, so LMDB packs the values of one key side by side without
/// a node header each (`MDB_DUPFIXED`; decisions 0009 and 0011). The entry files 40 bits of
/// the hash, its *prefix*: two ids may share it (at 100M ids, one lookup in 11,000 meets
/// another id's entry), so a lookup reads every value with the id's prefix and always
/// compares the id with the stored record. A truncated SHA-256 is used rather than a faster
/// non-cryptographic hash so that nobody can cheaply make many ids share one prefix (which
/// would make every lookup of it read many records).
///
/// An id is looked up in every block, each closed one only when its filter (`IDFilters`)
/// says it may hold the prefix.
struct IDIndex {
    let txn: Transaction
    let db: Ledger.Databases

    /// The largest `seq` an entry can hold (6 bytes).
    static let largestSeq: UInt64 = 1 << 48 - 1

    /// The bytes of an entry's value.
    static let valueSize = 10

    /// The first 8 bytes of the SHA-256 of `id`, big-endian.
    static func hash(_ id: String) -> UInt64 {
        var id = id
        return id.withUTF8 { utf8 in
            SHA256.hash(data: UnsafeRawBufferPointer(utf8)).withUnsafeBytes { readBE($0, 0, 8) }
        }
    }

    /// The 40 bits of `hash` an entry files (its first 5 bytes), as a number.
    static func prefix(_ hash: UInt64) -> UInt64 { hash >> 24 }

    /// The bytes of an entry's key: the block, then the first byte of the hash.
    static let keySize = 5

    /// The entry filing `seq` as the holder of an id with hash `hash`: key and value bytes.
    static func entry(hash: UInt64, seq: UInt64, blocks: IndexBlocks) -> (key: [UInt8], value: [UInt8]) {
        var key: [UInt8] = [], value: [UInt8] = []
        entry(hash: hash, seq: seq, block: blocks.block(of: seq), key: &key, value: &value)
        return (key, value)
    }

    /// The same under `block` (the block of `seq`), written into `key` and `value` (replacing
    /// their contents).
    static func entry(hash: UInt64, seq: UInt64, block: UInt32, key: inout [UInt8], value: inout [UInt8]) {
        precondition(seq <= largestSeq, "seq \(seq) does not fit the ids index")
        key.removeAll(keepingCapacity: true)
        value.removeAll(keepingCapacity: true)
        appendBE(UInt64(block), 4, &key)
        appendBE(hash >> 56, 1, &key)
        appendBE(hash >> 24, 4, &value)
        appendBE(seq, 6, &value)
    }

    static func entry(_ id: String, seq: UInt64, blocks: IndexBlocks) -> (key: [UInt8], value: [UInt8]) {
        entry(hash: hash(id), seq: seq, blocks: blocks)
    }

    /// Throws unless `key` and `value` have the sizes of an entry: a damaged or foreign `ids`
    /// must not read as "no such id" (which would store a duplicate).
    static func checkSize(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws {
        guard key.count == keySize, value.count == valueSize else {
            throw LedgerError.damaged(seq: nil, problem: "the ids index holds a \(key.count)-byte key with a \(value.count)-byte entry, not \(keySize) and \(valueSize)")
        }
    }

    /// The same for a page of values read together: a whole number of entries.
    static func checkSize(values: UnsafeRawBufferPointer) throws {
        guard values.count % valueSize == 0 else {
            throw LedgerError.damaged(seq: nil, problem: "the ids index holds a page of \(values.count) bytes of entries, not a multiple of \(valueSize)")
        }
    }

    /// The prefix an entry files: 1 byte at the end of the key, 4 at the start of the value
    /// (the value at `offset` in a page of them read together).
    static func prefix(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, at offset: Int = 0) -> UInt64 {
        readBE(key, 4, 1) << 32 | readBE(value, offset, 4)
    }

    /// The block an entry's key files it under.
    static func block(ofKey key: UnsafeRawBufferPointer) -> UInt32 { UInt32(readBE(key, 0, 4)) }

    /// The `seq` an entry's value holds.
    static func seq(ofValue value: UnsafeRawBufferPointer) -> UInt64 { readBE(value, 4, 6) }

    /// How many entries `block` holds.
    static func count(inBlock block: UInt32, txn: Transaction, db: Ledger.Databases) throws -> Int {
        var count = 0
        try forEachKey(inBlock: block, txn: txn, db: db) { cursor, _ in count += try cursor.valueCount() }
        return count
    }

    /// Calls `body` with the prefix of every entry of `block`, a page of values at a time.
    static func forEachEntry(inBlock block: UInt32, txn: Transaction, db: Ledger.Databases,
                             _ body: (UInt64) throws -> Void) throws {
        try forEachKey(inBlock: block, txn: txn, db: db) { cursor, key in
            var page = try cursor.valuesOnPage()
            while let values = page {
                try IDIndex.checkSize(values: values)
                try key.withUnsafeBytes { key in
                    var offset = 0
                    while offset < values.count {
                        try body(IDIndex.prefix(key: key, value: values, at: offset))
                        offset += IDIndex.valueSize
                    }
                }
                page = try cursor.valuesOnNextPage()
            }
        }
    }

    /// Calls `body` with a cursor on each key of `block` in turn (its first value, checked for
    /// size) and the key's bytes; `body` may move the cursor among that key's values.
    private static func forEachKey(inBlock block: UInt32, txn: Transaction, db: Ledger.Databases,
                                   _ body: (Cursor, [UInt8]) throws -> Void) throws {
        var first: [UInt8] = []
        appendBE(UInt64(block), 4, &first)
        try txn.withCursor(db.ids) { cursor in
            var entry = try cursor.seek(atLeast: first)
            while let current = entry {
                try IDIndex.checkSize(key: current.key, value: current.value)
                guard IDIndex.block(ofKey: current.key) == block else { break }
                try body(cursor, Array(current.key))  // a copy: the key outlives the cursor's moves
                entry = try cursor.nextKey()
            }
        }
    }

    /// The `seq`s filed under `hash`'s prefix in `block`, in `seq` order.
    func seqs(hash: UInt64, block: UInt32) throws -> [UInt64] {
        var key: [UInt8] = [], lowest: [UInt8] = []
        IDIndex.entry(hash: hash, seq: 0, block: block, key: &key, value: &lowest)
        return try txn.withCursor(db.ids) { cursor in
            var out: [UInt64] = []
            var entry = try cursor.seek(key: key, valueAtLeast: lowest)
            while let current = entry {
                try IDIndex.checkSize(key: current.key, value: current.value)
                guard current.value.prefix(4).elementsEqual(lowest.prefix(4)) else { break }
                out.append(IDIndex.seq(ofValue: current.value))
                entry = try cursor.nextValue()
            }
            return out
        }
    }

    /// The `seq`s filed under `hash`'s prefix in blocks 0 to `last`, in `seq` order; a
    /// block `filters` has closed is searched only when its filter may hold the prefix.
    func seqs(hash: UInt64, through last: UInt32, filters: IDFilters?) throws -> [UInt64] {
        let prefix = IDIndex.prefix(hash)
        var out: [UInt64] = []
        for block in 0...last where filters?.mayContain(prefix, block: block) ?? true {
            out += try seqs(hash: hash, block: block)
        }
        return out
    }

    /// The block of the last entry (nil: none).
    func lastBlock() throws -> UInt32? {
        try txn.withCursor(db.ids) { cursor in
            guard let last = try cursor.last() else { return nil }
            try IDIndex.checkSize(key: last.key, value: last.value)
            return IDIndex.block(ofKey: last.key)
        }
    }

    /// The stored event whose id is `id`, or nil.
    func lookup(_ id: String) throws -> StoredEvent? {
        guard let last = try lastBlock() else { return nil }
        return try holder(of: id, among: seqs(hash: IDIndex.hash(id), through: last, filters: nil))
    }

    /// Whether the index names `seq` as the holder of `id`: an entry of its block with the
    /// id's hash lists `seq`, and no other event listed there with that hash has the same id.
    /// What `sledger check` asks of every event (it looks for an id held in two blocks
    /// separately); the common case (one `seq` with the hash) decodes nothing.
    func names(_ seq: UInt64, asHolderOf id: String) throws -> Bool {
        var listed = false
        var other = false
        for held in try seqs(hash: IDIndex.hash(id), block: db.blocks.block(of: seq)) {
            if held == seq {
                listed = true
            } else if (try? LedgerSnapshot(txn: txn, db: db).event(seq: held))??.event.id == id {
                // (A damaged record there is `check`'s to report at its own seq.)
                other = true
            }
        }
        return listed && !other
    }

    /// Of the events `seqs` lists, the one whose id is `id`.
    func holder(of id: String, among seqs: [UInt64]) throws -> StoredEvent? {
        guard !seqs.isEmpty else { return nil }
        let snapshot = LedgerSnapshot(txn: txn, db: db)
        for seq in seqs {
            guard let stored = try snapshot.event(seq: seq) else {
                throw LedgerError.damaged(seq: seq, problem: "the id index names seq \(seq), which the log does not hold")
            }
            if stored.event.id == id { return stored }
        }
        return nil
    }
}
