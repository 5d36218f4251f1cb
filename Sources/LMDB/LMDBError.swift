import CLMDB

/// An LMDB return code, named where sledger cares about it.
///
/// Match it in a `catch` with `catch let error as LMDBError where error.code == .mapFull`
/// or with the `~=` pattern: `catch LMDBError.Code.mapFull`.
public struct LMDBError: Error, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Equatable, Hashable, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let keyExists = Code(rawValue: MDB_KEYEXIST)
        public static let notFound = Code(rawValue: MDB_NOTFOUND)
        public static let corrupted = Code(rawValue: MDB_CORRUPTED)
        public static let panic = Code(rawValue: MDB_PANIC)
        public static let versionMismatch = Code(rawValue: MDB_VERSION_MISMATCH)
        public static let invalid = Code(rawValue: MDB_INVALID)
        public static let mapFull = Code(rawValue: MDB_MAP_FULL)
        public static let readersFull = Code(rawValue: MDB_READERS_FULL)
        public static let transactionFull = Code(rawValue: MDB_TXN_FULL)
        public static let mapResized = Code(rawValue: MDB_MAP_RESIZED)
        public static let badValueSize = Code(rawValue: MDB_BAD_VALSIZE)
        /// `ENOSPC`: the disk (not the map) is full.
        public static let noSpace = Code(rawValue: 28)
        /// `EACCES`: for example a write transaction on a read-only environment.
        public static let permissionDenied = Code(rawValue: 13)
        /// `ENOENT`: the environment's files do not exist.
        public static let noSuchFile = Code(rawValue: 2)

        public static func ~= (pattern: Code, error: any Error) -> Bool {
            (error as? LMDBError)?.code == pattern
        }
    }

    /// The LMDB (or errno) code.
    public let code: Code
    /// The LMDB call that failed, for example `mdb_put(log)`.
    public let operation: String

    public init(code: Code, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// LMDB's own text for the code.
    public var message: String { String(cString: mdb_strerror(code.rawValue)) }

    public var description: String { "\(operation) failed: \(message) (LMDB code \(code.rawValue))" }
}

/// The one funnel from an `mdb_*` return code to a Swift error.
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
    if rc != MDB_SUCCESS {
        throw LMDBError(code: LMDBError.Code(rawValue: rc), operation: operation())
    }
}
