import LMDB

/// `id_filters` (format 7, decision 0015): a Bloom filter (`HashFilter.Layout`) of the
/// prefixes `ids` files under each *closed* block of the log, so that a claim searches only
/// the blocks that may hold its id, as a log-structured merge tree does.
///
/// `ids` is keyed by block first (`IDIndex`), so a flush files under the newest block or two
/// instead of a page of every key. Only a claim's own block then holds every earlier entry
/// with its prefix; the earlier blocks are asked through their filters. A block is closed
/// once every `seq` in it has been given: its filter is filed in the transaction that files
/// the block's last claims, so a committed ledger holds one for each block before the one
/// its next `seq` falls in, and no other (`closedBlocks`). Key: the block, u32 big-endian;
/// value: the filter's words, little-endian, a power of two of at least 64 bytes (16 bits
/// an entry, rounded up). Like every index it carries no checksum of its own: `sledger
/// check` asks each filter for every prefix its block files.
struct IDFilters {
    /// Bits a filter gives each entry of its block: about 0.1% false positives.
    static let bitsPerEntry = 16
    /// At most 2^30 bits (128 MiB) a block, however large the blocks.
    static let largestBits = 1 << 30

    private enum Filter {
        /// Stored before this transaction: read where it lies.
        case stored(HashFilter.Layout, UnsafeRawBufferPointer)
        /// Made in this transaction (its pages may move before the commit).
        case made(HashFilter)
        /// Made in this transaction and not kept: its block is searched.
        case notKept
    }

    /// One for each closed block. Those made are kept in memory (8 MiB for a block of 4M
    /// events) up to `keepsMade` bytes of them in all.
    private var filters: [Filter] = []
    private let keepsMade: Int
    private var kept = 0
    /// Blocks closed.
    var count: UInt64 { UInt64(filters.count) }

    /// How many blocks are closed when every `seq` up to `seq` has been given (up to 2^32,
    /// when the last `seq` blocks of fewer than 2^16 events can number is given).
    static func closedBlocks(through seq: UInt64, blocks: IndexBlocks) -> UInt64 {
        (seq + 1) >> UInt64(blocks.bits)
    }

    /// The filters of a ledger whose `seq`s are given up to `through` (its head, as the
    /// transaction began). Throws `damaged` unless there is one for each closed block and none
    /// for another, each of a size a filter can have.
    /// The stored filters are read where they lie, valid while the transaction has not
    /// changed `id_filters`: make this before filing any filter in it. `keepMade`: the bytes of
    /// the filters `close` makes that are kept for `mayContain`.
    init(txn: Transaction, db: Ledger.Databases, through: UInt64, keepMade: Int = .max) throws {
        keepsMade = keepMade
        let expected = IDFilters.closedBlocks(through: through, blocks: db.blocks)
        var found: [Filter] = []
        try txn.withCursor(db.idFilters) { cursor in
            try cursor.forEach(from: cursor.first()) { entry in
                let block = entry.key.count == 4 ? UInt32(readBE(entry.key, 0, 4)) : UInt32.max
                guard block == found.count, block < expected else {
                    throw LedgerError.damaged(seq: nil, problem: "id_filters holds a filter under \(IDFilters.name(entry.key)) after \(found.count) others, but the log's \(through) events close \(expected) blocks")
                }
                guard let layout = HashFilter.Layout(bytes: entry.value.count), entry.value.count <= IDFilters.largestBits / 8 else {
                    throw LedgerError.damaged(seq: nil, problem: "id_filters holds \(entry.value.count) bytes for block \(block), not a power of two from 64 to \(IDFilters.largestBits / 8)")
                }
                found.append(.stored(layout, entry.value))
                return true
            }
        }
        guard found.count == expected else {
            throw LedgerError.damaged(seq: nil, problem: "id_filters holds filters for \(found.count) blocks, but the log's \(through) events close \(expected)")
        }
        filters = found
    }

    private static func name(_ key: UnsafeRawBufferPointer) -> String {
        key.count == 4 ? "block \(readBE(key, 0, 4))" : "a \(key.count)-byte key"
    }

    /// Whether closed block `block` may hold an entry with `prefix` (true for a block not closed).
    @inline(__always) func mayContain(_ prefix: UInt64, block: UInt32) -> Bool {
        guard block < filters.count else { return true }
        switch filters[Int(block)] {
        case .stored(let layout, let bytes): return layout.mayContain(prefix, in: bytes)
        case .made(let filter): return filter.mayContain(prefix)
        case .notKept: return true
        }
    }

    /// Files the filters of the blocks that every `seq` up to `through` closes, once their
    /// entries are all in `ids`.
    mutating func close(through: UInt64, txn: WriteTransaction, db: Ledger.Databases) throws {
        let closed = IDFilters.closedBlocks(through: through, blocks: db.blocks)
        while count < closed {
            let block = UInt32(count)
            let filter = try IDFilters.build(block: block, txn: txn, db: db)
            let size = try filter.withBytes { bytes in
                try Key.number(block).withUnsafeBytes { try txn.put(db.idFilters, $0, bytes, flags: .append) }
                return bytes.count
            }
            if kept + size <= keepsMade {
                kept += size
                filters.append(.made(filter))
            } else {
                filters.append(.notKept)
            }
        }
    }

    /// The filter of `block`'s entries in `ids`, as `close` files it and `sledger check` expects it.
    static func build(block: UInt32, txn: Transaction, db: Ledger.Databases) throws -> HashFilter {
        var filter = HashFilter(bits: min(max(bitsPerEntry * (try IDIndex.count(inBlock: block, txn: txn, db: db)), 512), largestBits))
        try IDIndex.forEachEntry(inBlock: block, txn: txn, db: db) { filter.insert($0) }
        return filter
    }
}
