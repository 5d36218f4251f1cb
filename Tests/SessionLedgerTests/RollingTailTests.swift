import XCTest
@testable import SessionLedger

/// Rolling tails (decision 0007, amended a fourth time): calls too small for a tail and
/// `sledger serve`'s group commits end with a tail an hour before the newest event when a
/// quarter of the spacing lies before it, and the next tail replaces it while it lies less than
/// three quarters of a spacing after the checkpoint before it. The expected checkpoints are
/// worked out here from those rules and the lines' own instants, not from the writer.
final class RollingTailTests: XCTestCase {
    /// One stored checkpoint as these tests compare them.
    private struct Stored: Equatable, CustomStringConvertible {
        var at: Instant
        var events: UInt64
        var rolling: Bool
        var description: String { "\(at) \(events)\(rolling ? " rolling" : "")" }
    }

    private func stored(_ ledger: Ledger) throws -> [Stored] {
        var out: [Stored] = []
        try ledger.read { snapshot in
            try snapshot.forEachStoredCheckpoint(policy: .default) { at, checkpoint in
                let checkpoint = try XCTUnwrap(checkpoint)
                out.append(Stored(at: at, events: checkpoint.events, rolling: checkpoint.rolling))
            }
        }
        return out
    }

    /// The rules, applied to the first `n` of `timed`'s lines stored (one an instant, in time
    /// order): spaced checkpoints `spacing` events apart from the latest one while an event lies
    /// past the end of the stretch, then the rolling tail. Returns what replaced what.
    private func expectAfterACall(_ expected: inout [Stored], timed: TimedLines, n: Int, spacing: Int) -> (written: Int, replaced: Int) {
        var written = 0
        // Spaced: due when `spacing` events lie past the latest; each at its stretch's last event,
        // written once an event past it is stored.
        if n - Int(expected.last?.events ?? 0) >= spacing {
            while n > Int(expected.last?.events ?? 0) + spacing {
                let events = Int(expected.last?.events ?? 0) + spacing
                expected.append(Stored(at: timed.ats[events - 1], events: UInt64(events), rolling: false))
                written += 1
            }
        }
        // The rolling tail.
        let at = timed.hourBefore(n - 1)
        let latest = expected.last
        guard latest.map({ $0.at < at }) ?? true else { return (written, 0) }
        let events = timed.eventsThrough(at, of: n)
        guard Int(events) - Int(latest?.events ?? 0) >= max(1, spacing / 4) else { return (written, 0) }
        var replaced = 0
        if let latest, latest.rolling {
            let before = expected.dropLast().last?.events ?? 0
            if 4 * Int(latest.events - before) < 3 * spacing {
                expected.removeLast()
                replaced = 1
            }
        }
        expected.append(Stored(at: at, events: events, rolling: true))
        return (written + 1, replaced)
    }

