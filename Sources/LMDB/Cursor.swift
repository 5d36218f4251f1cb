import CLMDB

/// A position in one database, valid only inside `Transaction.withCursor`.
///
/// Every move returns the entry it lands on, or `nil` when there is none; the bytes are
/// borrowed from the map and valid until the transaction ends.
public struct Cursor {
    public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    let handle: OpaquePointer
    let database: Database

    @inline(__always)
    private func move(_ op: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil,
                      value: UnsafeRawBufferPointer? = nil) throws -> Entry? {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: key?.baseAddress))
        var v = MDB_val(mv_size: value?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: value?.baseAddress))
        let rc = mdb_cursor_get(handle, &k, &v, op)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get(\(database.name))")
        return (k.buffer, v.buffer)
    }

    public func first() throws -> Entry? { try move(MDB_FIRST) }
    public func last() throws -> Entry? { try move(MDB_LAST) }
    public func next() throws -> Entry? { try move(MDB_NEXT) }
    public func previous() throws -> Entry? { try move(MDB_PREV) }
    /// The next value of the current key only.
    public func nextValue() throws -> Entry? { try move(MDB_NEXT_DUP) }
    /// The previous value of the current key only.
    public func previousValue() throws -> Entry? { try move(MDB_PREV_DUP) }
    /// The first value of the next key.
    public func nextKey() throws -> Entry? { try move(MDB_NEXT_NODUP) }
    /// How many values the current key holds (`mdb_cursor_count`, `MDB_DUPSORT` databases).
    public func valueCount() throws -> Int {
        var count = 0
        try check(mdb_cursor_count(handle, &count), "mdb_cursor_count(\(database.name))")
        return count
    }

    /// In a database of fixed-size values (`MDB_DUPFIXED`): the current key's values on the
    /// cursor's page of them, side by side (`MDB_GET_MULTIPLE`), from the page's first value
    /// whatever value the cursor is on (so: right after landing on the key). One call instead
    /// of one a value.
    public func valuesOnPage() throws -> UnsafeRawBufferPointer? {
        guard let values = try move(MDB_GET_MULTIPLE)?.value else { return nil }
        // A key with one value keeps it in the key's own node, with no page of values: LMDB
        // then returns nothing here, and the value is the cursor's current one.
        return values.isEmpty ? try move(MDB_GET_CURRENT)?.value : values
    }
    /// The same from the next page of the current key's values (`MDB_NEXT_MULTIPLE`); nil past the last.
    public func valuesOnNextPage() throws -> UnsafeRawBufferPointer? { try move(MDB_NEXT_MULTIPLE)?.value }

    /// The first entry whose key is `>= key`.
    public func seek(atLeast key: UnsafeRawBufferPointer) throws -> Entry? { try move(MDB_SET_RANGE, key: key) }
    public func seek(atLeast key: [UInt8]) throws -> Entry? { try key.withUnsafeBytes { try seek(atLeast: $0) } }

    /// The entry with exactly `key` (its first value), or `nil`.
    public func seek(exactly key: [UInt8]) throws -> Entry? {
        try key.withUnsafeBytes { try seek(exactly: $0) }
    }
    public func seek(exactly key: UnsafeRawBufferPointer) throws -> Entry? { try move(MDB_SET_KEY, key: key) }

    /// In a duplicate-sorted database: the first value `>= value` of exactly `key`.
    public func seek(key: [UInt8], valueAtLeast value: [UInt8]) throws -> Entry? {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try move(MDB_GET_BOTH_RANGE, key: k, value: v) } }
    }

    /// Visits entries from the cursor's position onward while `body` returns true.
    public func forEach(from start: Entry?, _ body: (Entry) throws -> Bool) throws {
        var entry = start
        while let current = entry {
            guard try body(current) else { return }
            entry = try next()
        }
    }
}

extension Cursor {
    /// Stores `value` under `key` at or near the cursor (mdb_cursor_put) and leaves the cursor
    /// on the new item. With `.append`, the key must sort after every key stored: LMDB then
    /// skips the search from the root.
    public func put(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer,
                    flags: WriteTransaction.PutFlags = []) throws {
        let rc = withValue(key) { k in withValue(value) { v in mdb_cursor_put(handle, &k, &v, flags.rawValue) } }
        try check(rc, "mdb_cursor_put(\(database.name))")
    }
}

extension WriteTransaction {
    /// Stores `value` under `key` unless the key is stored already; then returns the stored
    /// value (borrowed until the next change in this transaction: read it at once) and stores nothing. One search, not two:
    /// "MDB_NOOVERWRITE ... The data parameter will be set to point to the existing item."
    public func insertOrGet(_ database: Database, _ key: UnsafeRawBufferPointer,
                            _ value: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        var existing = MDB_val()
        let rc = withValue(key) { k in
            withValue(value) { v -> Int32 in
                let rc = mdb_put(handle, database.dbi, &k, &v, UInt32(MDB_NOOVERWRITE))
                existing = v
                return rc
            }
        }
        if rc == MDB_KEYEXIST { return existing.buffer }
        try check(rc, "mdb_put(\(database.name))")
        return nil
    }
}
