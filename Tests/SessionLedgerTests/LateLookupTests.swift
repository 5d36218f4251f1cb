import XCTest
@testable import SessionLedger

/// `LateLookup` answers as the set it was made from, as a bitmap over dense members and as the
/// set itself over sparse ones.
final class LateLookupTests: XCTestCase {
    func testItAnswersAsTheSetDenseSparseAndEmpty() {
        var random = SplitMix64(seed: 11)
        let sets: [Set<UInt64>] = [
            [],
            [1],
            [64],
            [63, 64, 65],
            Set((0..<500).map { _ in 1_000 + random.next() % 2_000 }),     // dense: a bitmap
            Set((0..<50).map { _ in random.next() % 100_000_000 }),        // sparse: the set
            [1, 100_000_000],                                               // two, far apart
            [UInt64.max - 1, UInt64.max],
        ]
        XCTAssertTrue(LateLookup(sets[4]).isBitmap, "dense members make a bitmap")
        XCTAssertFalse(LateLookup(sets[5]).isBitmap, "sparse members keep the set")
        XCTAssertFalse(LateLookup(sets[6]).isBitmap, "two members far apart keep the set")
        for late in sets {
            let lookup = LateLookup(late)
            var probes: [UInt64] = [0, 1, 2, 62, 63, 64, 65, 66, 127, 128, 999, 1_000, 3_000, 3_001,
                                    99_999_999, 100_000_000, 100_000_001, UInt64.max - 2, UInt64.max - 1, UInt64.max]
            for seq in late { probes += [seq &- 1, seq, seq &+ 1] }
            for _ in 0..<2_000 { probes.append(random.next() % 4_000) }
            for seq in probes {
                XCTAssertEqual(lookup.contains(seq), late.contains(seq), "seq \(seq) among \(late.count) late")
            }
        }
    }
}
