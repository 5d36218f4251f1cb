/// A blocked Bloom filter of the 40-bit prefixes `ids` files (`IDIndex.prefix`), which are
/// already uniform (SHA-256 bytes): each prefix sets 6 bits of one 512-bit block, so a lookup
/// reads one cache line. The block is the prefix's top bits, so prefixes looked up in order
/// read the filter front to back (`IDFilters`' sweep of a flush's sorted claims).
///
/// `HashFilter` is one in memory (about 8 bits an expected prefix, within 64 KiB and 64 MiB;
/// false positives, a few percent at the expected count and more past it, only cost a
/// search); `IDFilters` stores one per closed block of `ids` in the same layout
/// (`HashFilter.Layout`), its words little-endian.
struct HashFilter {
    /// Each word little-endian, whatever the machine's order.
    private var words: [UInt64]
    private let layout: Layout

    /// 64 MiB.
    static let largestBits = 1 << 29

    init(expected: Int) {
        self.init(bits: min(max(8 * expected, 1 << 19), HashFilter.largestBits))
    }

    /// A filter of `bits` bits rounded up to a power of two, at least one block.
    init(bits: Int) {
        layout = Layout(bits: bits)
        words = Array(repeating: 0, count: layout.words)
    }

    mutating func insert(_ prefix: UInt64) {
        let layout = layout
        words.withUnsafeMutableBufferPointer { layout.insert(prefix, into: $0) }
    }

    func mayContain(_ prefix: UInt64) -> Bool {
        words.withUnsafeBytes { layout.mayContain(prefix, in: $0) }
    }

    /// Calls `body` with the words as stored (each little-endian): what `IDFilters` files.
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try words.withUnsafeBytes(body)
    }

    /// Where a prefix's bits lie in a filter of `2^blocksLog2` blocks of 512 bits.
    struct Layout {
        let blocksLog2: Int
        var words: Int { 8 << blocksLog2 }

        init(bits: Int) {
            let blocks = max((bits + 511) / 512, 1)
            blocksLog2 = blocks == 1 ? 0 : Int.bitWidth - (blocks - 1).leadingZeroBitCount
        }

        /// The layout of a stored filter of `bytes` bytes, or nil when that is not a power of
        /// two of at least one block (64 bytes) and at most 2^40 blocks.
        init?(bytes: Int) {
            guard bytes >= 64, bytes & (bytes - 1) == 0 else { return nil }
            let log2 = (bytes / 64).trailingZeroBitCount
            guard log2 <= 40 else { return nil }
            blocksLog2 = log2
        }

        /// The first word of the prefix's block, and 54 bits giving its 6 bits there, 9 each.
        @inline(__always) private func place(_ prefix: UInt64) -> (word: Int, bits: UInt64) {
            let low40: UInt64 = 1 << 40 - 1
            let block = blocksLog2 == 0 ? 0 : Int(truncatingIfNeeded: (prefix & low40) >> UInt64(40 - blocksLog2))
            var mixed = prefix &* 0xD6E8_FEB8_6659_FD93
            mixed ^= mixed >> 32
            return (8 * block, mixed &* 0x9E37_79B9_7F4A_7C15)
        }

        @inline(__always) func insert(_ prefix: UInt64, into words: UnsafeMutableBufferPointer<UInt64>) {
            var (base, bits) = place(prefix)
            for _ in 0..<6 {
                let bit = Int(truncatingIfNeeded: bits >> 55)
                words[base + bit >> 6] |= (UInt64(1) << UInt64(bit & 63)).littleEndian
                bits <<= 9
            }
        }

        /// `words`: the filter's bytes, its words little-endian (any alignment).
        @inline(__always) func mayContain(_ prefix: UInt64, in words: UnsafeRawBufferPointer) -> Bool {
            var (base, bits) = place(prefix)
            for _ in 0..<6 {
                let bit = Int(truncatingIfNeeded: bits >> 55)
                let word = UInt64(littleEndian: words.loadUnaligned(fromByteOffset: 8 * (base + bit >> 6), as: UInt64.self))
                if word & (UInt64(1) << UInt64(bit & 63)) == 0 { return false }
                bits <<= 9
            }
            return true
        }
    }
}
