import CLMDB

/// A named database inside an environment, opened once and valid for the environment's life.
public struct Database: Sendable, Equatable {
    let dbi: MDB_dbi
    public let name: String

    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// MDB_CREATE: create the database if it does not exist.
        public static let create = Flags(rawValue: UInt32(MDB_CREATE))
        /// MDB_DUPSORT: several sorted values per key.
        public static let duplicateSort = Flags(rawValue: UInt32(MDB_DUPSORT))
        /// MDB_DUPFIXED: with `duplicateSort`, every value of a key has the same size.
        public static let duplicateFixed = Flags(rawValue: UInt32(MDB_DUPFIXED))
    }
}

/// What read and write transactions share: lookups and cursors.
public class Transaction {
    let handle: OpaquePointer

    init(handle: OpaquePointer) { self.handle = handle }

    /// Opens a named database. Without `.create`, a missing database is `nil`.
    public func openDatabase(_ name: String, flags: Database.Flags = []) throws -> Database? {
        var dbi: MDB_dbi = 0
        let rc = mdb_dbi_open(handle, name, flags.rawValue, &dbi)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_dbi_open(\(name))")
        return Database(dbi: dbi, name: name)
    }

    /// The value stored under `key`, or `nil`; borrowed from the map, valid until the transaction ends.
    public func get(_ database: Database, _ key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        var data = MDB_val()
        let rc = withValue(key) { k in mdb_get(handle, database.dbi, &k, &data) }
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_get(\(database.name))")
        return data.buffer
    }

    /// `get` with a byte-array key.
    public func get(_ database: Database, _ key: [UInt8]) throws -> UnsafeRawBufferPointer? {
        try key.withUnsafeBytes { try get(database, $0) }
    }

    /// The number of entries (for a duplicate-sorted database: of values).
    public func count(_ database: Database) throws -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle, database.dbi, &stat), "mdb_stat(\(database.name))")
        return stat.ms_entries
    }

    /// Runs `body` with a cursor over `database`, closed when `body` returns.
    public func withCursor<T>(_ database: Database, _ body: (Cursor) throws -> T) throws -> T {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, database.dbi, &cursor), "mdb_cursor_open(\(database.name))")
        defer { mdb_cursor_close(cursor) }
        return try body(Cursor(handle: cursor!, database: database))
    }
}

public final class ReadTransaction: Transaction {}

public final class WriteTransaction: Transaction {
    public struct PutFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// MDB_APPEND: the key is larger than every key stored; fails with `keyExists` otherwise.
        public static let append = PutFlags(rawValue: UInt32(MDB_APPEND))
        /// MDB_APPENDDUP: like `append`, for the values of one duplicate-sorted key.
        public static let appendDuplicate = PutFlags(rawValue: UInt32(MDB_APPENDDUP))
        /// MDB_NOOVERWRITE: fail with `keyExists` when the key is stored.
        public static let noOverwrite = PutFlags(rawValue: UInt32(MDB_NOOVERWRITE))
        /// MDB_NODUPDATA: in a duplicate-sorted database, fail when the pair is stored.
        public static let noDuplicateData = PutFlags(rawValue: UInt32(MDB_NODUPDATA))
    }

    /// Stores `value` under `key`.
    public func put(_ database: Database, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer,
                    flags: PutFlags = []) throws {
        let rc = withValue(key) { k in withValue(value) { v in mdb_put(handle, database.dbi, &k, &v, flags.rawValue) } }
        try check(rc, "mdb_put(\(database.name))")
    }

    /// `put` with byte arrays.
    public func put(_ database: Database, _ key: [UInt8], _ value: [UInt8], flags: PutFlags = []) throws {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try put(database, k, v, flags: flags) } }
    }

    /// Removes `key` (and, given `value`, only that value of a duplicate-sorted key).
    /// Returns false when nothing was stored there.
    @discardableResult
    public func delete(_ database: Database, _ key: [UInt8], value: [UInt8]? = nil) throws -> Bool {
        let rc: Int32 = key.withUnsafeBytes { k in
            withValue(k) { kv in
                if let value {
                    return value.withUnsafeBytes { v in withValue(v) { vv in mdb_del(handle, database.dbi, &kv, &vv) } }
                }
                return mdb_del(handle, database.dbi, &kv, nil)
            }
        }
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "mdb_del(\(database.name))")
        return true
    }
}
