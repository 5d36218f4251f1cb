import XCTest
@testable import SessionLedger

/// Folds read the log in `seq` order and merge in the lagged events the `lags` index lists:
/// the result must be exactly the (`at`, `seq`) order, for any range.
final class TimeOrderTests: XCTestCase {
    func testTheMergedLogIsTheTimeOrderForEveryRange() throws {
        for seed in UInt64(1)...8 {
            var generator = TestLogGenerator(seed: seed)
            generator.count = 250
            let events = generator.events()
            let ledger = try Ledger(path: try temporaryDirectory(self) + "/l\(seed)", access: .readWrite)
            _ = try ledger.append(events: Array(events.prefix(100)))
            _ = try ledger.append(events: Array(events.dropFirst(100)))
            // The independent path: sort (at, seq) in memory.
            let expected = events.enumerated().map { (at: $0.element.at, seq: UInt64($0.offset + 1)) }
                .sorted { ($0.at, $0.seq) < ($1.at, $1.seq) }
            let instants = events.map(\.at).sorted()
            let bounds: [Instant?] = [nil, instants[0], instants[40], instants[41], instants[125], instants[249],
                                      Instant(nanoseconds: instants[249].nanoseconds + 1)]
            try ledger.read { snapshot in
                for from in bounds {
                    for to in bounds {
                        var seen: [(at: Instant, seq: UInt64)] = []
                        try snapshot.forEachRecordHeaderInTimeOrder(from: from, to: to) { seq, header, _ in
                            seen.append((header.at, seq))
                            return true
                        }
                        let want = expected.filter { e in from.map { e.at >= $0 } ?? true && to.map { e.at < $0 } ?? true }
                        XCTAssertEqual(seen.map(\.seq), want.map(\.seq), "seed \(seed), from \(String(describing: from)) to \(String(describing: to))")
                    }
                }
                // A walk the body stops hands over nothing after the record it stopped on,
                // lagged or not: the records up to it, in order, and no more.
                for stop in [1, 2, 37, 100, 180, 249, 250] {
                    var seen: [UInt64] = []
                    try snapshot.forEachRecordHeaderInTimeOrder { seq, _, _ in
                        seen.append(seq)
                        return seen.count < stop
                    }
                    XCTAssertEqual(seen, expected.prefix(stop).map(\.seq), "seed \(seed), stopped at \(stop)")
                }
            }
        }
    }

    func testALagsEntryRemovedIsDamageNotAWrongOrder() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        let base = Instant(rfc3339: "2026-03-01T09:00:00Z")!
        let late = [0, 60, 30, 90].map { Event(kind: .login, at: base.saturatingAdding(.seconds(Int64($0))), user: "u", session: "s\($0)",
                                              client: "web", method: "google") }
        _ = try ledger.append(events: late)
        try ledger.read { snapshot in
            var order: [UInt64] = []
            try snapshot.forEachRecordHeaderInTimeOrder { seq, _, _ in order.append(seq); return true }
            XCTAssertEqual(order, [1, 3, 2, 4])
        }
        try ledger.env.write { XCTAssertTrue(try $0.delete(ledger.db.lags, Key.seq(3))) }
        XCTAssertThrowsError(try ledger.read { snapshot in
            try snapshot.forEachRecordHeaderInTimeOrder { _, _, _ in true }
        }) { error in
            XCTAssertTrue("\(error)".contains("seq 3 lies before an earlier event"), "\(error)")
        }
        XCTAssertFalse(try ledger.check().isIntact)
    }
}
