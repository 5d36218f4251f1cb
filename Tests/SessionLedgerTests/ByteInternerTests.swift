import XCTest
@testable import SessionLedger

final class ByteInternerTests: XCTestCase {
    /// Numbers in order of first appearance, the same number for the same bytes however often
    /// the table grows, and different numbers for strings equal only as Unicode text.
    func testNumbersByExactBytesInOrderOfFirstAppearance() {
        var random = SplitMix64(seed: 3)
        var names = ["", "a", "ab", "a\u{0}", "é", "e\u{301}", "東京"]
        for i in 0..<20_000 { names.append("s_\(random.below(9_000))_\(i % 7)") }
        var interner = ByteInterner()
        var expected: [String: UInt32] = [:]
        var order: [String] = []
        for name in names {
            // Dictionary keys compare Unicode text ("é" == "e\u{301}"): key by the bytes instead.
            let key = name.utf8.map { String($0) }.joined(separator: ",")
            let number = interner.number(name)
            if let known = expected[key] {
                XCTAssertEqual(number, known, name)
            } else {
                order.append(key)
                expected[key] = UInt32(order.count)
                XCTAssertEqual(number, UInt32(order.count), name)
            }
        }
        XCTAssertEqual(interner.count, order.count)
        XCTAssertNotEqual(interner.number("é"), interner.number("e\u{301}"))
        XCTAssertGreaterThan(order.count, 1_024, "the table grew")
    }

    /// Strings whose hashes all collide (every tag equal, every probe from one place, around
    /// the end of the table) are still told apart by their bytes.
    func testCollidingHashesAreToldApartByTheirBytes() {
        for hash in [{ (_: UnsafeRawBufferPointer) in 0 }, { $0.count == 5 ? -1 : 7 }] {
            var interner = ByteInterner(hash: hash)
            let names = (0..<900).map { String(format: "s_%03d", $0 % 300) } + ["", "s_00", "s_0000"]
            var first: [String: UInt32] = [:]
            for name in names {
                let number = interner.number(name)
                let expected = first[name] ?? UInt32(first.count + 1)
                first[name] = expected
                XCTAssertEqual(number, expected, name)
            }
            XCTAssertEqual(interner.count, 303)
        }
    }
}
