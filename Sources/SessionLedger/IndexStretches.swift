#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where `by_user` and `by_session` file an event (format 6, decision 0014): under the
/// *stretch* of the log its `seq` falls in (`seq >> bits`), then the user's or session's
/// number, each a u32 big-endian, so the key is 8 bytes and the value the `seq` as before.
///
/// Format 5 keyed them by the number alone, so every call appended to a page of every user
/// and session it named: a 2M-event call into a 100M-event ledger spent 15-37 s of its 33-56 s
/// filing them, and most of its 9-10 GB of writes (docs/PERFORMANCE.md). Keyed by stretch
/// first, a call's entries go under the newest stretch or two, whose part of each tree is
/// small. A reader looks the number up in every stretch, in order, which gives its `seq`s in
/// order: 24 lookups at 100M events instead of one.
///
/// The stretch's size is the ledger's own: `meta/index_stretch_bits`, one byte, written when
/// the ledger is made (2^22 events unless `SLEDGER_INDEX_STRETCH_BITS` says otherwise, which
/// the tests use to cross stretches in a few events).
struct IndexStretches: Equatable, Sendable {
    /// 4,194,304 events a stretch.
    static let defaultBits: UInt8 = 22
    /// What `SLEDGER_INDEX_STRETCH_BITS` may ask for.
    static let allowedBits: ClosedRange<UInt8> = 1...40

    static let metaKey = Array("index_stretch_bits".utf8)

    let bits: UInt8

    init(bits: UInt8) {
        precondition(IndexStretches.allowedBits.contains(bits))
        self.bits = bits
    }

    /// The bits a new ledger gets: `SLEDGER_INDEX_STRETCH_BITS` when set, else `defaultBits`.
    static func forNewLedger(path: String) throws -> IndexStretches {
        guard let value = getenv("SLEDGER_INDEX_STRETCH_BITS") else { return IndexStretches(bits: defaultBits) }
        let text = String(cString: value)
        guard let bits = UInt8(text), allowedBits.contains(bits) else {
            throw LedgerError.cannotCreate(path: path, reason: "SLEDGER_INDEX_STRETCH_BITS is \(MessageText.escape(text, quotes: true)); give a whole number from \(allowedBits.lowerBound) to \(allowedBits.upperBound)")
        }
        return IndexStretches(bits: bits)
    }

    /// The stretch `seq` falls in.
    @inline(__always) func stretch(of seq: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: seq >> UInt64(bits))
    }

    /// The key filing `number`'s entries of `stretch`, written into `key`.
    @inline(__always) static func key(stretch: UInt32, number: UInt32, into key: inout [UInt8]) {
        key.removeAll(keepingCapacity: true)
        appendBE(UInt64(stretch), 4, &key)
        appendBE(UInt64(number), 4, &key)
    }

    /// The key an event with `seq` is filed under for `number`.
    func key(number: UInt32, seq: UInt64) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(8)
        IndexStretches.key(stretch: stretch(of: seq), number: number, into: &key)
        return key
    }
}
