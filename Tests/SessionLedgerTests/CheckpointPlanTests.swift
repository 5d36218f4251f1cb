import XCTest
@testable import SessionLedger

/// Checkpoints folded in one snapshot and stored in a later transaction (`planCheckpoints`,
/// `storeCheckpoints`), as `sledger serve` writes them beside its writer: a planned checkpoint
/// is stored unless an event stored after the plan's snapshot lies at or before its instant,
/// and then neither it nor any later one of the plan is. The expected instants come from the
/// lines' own instants and the spacing rules (docs/FORMAT.md), not from the writer.
final class CheckpointPlanTests: XCTestCase {
    private let spacing = CheckpointSpacing.every(400)

    /// A new ledger holding the first `n` of `timed`'s lines, stored as `serve` stores them
    /// (group commits, which write no checkpoint).
    private func ledger(_ timed: TimedLines, _ n: Int) throws -> Ledger {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.appendGroup([try EventBatch.parse(ndjson: timed.text(0..<n))])
        return ledger
    }

    private func store(_ plan: CheckpointPlan, _ ledger: Ledger) throws -> Int {
        try ledger.storeCheckpoints(plan) { try ledger.reserveRoom($0) }
    }

    private func storeGroup(_ ledger: Ledger, _ ndjson: [UInt8]) throws {
        _ = try ledger.appendGroup([try EventBatch.parse(ndjson: ndjson)])
    }

