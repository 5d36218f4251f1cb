import LMDB
#if canImport(Glibc)
import Glibc
#endif

/// `sledger upgrade`: a format 7 ledger made format 8 in place (decision 0016).
///
/// The records are the same bytes in both formats, so they stay as they are, and with them
/// every `seq`, `recorded` and chain value: a digest kept from the format 7 ledger still
/// passes `check --digest`. That is why this exists beside "export it and import the export",
/// which stamps a new `recorded` on every event and so gives another chain.
///
/// What changes is `lags`' values (16 bytes become 20, with a checksum), `meta/lagged` (the
/// count, now required), and `meta/format`, in one write transaction. A checksum written over
/// a damaged entry would vouch for the damage, so each entry is first compared with the lag a
/// pass over the log computes (every record's `at`, checksum checked, in `seq` order, as the
/// writer measures lags), and any difference refuses the upgrade and changes nothing. The same
/// pass steps the hash chain over every record and compares it with each stored chain value and
/// the head, so "the head is unchanged" is a head verified, not one read (a record's checksum
/// does not cover its `seq`: two records swapped pass it).
extension Ledger {
    /// The format this upgrade reads.
    public static let upgradableFormat = "sledger-7"

    public struct Upgrade: Sendable {
        public var events: UInt64
        public var lagged: Int
        public var head: HashChain
    }

    /// Upgrades the ledger at `path` in place; nil when it is of this build's format already.
    /// Waits for other writers (the ledger's writer lock; `waiting` is called first when one
    /// holds it); readers may go on meanwhile.
    ///
    /// Written through LMDB's buffers, not the map: only the changed pages reach the disk, and a
    /// full disk is an error that leaves the ledger as it was, not a SIGBUS (decision 0012).
    /// The changed pages (all of `lags`) are held in memory until the commit, up to LMDB's
    /// limit of 512 MiB, past which LMDB spills them to the file.
    public static func upgrade(at path: String, waiting: () -> Void = {}) throws -> Upgrade? {
        var st = stat()
        guard stat(path + "/data.mdb", &st) == 0 else { throw LedgerError.notFound(path: path) }
        let lock = try lockWriters(path, waiting: waiting)
        defer { close(lock) }
        // Damage is named as this command's refusal: this build's `check` cannot read format 7.
        do {
            try refuseTruncatedBeforeWriting(path)
            var options = Environment.Options()
            options.writeMap = false
            options.mapSize = max(options.mapSize, Int(st.st_size) + Int(st.st_size) / 8)  // `lags` grows by a quarter
            let env = try Environment(path: path, options: options)
            return try env.writeGrowingMap { txn in try upgrade(txn, path: path) }
        } catch LedgerError.damaged(let seq, let problem) {
            throw LedgerError.upgradeRefused(path: path, seq: seq, problem: problem)
        } catch let error as LMDBError where [.corrupted, .panic, .invalid].contains(error.code) {
            throw LedgerError.upgradeRefused(path: path, seq: nil, problem: "\(error)")
        } catch let error as LMDBError {
            throw LedgerError.storage(error, path: path)
        }
    }

    private static func upgrade(_ txn: WriteTransaction, path: String) throws -> Upgrade? {
        guard let meta = try txn.openDatabase("meta", flags: []), let format = try txn.get(meta, Key.format) else {
            throw LedgerError.notFound(path: path)
        }
        let found = String(decoding: format, as: UTF8.self)
        if found == formatName { return nil }
        guard found == upgradableFormat else { throw LedgerError.unsupportedFormat(path: path, found: found) }
        guard let db = try existingDatabases(txn) else {
            throw LedgerError.damaged(seq: nil, problem: "the ledger lacks one of its databases")
        }
        let snapshot = LedgerSnapshot(txn: txn, db: db)
        let head = try snapshot.head()
        let entries = try txn.count(db.lags)

        // One pass: the lag the writer stored for each record, against its format 7 entry
        // (lag u64 LE, then `at` i64 LE), rewritten as format 8's as it is found right.
        var lateness = LatenessTracker(maxSkew: nil)
        var chain = HashChain()
        var lagged = 0
        var records: UInt64 = 0
        try txn.withCursor(db.log) { cursor in
            try cursor.forEach(from: cursor.first()) { record in
                let seq = readBE(record.key, 0, 8)
                records += 1
                guard seq == records, seq <= head.seq else {
                    throw LedgerError.damaged(seq: records, problem: seq > head.seq ? "the log holds seq \(seq), past the head's \(head.seq)"
                                                                                  : "the log does not hold seq \(records)")
                }
                let at = try snapshot.verifiedHeader(of: record.value, seq: seq).at
                chain.append(record.value)
                if seq % HashChain.storedEvery == 0, let stored = try txn.get(db.chain, Key.seq(seq)), !stored.elementsEqual(chain.value) {
                    throw LedgerError.damaged(seq: seq, problem: "the hash chain over the log differs from the value stored at this seq")
                }
                let lag = lateness.lag(at)
                guard lag > 0 else { return true }
                guard let stored = try txn.get(db.lags, Key.seq(seq)) else {
                    throw LedgerError.damaged(seq: seq, problem: "the lags index does not list this event, which the log shows lagged")
                }
                let entry = LagEntry(lag: lag, at: at)
                guard stored.count == 16,
                      LagEntry(lag: readLE(stored, 0, 8), at: Instant(nanoseconds: Int64(bitPattern: readLE(stored, 8, 8)))) == entry else {
                    throw LedgerError.damaged(seq: seq, problem: "the lags entry of this event is not the one the log implies")
                }
                try txn.put(db.lags, Key.seq(seq), entry.value(seq: seq))
                lagged += 1
                return true
            }
        }
        guard records == head.seq else {
            throw LedgerError.damaged(seq: records + 1, problem: "the head says \(head.seq) events, the log holds \(records)")
        }
        guard chain.value == head.value else {
            throw LedgerError.damaged(seq: head.seq, problem: "the hash chain over the log differs from the head's")
        }
        // Every lagged event's entry was found; as many entries as those means none other.
        guard entries == lagged else {
            throw LedgerError.damaged(seq: nil, problem: "the lags index holds \(entries) entries, the log shows \(lagged) lagged events")
        }
        try txn.put(db.meta, Key.lagged, LaggedCount.value(head: head.seq, count: UInt64(lagged)))
        try txn.put(db.meta, Key.format, Array(formatName.utf8))
        return Upgrade(events: head.seq, lagged: lagged, head: head)
    }
}
