import XCTest
@testable import SessionLedger

/// The paged table by number the derivation finds sessions through: it must read back what
/// was set, and `missing` everywhere else, across page boundaries and far past the last
/// number set (a dictionary is the model).
final class NumberTableTests: XCTestCase {
    func testReadsBackWhatWasSetAndMissingElsewhere() {
        var table = NumberTable(missing: -1)
        var model: [Int: Int32] = [:]
        var rng = SplitMix64(seed: 7)
        // Numbers around page edges (256 entries a page, 4,096 before), a far one, and random ones.
        var numbers = [0, 1, 255, 256, 257, 511, 512, 4095, 4096, 4097, 8191, 8192, 5_700_000]
        for _ in 0..<2_000 { numbers.append(Int(rng.next() % 6_000_000)) }
        for (i, n) in numbers.enumerated() {
            let value = Int32(truncatingIfNeeded: rng.next())  // any value, negatives included
            table[n] = value
            model[n] = value
            if i % 3 == 0 {  // overwrite some
                table[n] = -2 - Int32(i)
                model[n] = -2 - Int32(i)
            }
        }
        for (n, value) in model { XCTAssertEqual(table[n], value, "number \(n)") }
        for n in [2, 254, 258, 4094, 12_288, 5_699_999, 5_700_001, 6_000_000, 1 << 30] where model[n] == nil {
            XCTAssertEqual(table[n], -1, "number \(n) was never set")
        }
        for _ in 0..<5_000 {
            let n = Int(rng.next() % 7_000_000)
            XCTAssertEqual(table[n], model[n] ?? -1, "number \(n)")
        }
    }

    func testMissingIsWhatTheTableWasMadeWith() {
        var table = NumberTable(missing: 7)
        XCTAssertEqual(table[5], 7)
        table[4_100] = -3
        XCTAssertEqual(table[4_100], -3)
        XCTAssertEqual(table[4_099], 7, "the rest of a page made by a set reads as missing")
        XCTAssertEqual(table[9_000_000], 7)
    }
}