    /// A login of a new session at `t`: active from `t` on, so a checkpoint at or after `t`
    /// that missed it answers wrongly.
    private func login(at t: Instant, id: String) -> [UInt8] {
        Array(#"{"type":"login","at":"\#(t)","user":"late","session":"\#(id)","client":"web","method":"google","id":"\#(id)"}"#.utf8) + [0x0A]
    }

    private func assertAnswersAreTheWholeLogs(_ ledger: Ledger, at instants: [Instant], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertTrue(try ledger.check().isIntact, file: file, line: line)
        try ledger.read { snapshot in
            for t in instants {
                XCTAssertEqual(try withCheckpoints(snapshot, .default, at: t), try wholeLog(snapshot, .default, at: t), "at \(t)", file: file, line: line)
            }
        }
    }

    /// The spaced checkpoints at the 400th and 800th events' instants and the rolling tail an
    /// hour before the newest, when a quarter of 400 events lies between it and the 800th.
    private func expected(_ timed: TimedLines, _ n: Int) throws -> [(at: Instant, events: UInt64)] {
        let tail = timed.hourBefore(n - 1)
        let afterTheSecond = timed.eventsThrough(tail, of: n)
        // The rule's numbers below hold for these lines: a tail 100 or more events past the 800th.
        XCTAssertGreaterThanOrEqual(afterTheSecond, 900, "the generated lines changed")
        return [(timed.ats[399], 400), (timed.ats[799], 800), (tail, afterTheSecond)]
    }

    /// A ledger of `timed`'s first 1,000 lines, its plan (the expected three checkpoints),
    /// then `meanwhile(expected)` stored as a group, then the plan stored: how many it stored.
    private func planThenStore(_ timed: TimedLines, meanwhile: ([(at: Instant, events: UInt64)]) -> [UInt8]) throws
        -> (ledger: Ledger, expected: [(at: Instant, events: UInt64)], stored: Int) {
        let ledger = try ledger(timed, 1_000)
        let plan = try ledger.planCheckpoints(spacing: spacing, limit: 4)
        let expected = try expected(timed, 1_000)
        XCTAssertEqual(plan.puts.map(\.at), expected.map(\.at))
        XCTAssertEqual(try checkpointInstantsAndCounts(ledger).count, 0, "planning stores nothing")
        try storeGroup(ledger, meanwhile(expected))
        return (ledger, expected, try store(plan, ledger))
    }

    func testAPlanStoredAfterLaterEventsStoresAllOfIt() throws {
        let timed = TimedLines(count: 1_100)
        // All later than every planned instant.
        let (ledger, expected, stored) = try planThenStore(timed) { _ in timed.text(1_000..<1_100) }
        XCTAssertEqual(stored, 3)
        let checkpoints = try checkpointInstantsAndCounts(ledger)
        XCTAssertEqual(checkpoints.map(\.at), expected.map(\.at))
        XCTAssertEqual(checkpoints.map(\.events), expected.map(\.events))
        try assertAnswersAreTheWholeLogs(ledger, at: expected.map(\.at) + [timed.ats[1_099]])
    }

    /// An event at a planned checkpoint's instant, stored after the plan's snapshot, belongs in
    /// it: that checkpoint and the tail folded on from it are dropped, the one before is kept.
    func testAnEventStoredAfterThePlanAtACheckpointsInstantDropsItAndTheRest() throws {
        let timed = TimedLines(count: 1_000)
        let (ledger, expected, stored) = try planThenStore(timed) { expected in self.login(at: expected[1].at, id: "late") }
        XCTAssertEqual(stored, 1)
        let checkpoints = try checkpointInstantsAndCounts(ledger)
        XCTAssertEqual(checkpoints.map(\.at), [expected[0].at])
        XCTAssertEqual(checkpoints.map(\.events), [400])
        try assertAnswersAreTheWholeLogs(ledger, at: expected.map(\.at) + [timed.ats[999]])
        // The next plan folds the dropped ones again, the late event in them.
        XCTAssertEqual(try store(try ledger.planCheckpoints(spacing: spacing, limit: 4), ledger), 2)
        XCTAssertEqual(try checkpointInstantsAndCounts(ledger).map(\.events), [400, 801, expected[2].events + 1])
        try assertAnswersAreTheWholeLogs(ledger, at: expected.map(\.at) + [timed.ats[999]])
    }

    /// One nanosecond after a planned instant is not at or before it: the checkpoints before
    /// the event are stored. The event comes after later ones (it is found in `lags`).
    func testAnEventJustAfterAPlannedInstantDropsNothingBeforeIt() throws {
        let timed = TimedLines(count: 1_010)
        let (ledger, expected, stored) = try planThenStore(timed) { expected in
            timed.text(1_000..<1_010) + self.login(at: Instant(nanoseconds: expected[1].at.nanoseconds + 1), id: "late")
        }
        XCTAssertEqual(stored, 2, "the spaced ones stay; the tail after the event goes")
        XCTAssertEqual(try checkpointInstantsAndCounts(ledger).map(\.at), [expected[0].at, expected[1].at])
        try assertAnswersAreTheWholeLogs(ledger, at: expected.map(\.at) + [timed.ats[1_009]])
    }

    /// A plan stops at its limit and says so; storing it and planning again goes on from it.
    func testAPlanStopsAtItsLimit() throws {
        let timed = TimedLines(count: 1_000)
        let ledger = try ledger(timed, 1_000)
        let first = try ledger.planCheckpoints(spacing: spacing, limit: 1)
        XCTAssertEqual(first.count, 1)
        XCTAssertTrue(first.reachedLimit)
        XCTAssertEqual(try store(first, ledger), 1)
        let second = try ledger.planCheckpoints(spacing: spacing, limit: 1)
        XCTAssertTrue(second.reachedLimit)
        XCTAssertEqual(try store(second, ledger), 1)
        let third = try ledger.planCheckpoints(spacing: spacing, limit: 1)
        XCTAssertFalse(third.reachedLimit, "only the tail is left")
        XCTAssertEqual(try store(third, ledger), 1)
        XCTAssertTrue(try ledger.planCheckpoints(spacing: spacing, limit: 1).isEmpty)
        let expected = try expected(timed, 1_000)
        XCTAssertEqual(try checkpointInstantsAndCounts(ledger).map(\.at), expected.map(\.at))
        try assertAnswersAreTheWholeLogs(ledger, at: expected.map(\.at))
    }

    /// A planned tail that replaces a rolling one, dropped for an event between the two
    /// instants: the rolling one stays (the event does not touch it), and nothing is removed.
    func testADroppedReplacementLeavesTheRollingTailItWouldHaveReplaced() throws {
        let timed = TimedLines(count: 600)
        let ledger = try ledger(timed, 300)
        XCTAssertEqual(try store(try ledger.planCheckpoints(spacing: spacing, limit: 4), ledger), 1)
        let rolling = try XCTUnwrap(try checkpointInstantsAndCounts(ledger).first)
        XCTAssertEqual(rolling.at, timed.hourBefore(299))
        try storeGroup(ledger, timed.text(300..<500))
        let plan = try ledger.planCheckpoints(spacing: spacing, limit: 4)
        guard plan.count == 1, plan.puts[0].replacing == rolling.at else {
            return XCTFail("the lines changed: the plan does not replace the rolling tail at \(rolling.at)")
        }
        try storeGroup(ledger, login(at: Instant(nanoseconds: rolling.at.nanoseconds + 1), id: "late"))
        XCTAssertEqual(try store(plan, ledger), 0)
        XCTAssertEqual(try checkpointInstantsAndCounts(ledger).map(\.at), [rolling.at])
        try assertAnswersAreTheWholeLogs(ledger, at: [rolling.at, plan.puts[0].at, timed.ats[499]])
    }

    /// An event stored after the plan at or before the checkpoint the plan folded from removes
    /// that one (as any late event does) and drops the whole plan; the next plan folds it all again.
    func testAnEventBeforeTheCheckpointThePlanFoldedFromDropsThePlan() throws {
        let timed = TimedLines(count: 1_000)
        let ledger = try ledger(timed, 1_000)
        XCTAssertEqual(try store(try ledger.planCheckpoints(spacing: spacing, limit: 1), ledger), 1)
        let expected = try expected(timed, 1_000)
        let plan = try ledger.planCheckpoints(spacing: spacing, limit: 4)
        XCTAssertEqual(plan.puts.map(\.at), [expected[1].at, expected[2].at])
        let late = Instant(nanoseconds: expected[0].at.nanoseconds - 1)
        try storeGroup(ledger, login(at: late, id: "late"))
        XCTAssertEqual(try store(plan, ledger), 0)
        XCTAssertEqual(try checkpointInstantsAndCounts(ledger).count, 0)
        try assertAnswersAreTheWholeLogs(ledger, at: [late] + expected.map(\.at))
        // Every 400 events in time order again: the late login is the 400th, line 798 the 800th.
        XCTAssertEqual(try store(try ledger.planCheckpoints(spacing: spacing, limit: 4), ledger), 3)
        XCTAssertEqual(try checkpointInstantsAndCounts(ledger).map(\.at), [late, timed.ats[798], expected[2].at])
        XCTAssertEqual(try checkpointInstantsAndCounts(ledger).map(\.events), [400, 800, expected[2].events + 1])
        try assertAnswersAreTheWholeLogs(ledger, at: [late] + expected.map(\.at))
    }

    /// Planned and stored at once, checkpoints are the very bytes the command line's path
    /// writes after the same calls (`writeCheckpointsIfDue(spacing:)`, then `writeRollingTail`):
    /// spaced ones, rolling tails, and replacements among them.
    func testPlanAndStoreWriteWhatTheCommandLinesPathWrites() throws {
        let timed = TimedLines(count: 6_000)
        let planned = try Ledger(path: try temporaryDirectory(self) + "/planned", access: .readWrite)
        let direct = try Ledger(path: try temporaryDirectory(self) + "/direct", access: .readWrite)
        var start = 0
        for size in [300, 150, 120, 900, 130, 110, 1_500, 90, 140, 400, 160, 2_000] {
            let lines = timed.text(start..<(start + size))
            start += size
            for ledger in [planned, direct] { try storeGroup(ledger, lines) }
            _ = try planned.writeCheckpointsIfDue(spacing: spacing) { try planned.reserveRoom($0) }
            _ = try direct.writeCheckpointsIfDue(spacing: spacing)
            _ = try direct.writeRollingTail(spacing: spacing)
            XCTAssertEqual(try storedBytes(planned), try storedBytes(direct), "after \(start) events")
        }
        let rolling = try storedBytes(planned).filter { $0[8 + 1] == 1 }.count  // the header's second byte
        XCTAssertGreaterThan(try storedBytes(planned).count, rolling, "spaced ones")
        XCTAssertGreaterThan(rolling, 0, "rolling tails")
        XCTAssertTrue(try planned.check().isIntact)
    }

    /// Each stored checkpoint's key and value, one after the other.
    private func storedBytes(_ ledger: Ledger) throws -> [[UInt8]] {
        try ledger.read { snapshot in
            try snapshot.txn.withCursor(snapshot.db.checkpoints) { cursor in
                var out: [[UInt8]] = []
                try cursor.forEach(from: cursor.first()) { out.append(Array($0.key) + Array($0.value)); return true }
                return out
            }
        }
    }
}
