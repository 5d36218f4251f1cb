/// A `lags` entry (docs/FORMAT.md): the lag of a lagged event, its `at`, and a CRC-32 over
/// both and the `seq` it is keyed by. The one place its 20 bytes are written and read.
///
/// The checksum is why the entry has one (format 8): a walk reads the entries past the `seq`s
/// it passes in the log for their `at` alone, and without it a flipped bit there moved an
/// event out of a range, or changed a `late-event` finding, without a word (docs/RELIABILITY.md,
/// section 3). The `seq` is covered so that an entry under another key does not read as intact.
struct LagEntry: Equatable {
    /// How far the event's `at` lies below the largest `at` before it in `seq` order, in ns.
    var lag: UInt64
    var at: Instant

    static let size = 20

    /// The stored value for the event at `seq`.
    func value(seq: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(LagEntry.size)
        appendLE(lag, 8, &out)
        appendLE(UInt64(bitPattern: at.nanoseconds), 8, &out)
        appendLE(UInt64(LagEntry.checksum(seq: seq, lag: lag, at: at)), 4, &out)
        return out
    }

    /// The entry stored under `seq`, its length and checksum checked.
    static func read(_ value: UnsafeRawBufferPointer, seq: UInt64) throws -> LagEntry {
        guard value.count == size else {
            throw LedgerError.damaged(seq: seq, problem: "the lags entry of seq \(seq) has \(value.count) bytes, not \(size)")
        }
        let entry = LagEntry(lag: readLE(value, 0, 8), at: Instant(nanoseconds: Int64(bitPattern: readLE(value, 8, 8))))
        guard checksum(seq: seq, lag: entry.lag, at: entry.at) == UInt32(readLE(value, 16, 4)) else {
            throw LedgerError.damaged(seq: seq, problem: "the lags entry of seq \(seq) fails its checksum")
        }
        return entry
    }

    /// The entry under a `lags` cursor's key.
    static func read(_ entry: (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)) throws -> (seq: UInt64, entry: LagEntry) {
        guard entry.key.count == 8 else {
            throw LedgerError.damaged(seq: nil, problem: "a lags key has \(entry.key.count) bytes, not 8")
        }
        let seq = readBE(entry.key, 0, 8)
        return (seq, try read(entry.value, seq: seq))
    }

    /// CRC-32 of the `seq` (8 bytes big-endian, as keyed) and then the lag and `at`.
    /// (24 bytes on the stack: a walk checks every entry after its start, millions at 100M.)
    private static func checksum(seq: UInt64, lag: UInt64, at: Instant) -> UInt32 {
        let words = (seq.bigEndian, lag.littleEndian, UInt64(bitPattern: at.nanoseconds).littleEndian)
        return withUnsafeBytes(of: words) { CRC32.checksum($0) }
    }
}

/// `meta/lagged`'s value: the head `seq` the count is as of (u64 LE), then the count of lagged
/// events (u64 LE). Read by `LedgerSnapshot.laggedCount(asOf:)`.
enum LaggedCount {
    static func value(head: UInt64, count: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        appendLE(head, 8, &out)
        appendLE(count, 8, &out)
        return out
    }
}

extension LedgerSnapshot {
    /// The `lags` entry of the event at `seq` (nil: it was not lagged), checked.
    func lagEntry(seq: UInt64) throws -> LagEntry? {
        guard let value = try txn.get(db.lags, Key.seq(seq)) else { return nil }
        return try LagEntry.read(value, seq: seq)
    }
}