    func testSmallCallsKeepARollingTailThatTheNextReplaces() throws {
        let timed = TimedLines(count: 2400)
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        var options = AppendOptions()
        options.checkpointSpacing = .every(400)  // a quarter: 100 events; three quarters: 300
        var expected: [Stored] = []
        var replaced = 0, kept = 0
        for call in stride(from: 0, to: 2400, by: 40) {
            let summary = try ledger.append([InputSource(bytes: timed.text(call..<(call + 40)))], options: options)
            let before = expected.count
            let change = expectAfterACall(&expected, timed: timed, n: call + 40, spacing: 400)
            XCTAssertEqual(summary.checkpointsWritten, change.written, "after \(call + 40) events")
            XCTAssertEqual(try stored(ledger), expected, "after \(call + 40) events")
            replaced += change.replaced
            if change.written > 0, change.replaced == 0, before > 0, expected[before - 1].rolling { kept += 1 }
        }
        XCTAssertGreaterThan(replaced, 5, "tails replaced their rolling predecessor")
        XCTAssertGreaterThan(kept, 2, "and a rolling tail three quarters of a spacing on was kept")
        XCTAssertTrue(expected.allSatisfy(\.rolling), "small calls never reached a spaced checkpoint here")

        // Kept checkpoints lie at least three quarters of a spacing apart; each stretch begins at
        // the checkpoint before it, so a replaced tail's time line is still in one.
        for (a, b) in zip(expected, expected.dropFirst().dropLast()) { XCTAssertGreaterThanOrEqual(b.events - a.events, 300) }
        try ledger.read { snapshot in
            var previous = Instant.earliest
            try snapshot.forEachStoredCheckpoint(policy: .default) { at, checkpoint in
                XCTAssertEqual(checkpoint?.stretch?.from, previous, "the stretch of the checkpoint at \(at)")
                previous = at
            }
        }
        XCTAssertTrue(try ledger.check().isIntact)

        // The answers are a whole-log fold's, inside stretches and past the last tail; `who`
        // reads a stretch for every instant up to the last tail, replaced tails' included.
        let policy = Policy.default
        try ledger.read { snapshot in
            for i in Array(stride(from: 3, to: 2400, by: 97)) + [2399] {
                let t = timed.ats[i]
                let whole = try wholeLog(snapshot, policy, at: t)
                XCTAssertEqual(try withCheckpoints(snapshot, policy, at: t), whole, "at \(t)")
                let fromStretch = try snapshot.whoFromStretch(policy: policy, at: t, client: nil)
                if t <= expected.last!.at {
                    XCTAssertEqual(fromStretch, SessionQuery.who(whole), "who at \(t)")
                } else {
                    XCTAssertNil(fromStretch, "past the last checkpoint, at \(t)")
                }
            }
        }

        // `sledger checkpoint` treats the rolling tail at the end as provisional: spaced
        // checkpoints from the one before it, then a tail of its own, which is not rolling.
        let last = expected.removeLast()
        let from = try XCTUnwrap(expected.last)
        let written = try ledger.writeCheckpoints(spacing: .every(400), tail: true)
        let after = try stored(ledger)
        XCTAssertEqual(Array(after.prefix(expected.count)), expected)
        XCTAssertFalse(after.contains(last))
        let spaced = after.dropFirst(expected.count).dropLast()
        XCTAssertEqual(spaced.map(\.events), spaced.indices.map { from.events + UInt64(400 * ($0 - expected.count + 1)) })
        XCTAssertEqual(after.last, Stored(at: timed.hourBefore(2399), events: timed.eventsThrough(timed.hourBefore(2399), of: 2400), rolling: false))
        XCTAssertEqual(written, after.count - expected.count)
        XCTAssertTrue(try ledger.check().isIntact)
    }

    /// Without tails (`tailCheckpointFrom` nil) a small call writes none, rolling or not.
    func testNoTailsMeansNoRollingTail() throws {
        let timed = TimedLines(count: 600)
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        var options = AppendOptions()
        options.checkpointSpacing = .every(400)
        options.tailCheckpointFrom = nil
        XCTAssertEqual(try ledger.append([InputSource(bytes: timed.text(0..<399))], options: options).checkpointsWritten, 0)
        XCTAssertEqual(try stored(ledger), [])
    }

    /// `sledger serve`'s path: group commits, then `writeCheckpointsIfDue`, spaced by size.
    func testGroupCommitsWriteARollingTailAndReplaceIt() throws {
        let timed = TimedLines(count: 10_000)
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        let spacing = CheckpointSpacing.adaptive.minimum  // 50 users' checkpoints are small
        var expected: [Stored] = []
        for (start, end) in [(0, 5_000), (5_000, 7_000), (7_000, 10_000)] {
            let requests = try stride(from: start, to: end, by: 500).map { try EventBatch.parse(ndjson: timed.text($0..<($0 + 500))) }
            _ = try ledger.appendGroup(requests)
            let written = try ledger.writeCheckpointsIfDue { try ledger.reserveRoom($0) }
            XCTAssertEqual(written, expectAfterACall(&expected, timed: timed, n: end, spacing: spacing).written, "after \(end) events")
            XCTAssertEqual(try stored(ledger), expected, "after \(end) events")
        }
        XCTAssertEqual(expected.count, 1, "the second tail replaced the first")
        XCTAssertTrue(try ledger.check().isIntact)
        try ledger.read { snapshot in
            let t = timed.ats[9_999]
            XCTAssertEqual(try withCheckpoints(snapshot, .default, at: t), try wholeLog(snapshot, .default, at: t))
        }
    }
}
