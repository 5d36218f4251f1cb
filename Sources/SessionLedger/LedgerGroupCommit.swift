import LMDB
#if canImport(Glibc)
import Glibc
#endif

/// What a group commit did with one request of the group.
public enum GroupOutcome: Sendable {
    /// Stored (or found already stored): the request's events are durable.
    case stored(imported: Int, duplicates: Int)
    /// Refused as a whole (an id conflict): nothing of the request was stored.
    case refused(InputError)
}

extension Ledger {
    /// Appends several requests in one durable LMDB transaction (group commit), each request
    /// all or nothing: a request whose `id` conflicts with a stored event, with an earlier
    /// request of the group or with its own earlier line is refused and stores nothing, and
    /// the others are stored as if they had come one after another, in order. When this
    /// returns, every `.stored` request is on disk. The requests must already be valid
    /// events (`EventBatch.parse`); conflicts are the only refusal left.
    ///
    /// LMDB's nested transactions cannot do this (they are not supported with MDB_WRITEMAP),
    /// so each request's ids are checked, inside the transaction, before any of its events
    /// is written. Unlike `append`, this does not resize the map: that is only valid while no
    /// transaction of the process is open, which a server that reads on other threads must
    /// arrange itself (`reserveRoom`). It throws a `LedgerError` whose `isMapFull` is true
    /// when the group does not fit; nothing is stored then.
    public func appendGroup(_ requests: [EventBatch]) throws -> (outcomes: [GroupOutcome], head: HashChain) {
        precondition(access == .readWrite, "appendGroup needs a ledger opened .readWrite")
        do {
            return try env.write { txn in
                var batch = try AppendBatch(txn: txn, db: db, options: AppendOptions())
                var outcomes: [GroupOutcome] = []
                outcomes.reserveCapacity(requests.count)
                for request in requests {
                    if let conflict = try batch.idConflict(in: request) {
                        outcomes.append(.refused(conflict))
                        continue
                    }
                    batch.lines.begin(source: nil, firstSeq: batch.chain.seq + 1)
                    let imported = batch.imported, duplicates = batch.duplicates
                    for line in request.lines { try batch.store(line.event, line: line.number) }
                    outcomes.append(.stored(imported: batch.imported - imported, duplicates: batch.duplicates - duplicates))
                }
                let summary = try batch.finish()
                return (outcomes, summary.head)
            }
        } catch let error as LMDBError {
            throw LedgerError.storage(error, path: path)
        }
    }

    /// Writes checkpoints when the next one is due, then a rolling tail when one is due
    /// (`writeRollingTail`), as `append` does after a small call (appendGroup does not);
    /// returns how many were written. The plan-and-store that `sledger serve` splits across two
    /// threads (`planCheckpoints`, `storeCheckpoints`), on one.
    public func writeCheckpointsIfDue(spacing: CheckpointSpacing = .adaptive, grow: (Int) throws -> Void) throws -> Int {
        var written = 0
        while true {
            let plan = try planCheckpoints(spacing: spacing)
            let stored = try storeCheckpoints(plan, grow: grow)
            written += stored
            guard plan.reachedLimit, stored == plan.count else { return written }
        }
    }

    /// `storeCheckpoints` for a process whose other threads hold transactions meanwhile: this
    /// never resizes the map. When the checkpoints do not fit, it calls `grow(bytes)` between
    /// its transactions, which must make that much room (`reserveRoom`) once no other
    /// transaction is open.
    public func storeCheckpoints(_ plan: CheckpointPlan, grow: (Int) throws -> Void) throws -> Int {
        try storeCheckpoints(plan) { bytes, change in
            // The checkpoints' pages and the B-tree pages they split, with air.
            let need = 2 * bytes + (16 << 20)
            if try self.mapRoom() < need { try grow(need) }
            while true {
                do {
                    try self.env.write { try change($0) }
                    return
                } catch LMDBError.Code.mapFull {
                    try grow(2 * (try self.mapRoom()) + need)
                }
            }
        }
    }

    /// Bytes of the map not yet used.
    public func mapRoom() throws -> Int {
        let info = try env.info()
        return info.mapSize - info.usedBytes
    }

    /// Makes the map at least `bytes` larger than the pages in use and claims the disk blocks
    /// for it, so that writing through MDB_WRITEMAP cannot meet a
    /// full disk halfway (see `Environment.reserveDisk`). A disk that cannot give the blocks
    /// throws "disk full" before anything is written.
    ///
    /// Only valid while no transaction of this process is open: "mdb_env_set_mapsize ... may be
    /// called ... if no transactions are active in this process".
    public func reserveRoom(_ bytes: Int) throws {
        do {
            let info = try env.info()
            let want = (info.usedBytes + bytes + 4095) & ~4095
            if want > info.mapSize { try env.setMapSize(want) }
            if try env.reserveDisk(from: info.usedBytes) == ENOSPC {
                // The map goes back to the room that has its blocks: left larger, it would let
                // the next transaction write pages no block was reserved for (through the map,
                // SIGBUS; through LMDB's buffers, a short write at commit).
                if want > info.mapSize { try env.setMapSize(info.mapSize) }
                throw LMDBError(code: .noSpace, operation: "posix_fallocate(data.mdb)")
            }
        } catch let error as LMDBError {
            throw LedgerError.storage(error, path: path)
        }
    }

    /// Gives back the disk blocks reserved past the pages in use (when a server stops).
    public func releaseRoom() throws {
        try env.releaseDisk(from: try env.info().usedBytes)
    }
}

extension LedgerError {
    /// The map had no room for the transaction (grow it with `reserveRoom` and try again).
    public var isMapFull: Bool {
        if case .storage(let error, _) = self { return error.code == .mapFull }
        return false
    }
}

extension AppendBatch {
    /// The first `id` of `request` that conflicts (same id, other canonical content) with an
    /// event stored before, in this transaction included (claimed, not yet filed), or with an
    /// earlier line of the request; the same message as `append` gives.
    mutating func idConflict(in request: EventBatch) throws -> InputError? {
        // The first line of each id; canonical forms are made only when an id repeats.
        var seen: [ByteIdentity: Int] = [:]
        for (index, line) in request.lines.enumerated() {
            guard let id = line.event.id else { continue }
            if let first = seen[ByteIdentity(id)] {
                let earlier = request.lines[first]
                if CanonicalWriter.bytes(of: earlier.event) != CanonicalWriter.bytes(of: line.event) {
                    return InputError(line: line.number, key: "id", problem: "id conflict with line \(earlier.number)")
                }
                continue
            }
            seen[ByteIdentity(id)] = index
            // What it finds filed is remembered for the line's claim (IDClaims.remembered).
            guard let stored = try claims.holderRemembering(of: id, hash: IDIndex.hash(id), txn: txn, db: db) else { continue }
            if CanonicalWriter.bytes(of: stored.event) != CanonicalWriter.bytes(of: line.event) {
                return InputError(line: line.number, key: "id", problem: "id conflict with seq \(stored.seq)")
            }
        }
        return nil
    }
}
