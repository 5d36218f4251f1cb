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

    /// A new ledger, and the options of calls into it that space checkpoints 400 events apart.
    private func ledgerSpacedEvery400() throws -> (Ledger, AppendOptions) {
        var options = AppendOptions()
        options.checkpointSpacing = .every(400)
        return (try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite), options)
    }

    /// The rules, applied to the first `n` of `timed`'s lines stored (one an instant, in time
    /// order): spaced checkpoints `spacing` events apart from the latest one while an event lies
    /// past the end of the stretch, then the rolling tail. Returns what replaced what.
    private func expectAfterACall(_ expected: inout [Stored], timed: TimedLines, n: Int, spacing: Int)
        -> (written: Int, spaced: Int, replaced: Int) {
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
        guard latest.map({ $0.at < at }) ?? true else { return (written, written, 0) }
        let events = timed.eventsThrough(at, of: n)
        guard Int(events) - Int(latest?.events ?? 0) >= max(1, spacing / 4) else { return (written, written, 0) }
        var replaced = 0
        if let latest, latest.rolling {
            let before = expected.dropLast().last?.events ?? 0
            if 4 * Int(latest.events - before) < 3 * spacing {
                expected.removeLast()
                replaced = 1
            }
        }
        expected.append(Stored(at: at, events: events, rolling: true))
        return (written + 1, written, replaced)
    }

    func testSmallCallsKeepARollingTailThatTheNextReplaces() throws {
        let count = 2700  // two rounds of 15 calls of 40 events and one of 450, then 15 of 40
        let timed = TimedLines(count: count)
        let (ledger, options) = try ledgerSpacedEvery400()  // a quarter: 100 events; three quarters: 300
        var expected: [Stored] = []
        var replaced = 0, kept = 0, spacedAfterRolling = 0
        var n = 0, calls = 0
        while n < count {
            // Calls of 40 events, and every sixteenth one of 450, which makes a spaced checkpoint due.
            let size = min(calls % 16 == 15 ? 450 : 40, count - n)
            let summary = try ledger.append([InputSource(bytes: timed.text(n..<(n + size)))], options: options)
            n += size
            calls += 1
            let last = expected.last
            let change = expectAfterACall(&expected, timed: timed, n: n, spacing: 400)
            XCTAssertEqual(summary.checkpointsWritten, change.written, "after \(n) events")
            XCTAssertEqual(try stored(ledger), expected, "after \(n) events")
            replaced += change.replaced
            if let last, last.rolling, change.spaced > 0 { spacedAfterRolling += 1 }
            if let last, last.rolling, change.spaced == 0, change.written > 0, change.replaced == 0 { kept += 1 }
        }
        XCTAssertGreaterThan(replaced, 5, "tails replaced their rolling predecessor")
        XCTAssertGreaterThan(kept, 1, "a rolling tail three quarters of a spacing on was kept")
        XCTAssertGreaterThan(spacedAfterRolling, 1, "spaced checkpoints went on from a rolling tail")

        // A rolling tail that the next tail kept lies at least three quarters of a spacing past
        // the checkpoint before it; each stretch begins at the checkpoint before it, so a
        // replaced tail's time line is still in one.
        let now = try stored(ledger)
        for k in now.indices.dropFirst().dropLast() where now[k].rolling && now[k + 1].rolling {
            XCTAssertGreaterThanOrEqual(now[k].events - now[k - 1].events, 300, "\(now[k])")
        }
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
            for i in Array(stride(from: 3, to: count, by: 97)) + [count - 1] {
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
        XCTAssertTrue(last.rolling, "the calls end with small ones")
        let from = try XCTUnwrap(expected.last)
        let written = try ledger.writeCheckpoints(spacing: .every(400), tail: true)
        let after = try stored(ledger)
        XCTAssertEqual(Array(after.prefix(expected.count)), expected)
        XCTAssertFalse(after.contains(last))
        let spaced = after.dropFirst(expected.count).dropLast()
        // One every 400 events from the one before the rolling tail, each once an event lies past it.
        let due = (count - 1 - Int(from.events)) / 400
        XCTAssertEqual(spaced.map(\.events), (0..<due).map { from.events + UInt64(400 * ($0 + 1)) })
        XCTAssertFalse(spaced.contains(where: \.rolling))
        let tail = timed.hourBefore(count - 1)
        XCTAssertEqual(after.last, Stored(at: tail, events: timed.eventsThrough(tail, of: count), rolling: false))
        XCTAssertEqual(written, after.count - expected.count)
        XCTAssertTrue(try ledger.check().isIntact)
    }

    /// Without tails (`tailCheckpointFrom` nil) a small call writes none, rolling or not.
    func testNoTailsMeansNoRollingTail() throws {
        let timed = TimedLines(count: 600)
        let (ledger, spaced) = try ledgerSpacedEvery400()
        var options = spaced
        options.tailCheckpointFrom = nil
        XCTAssertEqual(try ledger.append([InputSource(bytes: timed.text(0..<399))], options: options).checkpointsWritten, 0)
        XCTAssertEqual(try stored(ledger), [])
    }

    /// `sledger serve`'s path: group commits, then `writeCheckpointsIfDue`, spaced by size.
    func testGroupCommitsWriteARollingTailAndReplaceIt() throws {
        let timed = TimedLines(count: 10_000)  // one a minute on average
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

    /// A refresh of a session no login made (stored all the same) at `t`.
    private func refresh(at t: Instant, id: String) -> [UInt8] {
        Array(#"{"type":"refresh","at":"\#(t)","user":"u1","session":"nobody","id":"\#(id)"}"#.utf8) + [0x0A]
    }

    /// Events stored after the newest but dated before the tail's instant (a backfill) count
    /// towards it: the quick look before the fold must not stop at the first event past that
    /// instant in `seq` order.
    func testABackfillBeforeTheTailsInstantCountsTowardsIt() throws {
        let timed = TimedLines(count: 340)
        let (ledger, options) = try ledgerSpacedEvery400()
        var expected: [Stored] = []
        _ = try ledger.append([InputSource(bytes: timed.text(0..<300))], options: options)
        XCTAssertEqual(expectAfterACall(&expected, timed: timed, n: 300, spacing: 400).written, 1)
        XCTAssertEqual(try stored(ledger), expected)
        let first = expected[0]
        // 40 more: fewer than 100 lie between the tail and the next tail's instant.
        XCTAssertEqual(try ledger.append([InputSource(bytes: timed.text(300..<340))], options: options).checkpointsWritten, 0)
        let at = timed.hourBefore(339)
        let between = Int(timed.eventsThrough(at, of: 340) - first.events)
        guard between < 100 else { return XCTFail("\(between) events between the tails: the lines changed") }
        // Older events after the tail's instant and at or before the next one's, one fewer than
        // enough, and older events after the next one's instant (lagged too, not counted):
        // not due yet. Then the last one: due.
        let needed = 100 - between
        let backfill = (1...needed).map { k -> [UInt8] in
            let t = Instant(nanoseconds: first.at.nanoseconds + (at.nanoseconds - first.at.nanoseconds) * Int64(k) / Int64(needed))
            return refresh(at: t, id: "backfill-\(k)")
        }
        let afterTheInstant = (1...5).flatMap { k in refresh(at: Instant(nanoseconds: at.nanoseconds + Int64(k)), id: "later-\(k)") }
        XCTAssertEqual(try ledger.append([InputSource(bytes: backfill.dropLast().flatMap { $0 } + afterTheInstant)], options: options).checkpointsWritten, 0)
        XCTAssertEqual(try stored(ledger), [first])
        XCTAssertEqual(try ledger.append([InputSource(bytes: backfill.last!)], options: options).checkpointsWritten, 1)
        // It replaces the first (a rolling tail 4 x 300 or fewer events from the start, under 3 x 400).
        XCTAssertEqual(try stored(ledger), [Stored(at: at, events: first.events + 100, rolling: true)])
        XCTAssertTrue(try ledger.check().isIntact)
        try ledger.read { snapshot in
            for t in [at, timed.ats[339]] {
                XCTAssertEqual(try withCheckpoints(snapshot, .default, at: t), try wholeLog(snapshot, .default, at: t), "at \(t)")
            }
        }
    }

    /// A late event at or before a rolling tail's instant removes it, as any checkpoint; the
    /// same call writes a rolling tail again when one is due, and the answers include the event.
    func testALateEventRemovesARollingTail() throws {
        let timed = TimedLines(count: 640)
        let (ledger, options) = try ledgerSpacedEvery400()
        var expected: [Stored] = []
        for n in stride(from: 40, through: 600, by: 40) {
            _ = try ledger.append([InputSource(bytes: timed.text((n - 40)..<n))], options: options)
            _ = expectAfterACall(&expected, timed: timed, n: n, spacing: 400)
        }
        XCTAssertEqual(try stored(ledger), expected)
        let rolling = try XCTUnwrap(expected.last)
        XCTAssertTrue(rolling.rolling)
        let late = Instant(nanoseconds: rolling.at.nanoseconds - 1)
        XCTAssertEqual(try ledger.append([InputSource(bytes: timed.text(600..<640) + refresh(at: late, id: "late"))],
                                         options: options).checkpointsWritten, 1)
        let after = try stored(ledger)
        XCTAssertEqual(Array(after.dropLast()), expected.filter { $0.at < late })
        let tail = timed.hourBefore(639)
        XCTAssertEqual(after.last, Stored(at: tail, events: timed.eventsThrough(tail, of: 640) + 1, rolling: true))
        XCTAssertTrue(try ledger.check().isIntact)
        try ledger.read { snapshot in
            for t in [late, rolling.at, tail, timed.ats[639]] {
                XCTAssertEqual(try withCheckpoints(snapshot, .default, at: t), try wholeLog(snapshot, .default, at: t), "at \(t)")
            }
        }
    }
}
