import CLMDB
#if canImport(Glibc)
import Glibc
#endif

/// An LMDB environment: one directory holding `data.mdb` and `lock.mdb`.
///
/// The environment owns its `MDB_env` and closes it in `deinit`. Every transaction and
/// cursor is scoped to a closure, so none can outlive it.
public final class Environment: @unchecked Sendable {
    public struct Options: Sendable {
        /// The initial map size in bytes; `write(growingMap:)` doubles it when LMDB reports MDB_MAP_FULL.
        public var mapSize: Int = 64 << 20
        public var maxDatabases: UInt32 = 16
        public var maxReaders: UInt32 = 126
        /// Open with MDB_RDONLY: no write transaction can begin.
        public var readOnly = false
        /// MDB_WRITEMAP: dirty pages live in the file mapping instead of malloc'd memory,
        /// which keeps anonymous memory small during large imports. Without it LMDB copies each
        /// page it changes into its own buffer and writes the buffers at commit (`pwrite`): a
        /// write transaction's anonymous memory then grows with the pages it changes, but only
        /// those pages reach the disk. Through the map, a store makes its whole page-cache
        /// folio dirty, and the file system writes the folio back whole (ext4 on Linux 6.18:
        /// 1.7-1.9 GB written for a 10,000-event call into 100M events, against 0.14-0.21 GB
        /// without; docs/decisions/0012-small-calls-write-through-buffers.md).
        public var writeMap = true
        /// The mode of `data.mdb` and `lock.mdb` when LMDB creates them.
        public var fileMode: mode_t = 0o600

        public init() {}
    }

    let handle: OpaquePointer
    public let path: String
    public let isReadOnly: Bool
    /// Whether write transactions go through the map (`Options.writeMap`).
    public let writesThroughMap: Bool

