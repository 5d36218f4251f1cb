import LMDB
#if canImport(Glibc)
import Glibc
#endif

/// A ledger: the append-only event log and its indexes in one LMDB environment (docs/FORMAT.md).
///
/// The only type that talks to LMDB. Open it `.readOnly` to query (no write can begin) or
/// `.readWrite` to append; any number of processes may hold it open, readers never block,
/// and writers take turns on LMDB's writer lock.
public final class Ledger {
    public enum Access: Sendable { case readOnly, readWrite }

    /// How a `.readWrite` ledger's write transactions reach the file (decision 0012).
    public enum Writes: String, CaseIterable, Sendable {
        /// Through the file mapping (MDB_WRITEMAP): anonymous memory stays small whatever a
        /// call stores, but every page changed makes its whole page-cache folio dirty, and
        /// the folio is written back whole.
        case mapped
        /// Through LMDB's own buffers, written at commit: only the pages changed reach the
        /// disk, and they count as the process's anonymous memory until then.
        case buffered

        /// Calls of at most this many bytes of input and `bufferedCallLines` lines are
        /// buffered. The lines bound the memory: the pages a call changes go with its events
        /// (at 100M events calls of 10,000 peaked at 133-215 MiB of anonymous memory, one of
        /// 15,000 at 208; LMDB holds a transaction's changed pages in at most 512 MiB, and
        /// issue 4 allows 500 MiB for every command). The bytes bound the read-ahead of a pipe.
        public static let bufferedCallBytes = 2 << 20
        public static let bufferedCallLines = 15_000

        /// The way for an append call of `sources`: buffered when they hold at most
        /// `bufferedCallBytes` and `bufferedCallLines` together (a pipe is read ahead to tell).
        public static func forCall(_ sources: [InputSource]) throws -> Writes {
            var bytes = 0, lines = 0
            for source in sources {
                guard let extent = try source.extent(atMost: bufferedCallBytes - bytes) else { return .mapped }
                bytes += extent.bytes
                lines += extent.lines
            }
            return lines <= bufferedCallLines ? .buffered : .mapped
        }
    }

    /// The format name stored under `meta/format`.
    public static let formatName = "sledger-8"

    public let path: String
    public let access: Access
    /// True when this open created the ledger (its directory did not exist).
    public let wasCreated: Bool
    let env: Environment
    /// A writer's exclusive lock on `writer.lock`, held from open to close (see `lockWriters`).
    private let writerLock: Int32
    let db: Databases

    struct Databases {
        var log: Database
        var chain: Database
        var meta: Database
        var ids: Database
        var users: Database
        var sessions: Database
        var byUser: Database
        var bySession: Database
        /// How far back in time each out-of-order event was logged (`seq` -> lag): what
        /// `late-event` is decided from for any `max_skew`.
        var lags: Database
        /// Derived state as of an instant, a cache beside the log (docs/FORMAT.md).
        var checkpoints: Database
        /// Number -> string: the names records give by number only (decision 0008).
        var userNames: Database
        var sessionNames: Database
        /// A Bloom filter of each closed block of `ids` (`IDFilters`).
        var idFilters: Database
        /// How `ids`, `by_user` and `by_session` are keyed (`meta/index_block_bits`).
        let blocks: IndexBlocks

        static let layout: [(String, Database.Flags)] = [
            ("log", []), ("chain", []), ("meta", []), ("ids", [.duplicateSort, .duplicateFixed]), ("users", []),
            ("sessions", []), ("by_user", [.duplicateSort, .duplicateFixed]),
            ("by_session", [.duplicateSort, .duplicateFixed]), ("lags", []), ("checkpoints", []),
            ("user_names", []), ("session_names", []), ("id_filters", []),
        ]

