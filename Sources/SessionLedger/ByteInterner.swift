#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Numbers for strings, 1, 2, 3 ... in order of first appearance, by their exact bytes: as a
/// ledger interns its users and sessions (docs/FORMAT.md), for a source that is not a ledger
/// (`SortedInput`). Each string's bytes are kept once in one arena, found through an
/// open-addressing table of numbers, each beside 32 bits of its string's hash, so that a probe
/// reads the arena only when those match: 20-30 bytes a string beyond its own bytes, where
/// a dictionary of `String`s took about 100 (a heap object each, and the dictionary's slack).
struct ByteInterner {
    private var arena: [UInt8] = []
    /// Where string n's bytes end in `arena` (`ends[n - 1]`); they begin where string n - 1's end.
    private var ends: [Int] = []
    /// By hash: the string's number in the low 32 bits, the hash's high 32 bits above them;
    /// 0 for an empty place. At most three quarters full.
    private var table = [UInt64](repeating: 0, count: 1 << 10)
    private let hash: (UnsafeRawBufferPointer) -> Int

    /// `hash` is for tests (one that collides on purpose); by default a seeded `Hasher`.
    init(hash: @escaping (UnsafeRawBufferPointer) -> Int = ByteInterner.seededHash) {
        self.hash = hash
    }

    /// How many strings it numbers.
    var count: Int { ends.count }

    /// The number of `text`, given it if it has none yet.
    mutating func number(_ text: String) -> UInt32 {
        var text = text
        return text.withUTF8 { number(UnsafeRawBufferPointer($0)) }
    }

    mutating func number(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        if (count + 1) * 4 > table.count * 3 { grow() }
        let mask = table.count - 1
        let hash = self.hash(bytes)
        let tag = UInt64(UInt(bitPattern: hash) >> 32 & 0xFFFF_FFFF) << 32
        var place = hash & mask
        while true {
            let entry = table[place]
            if entry == 0 {
                arena.append(contentsOf: bytes)
                ends.append(arena.count)
                precondition(ends.count < Int(UInt32.max), "2^32 - 1 strings: the numbers are 32 bits")
                table[place] = tag | UInt64(ends.count)
                return UInt32(ends.count)
            }
            if entry & 0xFFFF_FFFF_0000_0000 == tag, holds(UInt32(truncatingIfNeeded: entry), bytes) {
                return UInt32(truncatingIfNeeded: entry)
            }
            place = (place + 1) & mask
        }
    }

    private func range(_ n: UInt32) -> Range<Int> {
        let i = Int(n) - 1
        return (i == 0 ? 0 : ends[i - 1])..<ends[i]
    }

    private func holds(_ n: UInt32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let r = range(n)
        guard r.count == bytes.count else { return false }
        return arena.withUnsafeBytes { whole in
            r.isEmpty || memcmp(whole.baseAddress! + r.lowerBound, bytes.baseAddress!, r.count) == 0
        }
    }

    /// A hash seeded for this process (`Hasher`): input cannot be made to collide on purpose.
    static func seededHash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return hasher.finalize()
    }

    private mutating func grow() {
        // The strings are hashed again: an entry keeps only its hash's high bits.
        var larger = [UInt64](repeating: 0, count: table.count * 2)
        let mask = larger.count - 1
        arena.withUnsafeBytes { whole in
            for entry in table where entry != 0 {
                let r = range(UInt32(truncatingIfNeeded: entry))
                var place = hash(UnsafeRawBufferPointer(rebasing: whole[r])) & mask
                while larger[place] != 0 { place = (place + 1) & mask }
                larger[place] = entry
            }
        }
        table = larger
    }
}
