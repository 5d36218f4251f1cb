#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where `by_user` and `by_session` file an event (format 6, decision 0014; `ids` too since
/// format 7, decision 0015, with 5-byte keys: `IDIndex`): under the *block*
/// of the log its `seq` falls in (`seq >> bits`), then the user's or session's number, each a
/// u32 big-endian, so the key is 8 bytes and the value the `seq` as before. (A block is a run
/// of `seq`s; it has nothing to do with a checkpoint's stretch of time.)
///
/// Format 5 keyed them by the number alone, so every flush appended to a page of every user
/// and session it named: a 2M-event call into a 100M-event ledger spent 15-37 s of its 33-56 s
/// filing them, and most of its 9-10 GB of writes (docs/PERFORMANCE.md). Keyed by block first,
/// a flush's entries go under the newest block or two, whose part of each tree is small. A
/// reader looks the number up in every block, in order, which gives its `seq`s in order: 24
/// lookups at 100M events instead of one.
///
/// The block size is the ledger's own: `meta/index_block_bits`, one byte, written when the
/// ledger is made (2^22 events unless `SLEDGER_INDEX_BLOCK_BITS` says otherwise, which the
/// tests use to cross blocks in a few events).
struct IndexBlocks: Equatable, Sendable {
    /// 4,194,304 events a block.
    static let defaultBits: UInt8 = 22
    /// What `SLEDGER_INDEX_BLOCK_BITS` may ask for. Below 16 a ledger holds at most 2^(32+bits)
    /// events (a block number is a u32); from 16 on, `ids`' limit of 2^48 comes first.
    static let allowedBits: ClosedRange<UInt8> = 1...40

    static let metaKey = Array("index_block_bits".utf8)

    let bits: UInt8

    init(bits: UInt8) {
        precondition(IndexBlocks.allowedBits.contains(bits))
        self.bits = bits
    }

    /// The bits a new ledger at `path` gets: `SLEDGER_INDEX_BLOCK_BITS` when set, else
    /// `defaultBits`. Asked before anything of the ledger is made.
    static func forNewLedger(path: String) throws -> IndexBlocks {
        guard let value = getenv("SLEDGER_INDEX_BLOCK_BITS") else { return IndexBlocks(bits: defaultBits) }
        let text = String(cString: value)
        guard let bits = UInt8(text), allowedBits.contains(bits) else {
            throw LedgerError.badSetting(path: path, problem: "SLEDGER_INDEX_BLOCK_BITS is \"\(MessageText.escape(text, quotes: true))\"; give a whole number from \(allowedBits.lowerBound) to \(allowedBits.upperBound)")
        }
        return IndexBlocks(bits: bits)
    }

    /// The block `seq` falls in.
    @inline(__always) func block(of seq: UInt64) -> UInt32 {
        let block = seq >> UInt64(bits)
        precondition(block <= UInt64(UInt32.max), "seq \(seq) is past what blocks of 2^\(bits) events can number")
        return UInt32(truncatingIfNeeded: block)
    }

    /// The key filing `number`'s entries of `block`, written into `key`.
    @inline(__always) static func key(block: UInt32, number: UInt32, into key: inout [UInt8]) {
        key.removeAll(keepingCapacity: true)
        appendBE(UInt64(block), 4, &key)
        appendBE(UInt64(number), 4, &key)
    }

    /// The key an event with `seq` is filed under for `number`.
    func key(number: UInt32, seq: UInt64) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(8)
        IndexBlocks.key(block: block(of: seq), number: number, into: &key)
        return key
    }
}