        init(_ handles: [Database], blocks: IndexBlocks) {
            self.blocks = blocks
            (log, chain, meta, ids, users, sessions, byUser, bySession, lags, checkpoints, userNames, sessionNames, idFilters) =
                (handles[0], handles[1], handles[2], handles[3], handles[4], handles[5], handles[6], handles[7], handles[8],
                 handles[9], handles[10], handles[11], handles[12])
        }
    }

    /// The ledger directory from `--ledger`, else `SLEDGER_LEDGER`, else `./ledger`.
    public static func resolvePath(_ option: String?) -> String {
        if let option, !option.isEmpty { return option }
        if let value = getenv("SLEDGER_LEDGER"), value.pointee != 0 { return String(cString: value) }
        return "./ledger"
    }

    /// How this ledger's write transactions reach the file, as opened (a `.readOnly` open
    /// writes none: `.buffered`).
    public var writes: Writes { env.writesThroughMap ? .mapped : .buffered }

    /// Opens the ledger at `path`. A read-write open creates the directory (0700) and files (0600)
    /// when missing; a read-only open of a missing ledger throws `LedgerError.notFound`.
    /// `initialMapSize` is the map size a new environment starts with (the map grows by doubling).
    /// `writes` is how a `.readWrite` open's transactions are written.
    public init(path: String, access: Access, initialMapSize: Int? = nil, writes: Writes = .mapped) throws {
        self.path = path
        self.access = access
        var options = Environment.Options()
        options.readOnly = access == .readOnly
        options.writeMap = writes == .mapped
        if let initialMapSize { options.mapSize = initialMapSize }
        var created = false
        var lock: Int32 = -1
        // What a ledger made by this open gets (nil: a read-only open makes none), checked
        // before anything of it is made.
        var newBlocks: IndexBlocks?
        if access == .readWrite {
            var st = stat()
            newBlocks = stat(path + "/data.mdb", &st) == 0 ? IndexBlocks(bits: IndexBlocks.defaultBits) : try IndexBlocks.forNewLedger(path: path)
            created = try Ledger.makeDirectory(path)
            lock = try Ledger.lockWriters(path)
        } else {
            var st = stat()
            guard stat(path + "/data.mdb", &st) == 0 else { throw LedgerError.notFound(path: path) }
        }
        writerLock = lock
        do {
            var st = stat()
            if access == .readWrite, !created, stat(path + "/data.mdb", &st) == 0 {
                try Ledger.refuseTruncatedBeforeWriting(path)
            }
            env = try Environment(path: path, options: options)
            try Ledger.refuseTruncated(env, path: path)
            db = try Ledger.openDatabases(env, newBlocks: newBlocks)
        } catch {
            if lock >= 0 { close(lock) }  // a failed open holds no lock
            if let error = error as? LMDBError { throw LedgerError.storage(error, path: path) }
            throw error
        }
        if created { Ledger.syncDirectory(path) }
        wasCreated = created
    }

    deinit {
        if writerLock >= 0 { close(writerLock) }  // releases the flock
    }

