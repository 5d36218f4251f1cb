import Dispatch
import SessionLedger
#if canImport(Glibc)
import Glibc
#endif

/// The server's one handle on the ledger, shared by the writer and every query.
///
/// One LMDB environment per process: LMDB's lock file relies on POSIX record locks, which a
/// process loses on all its descriptors of a file as soon as it closes any one of them, so a
/// second environment on the same ledger in the same process (a read-only one for queries,
/// say) would break the locking of the first. The server therefore opens the ledger once,
/// read-write, and holds it (and `writer.lock`) from start to stop.
///
/// Every transaction holds the `gate` shared: queries (on Dispatch's worker threads, never on
/// the cooperative pool), group commits, and checkpoint folding and writing. Growing the map
/// holds it exclusively, because LMDB allows `mdb_env_set_mapsize` only while the process has
/// no transaction open. So readers never block the writer, except during the rare map growth,
/// which waits for every transaction in flight (a checkpoint fold's included: the writer grows
/// the map ahead before it starts one) while new ones wait behind it.
public final class LedgerAccess: @unchecked Sendable {
    let ledger: Ledger
    private let gate: UnsafeMutablePointer<pthread_rwlock_t>

    /// Opens (creating if needed) the ledger at `path` and reserves `room` bytes of map and disk.
    public init(path: String, writes: Ledger.Writes = .buffered, room: Int = 32 << 20) throws {
        ledger = try Ledger(path: path, access: .readWrite, writes: writes)
        gate = .allocate(capacity: 1)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        // A waiting resize goes before new readers, so a stream of queries cannot starve it.
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(gate, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        try ledger.clearStaleReaders()
        try ledger.reserveRoom(room)
    }

    /// Gives back the disk blocks reserved past the data (once the writer has stopped).
    func releaseRoom() {
        exclusively { try? $0.releaseRoom() }
    }

    deinit {
        pthread_rwlock_destroy(gate)
        gate.deallocate()
    }

    /// Runs `body` (a query: read transactions only) on a worker thread.
    public func query<T: Sendable>(_ body: @escaping @Sendable (Ledger) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                pthread_rwlock_rdlock(self.gate)
                defer { pthread_rwlock_unlock(self.gate) }
                continuation.resume(with: Result { try body(self.ledger) })
            }
        }
    }

    /// Runs `body` (a map resize) once no transaction is open, holding new ones back.
    func exclusively<T>(_ body: (Ledger) throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(gate)
        defer { pthread_rwlock_unlock(gate) }
        return try body(ledger)
    }

    /// Runs `body` (transactions) on this thread holding the gate shared.
    func shared<T>(_ body: (Ledger) throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(gate)
        defer { pthread_rwlock_unlock(gate) }
        return try body(ledger)
    }

    /// Runs `body` holding the gate shared, with a `grow(bytes)` it may call between its
    /// transactions: it lets go of the gate, reserves the room exclusively, and takes it back.
    func whileReading<T>(_ body: (Ledger, (Int) throws -> Void) throws -> T) throws -> T {
        pthread_rwlock_rdlock(gate)
        defer { pthread_rwlock_unlock(gate) }
        return try body(ledger) { bytes in
            pthread_rwlock_unlock(self.gate)
            defer { pthread_rwlock_rdlock(self.gate) }
            try self.exclusively { try $0.reserveRoom(bytes) }
        }
    }
}