    /// Opens (creating the files if needed) the environment in the existing directory `path`.
    public init(path: String, options: Options = Options()) throws {
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw LMDBError(code: .invalid, operation: "mdb_env_create") }
        do {
            try check(mdb_env_set_maxdbs(env, options.maxDatabases), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(env, options.maxReaders), "mdb_env_set_maxreaders")
            // Never ask for a map smaller than the data file: with MDB_WRITEMAP, LMDB sets the
            // file to the map's size at open, and a smaller map would cut the file under
            // another process that has grown it (its pages past the cut would vanish).
            var st = stat()
            let fileSize = stat(path + "/data.mdb", &st) == 0 ? Int(st.st_size) : 0
            try check(mdb_env_set_mapsize(env, max(options.mapSize, fileSize)), "mdb_env_set_mapsize")
            // MDB_NOTLS: a read transaction is not tied to the thread that began it, so a
            // parallel reader can hand one to a worker. (Not MDB_NORDAHEAD: the log is read in
            // order, and on Linux it would not stop the kernel mapping the cached pages around
            // each fault, which is what a warm query pays for.)
            // Never MDB_NOSYNC, MDB_NOMETASYNC or MDB_MAPASYNC: processes with and without
            // MDB_WRITEMAP write the same ledger in turn (decision 0012), which LMDB's
            // documentation warns "can defeat durability"; it cannot here only because every
            // commit syncs in full before the writer lock passes on (and Linux has one page cache).
            var flags = UInt32(MDB_NOTLS)
            if options.readOnly { flags |= UInt32(MDB_RDONLY) }
            if options.writeMap && !options.readOnly { flags |= UInt32(MDB_WRITEMAP) }
            try check(mdb_env_open(env, path, flags, options.fileMode), "mdb_env_open(\(path))")
        } catch {
            // "If this function fails, mdb_env_close() must be called to discard the MDB_env handle."
            mdb_env_close(env)
            throw error
        }
        self.handle = env
        self.path = path
        self.isReadOnly = options.readOnly
        self.writesThroughMap = options.writeMap && !options.readOnly
    }

    deinit { mdb_env_close(handle) }

    /// What LMDB knows about the map right now.
    public struct Info: Sendable {
        public var mapSize: Int
        public var lastPage: Int
        public var pageSize: Int
        public var maxReaders: Int
        public var readersInUse: Int
        /// Bytes the data in use occupies: pages up to the last one written.
        public var usedBytes: Int { (lastPage + 1) * pageSize }
    }

    public func info() throws -> Info {
        var info = MDB_envinfo()
        try check(mdb_env_info(handle, &info), "mdb_env_info")
        var stat = MDB_stat()
        try check(mdb_env_stat(handle, &stat), "mdb_env_stat")
        return Info(
            mapSize: info.me_mapsize, lastPage: info.me_last_pgno, pageSize: Int(stat.ms_psize),
            maxReaders: Int(info.me_maxreaders), readersInUse: Int(info.me_numreaders))
    }

    /// Sets the map size. Only valid while this process has no transaction open;
    /// `0` adopts the size another process has set.
    ///
    /// With MDB_WRITEMAP LMDB also sets the data file to the new size. A writer without it
    /// cuts a larger file here itself (LMDB would leave it), so that a smaller map leaves the
    /// same file in both modes; it never extends one (`reserveDisk` does, with blocks). The cut
    /// is to the size LMDB set, which is never below the pages in use.
    public func setMapSize(_ bytes: Int) throws {
        try check(mdb_env_set_mapsize(handle, bytes), "mdb_env_set_mapsize(\(bytes))")
        guard bytes > 0, !isReadOnly, !writesThroughMap else { return }
        let size = try info().mapSize
        var fd: Int32 = -1
        try check(mdb_env_get_fd(handle, &fd), "mdb_env_get_fd")
        var st = stat()
        if fstat(fd, &st) == 0, Int(st.st_size) > size, ftruncate(fd, off_t(size)) != 0 {
            throw LMDBError(code: LMDBError.Code(rawValue: errno), operation: "ftruncate(data.mdb, \(size))")
        }
    }

    /// Writes a copy of the environment as of one read snapshot into the existing, empty
    /// directory `path` (its `data.mdb`; LMDB makes the file with mode 0666 less the umask).
    /// `compacting` (MDB_CP_COMPACT) leaves out the free pages and renumbers the rest in order,
    /// so the copy holds only the pages in use. Writers may go on meanwhile.
    public func copy(to path: String, compacting: Bool) throws {
        try check(mdb_env_copy2(handle, path, compacting ? UInt32(MDB_CP_COMPACT) : 0), "mdb_env_copy2(\(path))")
    }

    /// Clears reader slots left behind by dead processes; returns how many were cleared.
    ///
    /// A reader killed while holding a transaction pins old pages, so the file grows
    /// instead of reusing them until its slot is cleared.
    @discardableResult
    public func clearStaleReaders() throws -> Int {
        var dead: Int32 = 0
        try check(mdb_reader_check(handle, &dead), "mdb_reader_check")
        return Int(dead)
    }

    // MARK: Transactions

    /// Runs `body` in a read-only transaction, which sees one snapshot of the whole environment.
    ///
    /// Bytes read inside are borrowed from the map and valid only until `body` returns.
    /// The transaction is committed rather than aborted on return, because "if the transaction
    /// is aborted the [database] handle will be closed automatically" (mdb_dbi_open).
    public func read<T>(_ body: (ReadTransaction) throws -> T) throws -> T {
        try run(flags: UInt32(MDB_RDONLY), ReadTransaction.init, body)
    }

    /// Runs `body` in a write transaction: committed (and synced) when it returns, aborted when it throws.
    ///
    /// Writers in several processes take turns: this blocks until LMDB's writer lock is free.
    public func write<T>(_ body: (WriteTransaction) throws -> T) throws -> T {
        try run(flags: 0, WriteTransaction.init, body)
    }

    /// One transaction scoped to `body`: committed when it returns, aborted when it throws.
    private func run<Txn: Transaction, T>(flags: UInt32, _ make: (OpaquePointer) -> Txn,
                                          _ body: (Txn) throws -> T) throws -> T {
        let txn = try beginTransaction(flags: flags)
        let result: T
        do {
            result = try body(make(txn))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        try check(mdb_txn_commit(txn), flags == 0 ? "mdb_txn_commit" : "mdb_txn_commit(read)")
        return result
    }

    /// `write`, growing the map and running `body` again from the start whenever LMDB reports
    /// MDB_MAP_FULL. `body` may therefore run more than once and must not depend on what an
    /// earlier, aborted run did.
    ///
    /// `prepare` runs before each attempt, outside any transaction (after the map has grown);
    /// `beforeGrowing` before the map grows, for a caller whose other threads must leave it first.
    public func writeGrowingMap<T>(prepare: () throws -> Void = {}, beforeGrowing: () -> Void = {},
                                   _ body: (WriteTransaction) throws -> T) throws -> T {
        while true {
            do {
                try prepare()
                return try write(body)
            } catch LMDBError.Code.mapFull {
                beforeGrowing()
                let current = try info().mapSize
                try setMapSize(current * 2)
            }
        }
    }

    private func beginTransaction(flags: UInt32) throws -> OpaquePointer {
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(handle, nil, flags, &txn)
        if rc == MDB_MAP_RESIZED {
            // "If the mapsize is increased by another process ... mdb_txn_begin() will return
            // MDB_MAP_RESIZED. This function may be called with a size of zero to adopt the new size."
            try setMapSize(0)
            rc = mdb_txn_begin(handle, nil, flags, &txn)
        }
        try check(rc, flags == 0 ? "mdb_txn_begin(write)" : "mdb_txn_begin(read)")
        return txn!
    }
}

