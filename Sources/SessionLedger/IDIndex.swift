import Crypto
import LMDB

/// The `ids` index: which `seq` holds each idempotency key (docs/FORMAT.md).
///
/// Keyed by a hash of the id, not by the id itself. An entry is filed under the first 2 bytes
/// of the id's SHA-256 and its value is the next 6 bytes then the `seq` (u48): 12 bytes, all
/// of the same size, so LMDB packs the values of one key side by side without a node header
/// each (`MDB_DUPFIXED`; decision 0009). With 65,536 keys every key holds many values, and the
/// tree takes about 17-22 bytes an event instead of 38 with 8-byte keys of one value each
/// (format 3). Two ids may share all 8 bytes, so a lookup reads every value with the id's 6
/// bytes and always compares the id with the stored record. A truncated SHA-256 is used rather
/// than a faster non-cryptographic hash so that nobody can cheaply make many ids share one
/// entry prefix (which would make every lookup of it read many records).
struct IDIndex {
    let txn: Transaction
    let db: Ledger.Databases

    /// The largest `seq` an entry can hold (6 bytes).
    static let largestSeq: UInt64 = 1 << 48 - 1

    /// The first 8 bytes of the SHA-256 of `id`, big-endian.
    static func hash(_ id: String) -> UInt64 {
        var id = id
        return id.withUTF8 { utf8 in
            SHA256.hash(data: UnsafeRawBufferPointer(utf8)).withUnsafeBytes { readBE($0, 0, 8) }
        }
    }

    /// The entry filing `seq` as the holder of an id with hash `hash`: key and value bytes.
    static func entry(hash: UInt64, seq: UInt64) -> (key: [UInt8], value: [UInt8]) {
        var key: [UInt8] = [], value: [UInt8] = []
        entry(hash: hash, seq: seq, key: &key, value: &value)
        return (key, value)
    }

    /// The same, written into `key` and `value` (replacing their contents).
    static func entry(hash: UInt64, seq: UInt64, key: inout [UInt8], value: inout [UInt8]) {
        precondition(seq <= largestSeq, "seq \(seq) does not fit the ids index")
        key.removeAll(keepingCapacity: true)
        value.removeAll(keepingCapacity: true)
        appendBE(hash >> 48, 2, &key)
        appendBE(hash, 6, &value)
        appendBE(seq, 6, &value)
    }

    static func entry(_ id: String, seq: UInt64) -> (key: [UInt8], value: [UInt8]) { entry(hash: hash(id), seq: seq) }

    /// Throws unless `value` has the 12 bytes of an entry: a damaged or foreign `ids` must not
    /// read as "no such id" (which would store a duplicate).
    static func checkSize(_ value: UnsafeRawBufferPointer) throws {
        guard value.count == 12 else {
            throw LedgerError.damaged(seq: nil, problem: "the ids index holds a \(value.count)-byte entry, not 12")
        }
    }

    /// The hash (its first 8 bytes) an entry files: 2 in the key, 6 at the start of the value.
    static func hash(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> UInt64 {
        readBE(key, 0, 2) << 48 | readBE(value, 0, 6)
    }

    /// The `seq` an entry's value holds.
    static func seq(ofValue value: UnsafeRawBufferPointer) -> UInt64 { readBE(value, 6, 6) }

    /// The `seq`s filed under `hash`'s entry prefix (its 8 bytes), in `seq` order.
    func seqs(hash: UInt64) throws -> [UInt64] {
        let (key, lowest) = IDIndex.entry(hash: hash, seq: 0)
        return try txn.withCursor(db.ids) { cursor in
            try IDIndex.run(from: cursor.seek(key: key, valueAtLeast: lowest), like: lowest, next: cursor.nextValue)
        }
    }

    /// The `seq`s of the entries from `start` on, stepping with `next`, while their first 6
    /// bytes (of the hash) are `value`'s.
    private static func run(from start: Cursor.Entry?, like value: [UInt8], next: () throws -> Cursor.Entry?) throws -> [UInt64] {
        var out: [UInt64] = []
        var entry = start
        while let current = entry {
            try checkSize(current.value)
            guard current.value.prefix(6).elementsEqual(value.prefix(6)) else { break }
            out.append(seq(ofValue: current.value))
            entry = try next()
        }
        return out
    }

    /// The stored event whose id is `id`, or nil.
    func lookup(_ id: String) throws -> StoredEvent? {
        try holder(of: id, among: seqs(hash: IDIndex.hash(id)))
    }

    /// Whether the index names `seq` as the holder of `id`: an entry with the id's hash lists
    /// `seq`, and no other event listed with that hash has the same id. What `sledger check`
    /// asks of every event; the common case (one `seq` with the hash) decodes nothing.
    func names(_ seq: UInt64, asHolderOf id: String) throws -> Bool {
        var listed = false
        var other = false
        for held in try seqs(hash: IDIndex.hash(id)) {
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
