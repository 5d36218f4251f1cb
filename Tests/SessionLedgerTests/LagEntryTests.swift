import XCTest
@testable import SessionLedger

/// A `lags` entry carries a CRC-32 of its `seq`, lag and `at` (format 8): a flipped bit in it,
/// or an entry under another `seq`, is damage wherever it is read, even where no record is
/// read beside it.
final class LagEntryTests: XCTestCase {
    /// The bytes docs/FORMAT.md gives as its worked example, worked out with Python's
    /// `zlib.crc32` over `struct.pack('>Q', 5) + struct.pack('<Q', lag) + struct.pack('<q', at)`.
    func testTheStoredBytesAreTheLagTheInstantAndZlibsCRC() throws {
        let entry = LagEntry(lag: 30_000_000_000, at: Instant(rfc3339: "2026-03-01T09:00:00Z")!)
        let value = entry.value(seq: 5)
        XCTAssertEqual(value.map { String(format: "%02x", $0) }.joined(), "00ac23fc0600000000a0ac2107ac981850595138")
        XCTAssertEqual(try value.withUnsafeBytes { try LagEntry.read($0, seq: 5) }, entry)
    }

    func testEveryFlippedBitAnotherSeqAndAnotherLengthAreRefused() throws {
        let value = LagEntry(lag: 30_000_000_000, at: Instant(rfc3339: "2026-03-01T09:00:00Z")!).value(seq: 5)
        for bit in 0..<(8 * LagEntry.size) {
            var flipped = value
            flipped[bit / 8] ^= 1 << (bit % 8)
            XCTAssertThrowsError(try flipped.withUnsafeBytes { try LagEntry.read($0, seq: 5) }, "bit \(bit)")
        }
        XCTAssertThrowsError(try value.withUnsafeBytes { try LagEntry.read($0, seq: 6) }) { error in
            XCTAssertTrue("\(error)".contains("the lags entry of seq 6 fails its checksum"), "\(error)")
        }
        XCTAssertThrowsError(try Array(value.prefix(16)).withUnsafeBytes { try LagEntry.read($0, seq: 5) }) { error in
            XCTAssertTrue("\(error)".contains("has 16 bytes, not 20"), "\(error)")
        }
    }

    /// The case the damage campaign left open in format 7: a walk that ends before the `seq`s
    /// of the lagged events in its range reads their entries for their `at` alone, so one moved
    /// out of the range left its event out, and a changed lag changed a `late-event` finding,
    /// without a word. Now both are refused, by the walk, by replay's lateness and by `check`.
    func testAFlippedBitInAnEntryPastABoundedWalkIsRefused() throws {
        let base = Instant(rfc3339: "2026-03-01T09:00:00Z")!
        func login(_ seconds: Int) -> Event {
            Event(kind: .login, at: base.saturatingAdding(.seconds(Int64(seconds))), user: "u", session: "s\(seconds)", client: "web", method: "google")
        }
        let to = base.saturatingAdding(.seconds(45))
        // Bit 38 of its `at` moves seq 5 (20 s) 275 s later, out of [.., 45 s); bit 20 of its
        // lag makes seq 3's 30 s lag 1 ms longer, past a `max_skew` of exactly 30 s.
        for (name, seq, bit) in [("at", UInt64(5), 64 + 38), ("lag", UInt64(3), 20)] {
            let ledger = try Ledger(path: try temporaryDirectory(self) + "/\(name)", access: .readWrite)
            _ = try ledger.append(events: [login(0), login(60)])
            _ = try ledger.append(events: [login(30), login(90), login(20)])  // seqs 3 and 5 lagged, by 30 s and 70 s
            func walk() throws -> [UInt64] {
                try ledger.read { snapshot in
                    var seen: [UInt64] = []
                    try snapshot.forEachRecordHeaderInTimeOrder(to: to) { seq, _, _ in seen.append(seq); return true }
                    return seen
                }
            }
            func late() throws -> Set<UInt64> { try ledger.read { try $0.lateSeqs(maxSkew: .seconds(30)) } }
            XCTAssertEqual(try walk(), [1, 5, 3], name)
            XCTAssertEqual(try late(), [5], name)
            try ledger.env.write { txn in
                var value = Array(try XCTUnwrap(try txn.get(ledger.db.lags, Key.seq(seq))))
                value[bit / 8] ^= 1 << (bit % 8)
                try txn.put(ledger.db.lags, Key.seq(seq), value)
            }
            XCTAssertThrowsError(try walk(), name) { error in
                XCTAssertTrue("\(error)".contains("the lags entry of seq \(seq) fails its checksum"), "\(name): \(error)")
            }
            XCTAssertThrowsError(try late(), name)
            XCTAssertEqual(try ledger.check().problems.map(\.seq), [seq], name)
        }
    }
}