    /// Writer processes take turns for the whole time they hold the ledger open, not only for
    /// each LMDB write transaction: with MDB_WRITEMAP LMDB resizes the data file to a writer's
    /// map size when it opens or grows the map, and a buffered writer cuts it to a smaller map
    /// itself (decision 0012). Two writers open at once could therefore cut the file under each
    /// other. Readers are not affected (they never resize the file) and never wait. Blocks
    /// until the lock is free, calling `waiting` first when another holds it.
    static func lockWriters(_ path: String, waiting: () -> Void = {}) throws -> Int32 {
        let fd = open(path + "/writer.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LedgerError.cannotCreate(path: path + "/writer.lock", reason: String(cString: strerror(errno))) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return fd }
        if errno == EWOULDBLOCK { waiting() }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw LedgerError.cannotCreate(path: path + "/writer.lock", reason: reason)
            }
        }
        return fd
    }

    /// `refuseTruncated` for a writer, before it opens the environment: through the map
    /// (MDB_WRITEMAP) LMDB extends the file to the map size, which would hide a truncation under
    /// zeros, so it looks first, read-only.
    static func refuseTruncatedBeforeWriting(_ path: String) throws {
        var look = Environment.Options()
        look.readOnly = true
        try refuseTruncated(try Environment(path: path, options: look), path: path)
    }

    /// A data file shorter than the pages LMDB says are in use would fault (SIGBUS) as soon as
    /// a reader touched a missing page: refuse it before any page beyond the meta pages is read.
    static func refuseTruncated(_ env: Environment, path: String) throws {
        let info = try env.info()
        var st = stat()
        guard stat(path + "/data.mdb", &st) == 0 else { return }
        if Int(st.st_size) < info.usedBytes {
            throw LedgerError.damaged(seq: nil, problem: "data.mdb is \(st.st_size) bytes, shorter than the \(info.usedBytes) bytes in use: the file was truncated")
        }
    }

    /// Removes a ledger that `open` has just created and that holds nothing, so that a refused
    /// first call leaves no trace. Call it only after the `Ledger` is released.
    public static func removeEmpty(at path: String) {
        for file in ["data.mdb", "lock.mdb", "writer.lock"] { unlink(path + "/" + file) }
        rmdir(path)
    }

    /// `newBlocks`: what a ledger made by this open gets (nil: a read-only open, which makes none).
    private static func openDatabases(_ env: Environment, newBlocks: IndexBlocks?) throws -> Databases {
        let existing: Databases? = try env.read { txn in
            // A ledger of another format is named as such, not taken for a missing one.
            if let meta = try txn.openDatabase("meta", flags: []), let format = try txn.get(meta, Key.format),
               !format.elementsEqual(formatName.utf8) {
                throw LedgerError.unsupportedFormat(path: env.path, found: String(decoding: format, as: UTF8.self))
            }
            return try existingDatabases(txn)
        }
        if let existing { return existing }
        guard let blocks = newBlocks else { throw LedgerError.notFound(path: env.path) }
        return try env.write { txn in
            var handles: [Database] = []
            for (name, flags) in Databases.layout {
                handles.append(try txn.openDatabase(name, flags: flags.union(.create))!)
            }
            let databases = Databases(handles, blocks: blocks)
            try txn.put(databases.meta, Key.format, Array(formatName.utf8))
            try txn.put(databases.meta, IndexBlocks.metaKey, [blocks.bits])
            return databases
        }
    }

    /// The databases of a ledger already made, nil when one is missing (none made yet); its
    /// `index_block_bits` must be there. The format is the caller's to check.
    static func existingDatabases(_ txn: Transaction) throws -> Databases? {
        var handles: [Database] = []
        for (name, flags) in Databases.layout {
            guard let handle = try txn.openDatabase(name, flags: flags) else { return nil }
            handles.append(handle)
        }
        guard let bits = try txn.get(handles[2], IndexBlocks.metaKey), bits.count == 1,
              IndexBlocks.allowedBits.contains(bits[0]) else {
            throw LedgerError.damaged(seq: nil, problem: "meta holds no index_block_bits from \(IndexBlocks.allowedBits.lowerBound) to \(IndexBlocks.allowedBits.upperBound)")
        }
        return Databases(handles, blocks: IndexBlocks(bits: bits[0]))
    }

    /// Creates the directory with mode 0700 if it does not exist; true when it was created.
    private static func makeDirectory(_ path: String) throws -> Bool {
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw LedgerError.notADirectory(path: path) }
            return false
        }
        let old = umask(0o077)
        defer { umask(old) }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw LedgerError.cannotCreate(path: path, reason: String(cString: strerror(errno)))
        }
        return true
    }

    /// Makes the directory entries of newly created files durable (best effort).
    static func syncDirectory(_ path: String) { try? sync(path, directory: true) }

    /// Flushes a file (or a directory's entries) to disk; throws when it cannot.
    static func sync(_ path: String, directory: Bool = false) throws {
        let fd = open(path, directory ? O_RDONLY | O_DIRECTORY : O_RDONLY)
        guard fd >= 0, fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            throw LedgerError.cannotCreate(path: path, reason: reason)
        }
        close(fd)
    }

    // MARK: - Reading

    /// Runs `body` on one consistent snapshot of the ledger.
    public func read<T>(_ body: (LedgerSnapshot) throws -> T) throws -> T {
        do {
            return try env.read { txn in try body(LedgerSnapshot(txn: txn, db: db)) }
        } catch let error as LMDBError {
            throw LedgerError.storage(error, path: path)
        }
    }

    /// The head of the chain: the last `seq` and its chain value.
    public func head() throws -> HashChain { try read { try $0.head() } }

    /// Sizes of the ledger on disk.
    public struct DiskUsage: Sendable {
        /// Bytes of the pages LMDB has written (what the data occupies).
        public var usedBytes: Int
        /// The apparent size of `data.mdb` (the map size, but for a new ledger a buffered call
        /// has not yet reserved room in).
        public var fileBytes: Int
    }

    public func diskUsage() throws -> DiskUsage {
        let info = try env.info()
        var st = stat()
        _ = stat(path + "/data.mdb", &st)
        return DiskUsage(usedBytes: info.usedBytes, fileBytes: Int(st.st_size))
    }

    /// Clears reader slots of dead processes (see `Environment.clearStaleReaders`).
    @discardableResult
    public func clearStaleReaders() throws -> Int { try env.clearStaleReaders() }
}