extension Environment {
    /// Faults in, read-only, the pages of the map from `offset` for `length` bytes (clamped to
    /// the map), so that a writer's first touch of a new page finds it in the page cache
    /// instead of zero-filling it on the spot. Advice only: returns false where the kernel
    /// does not support MADV_POPULATE_READ (Linux 5.14+). Call with no resize under way.
    @discardableResult
    public func prefault(offset: Int, length: Int) -> Bool {
        var info = MDB_envinfo()
        guard mdb_env_info(handle, &info) == 0, let base = mapAddress() else { return false }
        let start = max(0, min(offset, info.me_mapsize)) & ~4095
        let end = min(info.me_mapsize, offset + length)
        guard end > start else { return true }
        let populateRead: Int32 = 22  // MADV_POPULATE_READ
        return madvise(base + start, end - start, populateRead) == 0
    }

    /// Where `data.mdb` is mapped in this process. LMDB keeps it private (`me_mapaddr` is set
    /// only with MDB_FIXEDMAP), so read it from /proc/self/maps: the mapping at file offset 0
    /// of this environment's data file.
    private func mapAddress() -> UnsafeMutableRawPointer? {
        guard let resolved = realpath(path + "/data.mdb", nil) else { return nil }
        defer { free(resolved) }
        let file = String(cString: resolved)
        guard let maps = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(maps) }
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), maps) != nil {
            let text = String(cString: line).trimmingSuffix("\n")
            guard text.hasSuffix(" " + file) else { continue }
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[2] == "00000000",
                  let dash = fields[0].firstIndex(of: "-"),
                  let address = UInt(fields[0][..<dash], radix: 16) else { continue }
            return UnsafeMutableRawPointer(bitPattern: address)
        }
        return nil
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

extension Environment {
    /// Allocates disk blocks for the data file from `offset` to the end of the map, so that
    /// writing through MDB_WRITEMAP cannot meet a full disk halfway (a page of a sparse file
    /// that cannot get a block faults with SIGBUS). Returns the errno of `posix_fallocate`
    /// (ENOSPC when the disk is full), or 0.
    public func reserveDisk(from offset: Int) throws -> Int32 {
        var fd: Int32 = -1
        try check(mdb_env_get_fd(handle, &fd), "mdb_env_get_fd")
        let size = try info().mapSize
        guard size > offset else { return 0 }
        return posix_fallocate(fd, off_t(offset), off_t(size - offset))
    }

    /// Gives back the blocks of the data file past `offset` (the pages in use end there), so
    /// the file stays sparse beyond what the ledger holds.
    public func releaseDisk(from offset: Int) throws {
        var fd: Int32 = -1
        try check(mdb_env_get_fd(handle, &fd), "mdb_env_get_fd")
        let size = try info().mapSize
        let start = (offset + 4095) & ~4095
        guard size > start else { return }
        let punchHoleKeepSize: Int32 = 0x02 | 0x01  // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
        _ = linuxFallocate(fd, punchHoleKeepSize, off_t(start), off_t(size - start))
    }
}

/// glibc's `fallocate(2)` wrapper, which the Glibc module does not import (it is declared only
/// under _GNU_SOURCE): `int fallocate(int fd, int mode, off_t offset, off_t len)`.
@_silgen_name("fallocate")
private func linuxFallocate(_ fd: Int32, _ mode: Int32, _ offset: off_t, _ length: off_t) -> Int32
