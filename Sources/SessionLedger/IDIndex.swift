import Crypto
import LMDB

/// The `ids` index: which `seq` holds each idempotency key (docs/FORMAT.md).
///
/// Keyed by the first 8 bytes of the id's SHA-256, not by the id itself: a fixed 8-byte key
/// instead of up to 128 bytes of string keeps the tree (one entry per event with an `id`, in
/// random order) about a third smaller. Two ids may share a key, so the database is
/// duplicate-sorted: a key holds the `seq` of every event whose id hashes to it, and the
/// id itself is always compared against the log. A truncated SHA-256 is used rather than a
/// faster non-cryptographic hash so that nobody can cheaply make many ids share one key (which
/// would make every lookup of that key read many records).
struct IDIndex {
    let txn: Transaction
    let db: Ledger.Databases

    /// The index key of `id`.
    static func key(_ id: String) -> UInt64 {
        var id = id
        return id.withUTF8 { utf8 in
            SHA256.hash(data: UnsafeRawBufferPointer(utf8)).withUnsafeBytes { readBE($0, 0, 8) }
        }
    }

    /// The stored event whose id is `id`, or nil.
    func lookup(_ id: String) throws -> StoredEvent? {
        try withUnsafeBytes(of: IDIndex.key(id).bigEndian) { try holder(of: id, key: $0) }
    }

    /// Whether the index names `seq` as the holder of `id`: the id's key lists `seq`, and no
    /// other event listed there has the same id. What `sledger check` asks of every event; the
    /// common case (one value under the key) decodes nothing.
    func names(_ seq: UInt64, asHolderOf id: String) throws -> Bool {
        var listed = false
        var other = false
        try withUnsafeBytes(of: IDIndex.key(id).bigEndian) { key in
            try txn.withCursor(db.ids) { cursor in
                var entry = try cursor.seek(exactly: key)
                while let current = entry {
                    let held = readBE(current.value, 0, 8)
                    if held == seq {
                        listed = true
                    } else if (try? LedgerSnapshot(txn: txn, db: db).event(seq: held))??.event.id == id {
                        // (A damaged record there is `check`'s to report at its own seq.)
                        other = true
                    }
                    entry = try cursor.nextValue()
                }
            }
        }
        return listed && !other
    }

    /// Of the events listed under `key` (id's), the one whose id is `id`.
    private func holder(of id: String, key: UnsafeRawBufferPointer) throws -> StoredEvent? {
        try txn.withCursor(db.ids) { cursor in
            var entry = try cursor.seek(exactly: key)
            while let current = entry {
                let seq = readBE(current.value, 0, 8)
                guard let stored = try LedgerSnapshot(txn: txn, db: db).event(seq: seq) else {
                    throw LedgerError.damaged(seq: seq, problem: "the id index names seq \(seq), which the log does not hold")
                }
                if stored.event.id == id { return stored }
                entry = try cursor.nextValue()
            }
            return nil
        }
    }
}

extension IDIndex {
    /// Claims `id` for `seq`, or returns the stored event that already holds it (and stores
    /// nothing). One search when the key is new, which is every id but a duplicate or a rare
    /// collision.
    static func claim(_ id: String, seq: UInt64, txn: WriteTransaction, db: Ledger.Databases) throws -> StoredEvent? {
        try withUnsafeBytes(of: key(id).bigEndian) { key in
            try withUnsafeBytes(of: seq.bigEndian) { value in
                guard try txn.insertOrGet(db.ids, key, value) != nil else { return nil }
                if let held = try IDIndex(txn: txn, db: db).holder(of: id, key: key) { return held }
                // Another id with the same key: this one is new after all.
                try txn.put(db.ids, key, value, flags: .noDuplicateData)
                return nil
            }
        }
    }
}
