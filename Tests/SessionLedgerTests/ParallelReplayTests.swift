import XCTest
@testable import SessionLedger

/// Issue 4: `replay --jobs N` splits the fold by user and gives exactly one fold's findings, in
/// the same order, with the same counts.
final class ParallelReplayTests: XCTestCase {
    func testParallelReplayGivesOneFoldsFindingsInOrder() throws {
        var split = 0
        for seed in UInt64(1)...16 {
            let seeded = try SeededLedger(self, seed: seed, count: 300)
            let (ledger, policy, events) = (seeded.ledger, seeded.policy, seeded.events)
            let one = try ledger.read { try LedgerFold(policy: policy, findings: .all).run($0) }
            XCTAssertFalse(one.findings.isEmpty)
            split += events.filter { e in
                e.kind == .logoutAll && e.session.map { s in events.contains { $0.kind == .login && $0.session == s && $0.user != e.user } } == true
            }.count
            for jobs in 1...4 {
                var findings: [Finding] = []
                let summary = try ParallelReplay(policy: policy, jobs: jobs).run(ledger) { findings.append($0) }
                XCTAssertEqual(findings, one.findings, "seed \(seed), \(jobs) jobs")
                XCTAssertEqual(summary, ParallelReplay.Summary(one), "seed \(seed), \(jobs) jobs")
            }
            // A filter narrows what is reported, as in one fold.
            let filter = FindingFilter(user: "bob", from: events[events.count / 2].at)
            let narrowed = try ledger.read { try LedgerFold(policy: policy, findings: filter).run($0) }
            var findings: [Finding] = []
            _ = try ParallelReplay(policy: policy, filter: filter, jobs: 3).run(ledger) { findings.append($0) }
            XCTAssertEqual(findings, narrowed.findings, "seed \(seed), filtered")
        }
        XCTAssertGreaterThan(split, 5, "the logs have logout_all events made from another user's session")
    }

    func testAFailingReaderStopsTheJobs() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        var generator = TestLogGenerator(seed: 3)
        generator.count = 2_000
        _ = try ledger.append(events: generator.events())
        struct Stop: Error {}
        var seen = 0
        XCTAssertThrowsError(try ParallelReplay(policy: .default, jobs: 2).run(ledger) { _ in
            seen += 1
            if seen == 3 { throw Stop() }
        }) { XCTAssertTrue($0 is Stop) }
        XCTAssertEqual(seen, 3)
    }
}
