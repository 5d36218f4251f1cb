import LMDB
#if canImport(Glibc)
import Glibc
#endif

extension Ledger {
    /// What `writeCompactCopy` wrote.
    public struct CompactCopy: Sendable {
        /// The copy's head: its last `seq` and chain value.
        public var head: HashChain
        /// The size of the copy's `data.mdb`.
        public var bytes: Int
    }

    /// Writes a compacted copy of the ledger to `directory`, which must not exist (its parent
    /// must): the same databases, records and checkpoints as of one snapshot, without the
    /// free pages that copy-on-write leaves behind (a ledger loaded by many durable calls
    /// holds a freelist that later appends reuse but the file never gives back).
    ///
    /// The copy is made in a sibling directory, `DIR.partial-PID`, and renamed into place once
    /// it is on disk, so `directory` appears whole or not at all; a process killed meanwhile
    /// leaves the partial directory, which can be deleted. (An empty directory created at
    /// `directory` by someone else during the copy would be replaced: `rename` may replace
    /// an empty directory, and Swift's Glibc does not offer `renameat2`'s RENAME_NOREPLACE.)
    /// Appends to this ledger may go on meanwhile and are not in the copy; the copy's read
    /// transaction keeps them from reusing free pages, so the ledger's file may grow.
    public func writeCompactCopy(to directory: String) throws -> CompactCopy {
        let directory = Ledger.withoutTrailingSlashes(directory)
        var st = stat()
        if stat(directory, &st) == 0 {
            throw LedgerError.cannotCreate(path: directory, reason: "it already exists; give a new directory")
        }
        let partial = directory + ".partial-\(getpid())"
        let old = umask(0o077)  // the copy's directory 0700 and data.mdb 0600, like a new ledger's
        defer { umask(old) }
        guard mkdir(partial, 0o700) == 0 else {
            throw LedgerError.cannotCreate(path: directory, reason: "cannot make \(partial) beside it: " + String(cString: strerror(errno)))
        }
        do {
            try writeRepacked(to: partial)
            try Ledger.sync(partial + "/data.mdb")
            try Ledger.sync(partial, directory: true)
            guard rename(partial, directory) == 0 else {
                throw LedgerError.cannotCreate(path: directory, reason: String(cString: strerror(errno)))
            }
        } catch {
            unlink(partial + "/data.mdb")
            unlink(partial + "/lock.mdb")
            rmdir(partial)
            if let error = error as? LMDBError { throw LedgerError.storage(error, path: directory) }
            throw error
        }
        Ledger.syncDirectory(Ledger.parent(of: directory))
        let copy = try Ledger(path: directory, access: .readOnly)
        _ = stat(directory + "/data.mdb", &st)
        return CompactCopy(head: try copy.head(), bytes: Int(st.st_size))
    }

    /// Writes every database of one snapshot into a new environment in the empty directory
    /// `directory`, each in key order with LMDB's append flags, and cuts its `data.mdb` to the
    /// pages in use.
    ///
    /// Not `mdb_env_copy2`'s compacting copy: that leaves out the free pages but copies each
    /// page as it is, and a page split by an insert among its neighbours stays about half
    /// empty (the `sessions` names, keys that gain values later, and the `ids` values, which
    /// land in hash order). Appending in order fills each page before the next is begun
    /// (decision 0011).
    private func writeRepacked(to directory: String) throws {
        let used = try env.read { source in
            var options = Environment.Options()
            options.mapSize = try env.info().usedBytes * 9 / 8 + (64 << 20)
            let copy = try Environment(path: directory, options: options)
            // Writing through MDB_WRITEMAP into a sparse file faults (SIGBUS) when the disk
            // runs out: take the blocks first, so a full disk is an error before anything is written.
            let reserved = try copy.reserveDisk(from: 0)
            guard reserved == 0 else {
                throw LedgerError.cannotCreate(path: directory, reason: "cannot reserve \(options.mapSize) bytes for the copy: " + String(cString: strerror(reserved)))
            }
            for (name, flags) in Databases.layout {
                guard let from = try source.openDatabase(name) else { continue }
                let sorted = flags.contains(.duplicateSort)
                try source.withCursor(from) { reader in
                    var entry = try reader.first()
                    var put: WriteTransaction.PutFlags = .append
                    repeat {
                        // Commits every 2^20 entries: a transaction's dirty pages stay bounded.
                        try copy.write { txn in
                            guard let to = try txn.openDatabase(name, flags: flags.union(.create)) else { return }
                            try txn.withCursor(to) { writer in
                                for _ in 0..<(1 << 20) {
                                    guard let current = entry else { return }
                                    try writer.put(current.key, current.value, flags: put)
                                    // A key's next value goes after its others; then the next key after every key.
                                    if sorted, let value = try reader.nextValue() {
                                        entry = value
                                        put = .appendDuplicate
                                    } else {
                                        entry = try reader.next()
                                        put = .append
                                    }
                                }
                            }
                        }
                    } while entry != nil
                }
            }
            return try copy.info().usedBytes
        }  // (the copy's environment is closed here, before its file is cut)
        guard truncate(directory + "/data.mdb", off_t(used)) == 0 else {
            throw LedgerError.cannotCreate(path: directory, reason: "cannot cut data.mdb to the pages in use: " + String(cString: strerror(errno)))
        }
        unlink(directory + "/lock.mdb")
    }

    /// `path` without the slashes at its end ("/" stays "/"): `DIR/` names DIR.
    public static func withoutTrailingSlashes(_ path: String) -> String {
        var path = Substring(path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }

    /// The directory holding `path` (no trailing slashes): "." for a bare name.
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
