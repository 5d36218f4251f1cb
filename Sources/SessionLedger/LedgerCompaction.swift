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
            try env.copy(to: partial, compacting: true)
            try Ledger.sync(partial + "/data.mdb")
            try Ledger.sync(partial, directory: true)
            guard rename(partial, directory) == 0 else {
                throw LedgerError.cannotCreate(path: directory, reason: String(cString: strerror(errno)))
            }
        } catch {
            unlink(partial + "/data.mdb")
            rmdir(partial)
            if let error = error as? LMDBError { throw LedgerError.storage(error, path: directory) }
            throw error
        }
        Ledger.syncDirectory(Ledger.parent(of: directory))
        let copy = try Ledger(path: directory, access: .readOnly)
        _ = stat(directory + "/data.mdb", &st)
        return CompactCopy(head: try copy.head(), bytes: Int(st.st_size))
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
