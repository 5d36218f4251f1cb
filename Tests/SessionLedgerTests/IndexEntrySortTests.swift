import XCTest
@testable import SessionLedger

/// The counting sorts of the writer's flushes must give exactly what the comparison sort
/// they replaced gave, `sort { ($0.key, $0.seq) < ($1.key, $1.seq) }` (the model here), for
/// keys of every width and for the shapes that take other paths: empty, one, already in
/// order, every key equal, and claims whose hashes crowd one bucket.
final class IndexEntrySortTests: XCTestCase {
    /// Sorts `entries` with `sort` and checks the result against the model, `sorted(by: model)`.
    private func check<Entry>(_ entries: [Entry], _ sort: (inout [Entry]) -> Void, model: (Entry, Entry) -> Bool,
                              same: (Entry, Entry) -> Bool, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        var sorted = entries
        sort(&sorted)
        let expected = entries.sorted(by: model)
        XCTAssertEqual(sorted.count, expected.count, label, file: file, line: line)
        XCTAssertTrue(sorted.elementsEqual(expected, by: same), "\(label): not in the model's order", file: file, line: line)
    }

    private func checkByKey(_ keys: [UInt32], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        // Entries come in ascending seq, as a call stores them; seqs need not be consecutive.
        var seq: UInt64 = 1_000
        var entries: [(key: UInt32, seq: UInt64)] = []
        for key in keys {
            seq += 1 + UInt64(key % 3)
            entries.append((key, seq))
        }
        check(entries, IndexEntrySort.byKey, model: { ($0.key, $0.seq) < ($1.key, $1.seq) }, same: ==, label, file: file, line: line)
    }

    func testByKeyGivesKeyThenSeqOrderForEveryKeyWidth() {
        var random = SplitMix64(seed: 3)
        // One pass (up to 16 bits), two passes of 9 bits (100,000 users), of 12 and of 16 bits.
        for (largest, count) in [(UInt64(200), 5_000), (65_535, 70_000), (100_000, 262_144), (6_000_000, 50_000),
                                 (UInt64(UInt32.max), 40_000)] {
            let keys = (0..<count).map { _ in UInt32(random.next() % (largest + 1)) }
            checkByKey(keys, "keys up to \(largest)")
            // The largest key itself sets the passes: make sure it is there.
            checkByKey(keys + [UInt32(largest)], "keys up to \(largest), with it")
        }
    }

    func testByKeyShapes() {
        checkByKey([], "empty")
        checkByKey([7], "one")
        checkByKey([0, 0, 1, 5, 5, 9, 70_000], "already in key order")
        checkByKey(Array(repeating: 42, count: 1_000), "every key equal (in order already: no pass)")
        checkByKey([1, 0, 1, 0, 1], "keys one bit wide")
        checkByKey((0..<10_000).map { UInt32(10_000 - $0) }, "descending")
        checkByKey([3, 1, 2, 1, 3, 0, 0, UInt32.max, 0], "ties around the largest key")
    }

    private func checkByHash(_ claims: [(hash: UInt64, seq: UInt64)], _ label: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        check(claims, IndexEntrySort.byHash, model: { ($0.hash, $0.seq) < ($1.hash, $1.seq) }, same: ==, label, file: file, line: line)
    }

    func testByHashGivesHashThenSeqOrder() {
        var random = SplitMix64(seed: 5)
        // 600,000 and more take the most top bits, 16 (a flush is 1,048,576).
        for count in [0, 1, 2, 3, 17, 5_000, 65_536, 300_000, 600_000] {
            // Seqs in no order (the claims come from a hash table), some hashes shared.
            var claims = (0..<count).map { _ in (hash: random.next(), seq: random.next() % (1 << 40) + 1) }
            for i in stride(from: 0, to: count / 2, by: 97) { claims[count - 1 - i].hash = claims[i].hash }
            checkByHash(claims, "\(count) claims")
        }
    }

    func testByHashWhenHashesCrowdOneBucket() {
        var random = SplitMix64(seed: 9)
        // All under one top-bits bucket, so the bucket is past 64 and is sorted by comparison;
        // and a few small buckets beside it, sorted by insertion.
        var claims = (0..<3_000).map { i in (hash: random.next() >> 20, seq: UInt64(3_000 - i)) }
        claims += (0..<40).map { i in (hash: UInt64.max - UInt64(i % 5), seq: UInt64(10_000 + i)) }
        checkByHash(claims, "a crowded bucket")
        checkByHash(claims.map { (hash: 12_345, seq: $0.seq) }, "one hash for every claim")
    }
}