/// What can go wrong with the ledger itself (as opposed to bad input).
public enum LedgerError: Error, CustomStringConvertible {
    case notFound(path: String)
    case notADirectory(path: String)
    case cannotCreate(path: String, reason: String)
    case storage(LMDBError, path: String)
    case damaged(seq: UInt64?, problem: String)
    case unsupportedFormat(path: String, found: String)
    /// `sledger upgrade` found the ledger other than its format says; nothing was changed.
    case upgradeRefused(path: String, seq: UInt64?, problem: String)
    /// A setting that a new ledger would take is not usable; nothing was made.
    case badSetting(path: String, problem: String)

    public var description: String {
        switch self {
        case .notFound(let path):
            return "no ledger at \(path) (create one with `sledger import FILE` or `sledger append`)"
        case .notADirectory(let path):
            return "\(path) is not a directory"
        case .cannotCreate(let path, let reason):
            return "cannot create the ledger directory \(path): \(reason)"
        case .badSetting(let path, let problem):
            return "no ledger made at \(path): \(problem)"
        case .storage(let error, let path):
            switch error.code {
            case .noSpace: return "the disk holding \(path) is full (\(error.operation)); nothing of this call was stored"
            case .permissionDenied: return "permission denied on \(path) (\(error.operation))"
            case .corrupted, .panic, .invalid, .versionMismatch:
                return "the ledger at \(path) is damaged or not a ledger: \(error); run `sledger check`"
            default: return "storage error in \(path): \(error)"
            }
        case .unsupportedFormat(let path, let found):
            let way = found == Ledger.upgradableFormat
                ? "`sledger upgrade` makes it format 8 in place, keeping every record and digest"
                : "export it with the sledger that wrote it and import the export"
            return "the ledger at \(path) has format \"\(MessageText.escape(found, quotes: true))\", this sledger reads \"\(Ledger.formatName)\": \(way)"
        case .upgradeRefused(let path, let seq, let problem):
            let place = seq.map { " at seq \($0)" } ?? ""
            return "no upgrade of \(path): damage\(place): \(problem); nothing was changed. The sledger of 71124d4 (the last of \(Ledger.upgradableFormat)) can `sledger check` it, or export it for an import into a new ledger"
        case .damaged(let seq, let problem):
            let place = seq.map { "at seq \($0)" } ?? "in the ledger"
            return "damage \(place): \(problem); run `sledger check` for details"
        }
    }
}
