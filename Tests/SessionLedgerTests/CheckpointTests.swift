import XCTest
@testable import SessionLedger

/// Issue 4: checkpoints are a cache. With them or without, `who` and `sessions` answer the
/// same; a late event older than one removes it; `check` refolds them; a damaged one is skipped.
final class CheckpointTests: XCTestCase {
    func testAnswersFromCheckpointsEqualAnswersFromTheWholeLog() throws {
        var resumed = 0
        for seed in UInt64(1)...10 {
            // Half the seeds space them by their size, as append does (on a smaller scale).
            let spacing = seed <= 5 ? CheckpointSpacing.every(11 + Int(seed))
                : CheckpointSpacing(minimum: 5, maximum: 60, bytesPerEvent: 8 + Int(seed))
            let (ledger, policy, events) = try seededLedgerWithCheckpoints(self, seed: seed, spacing: spacing)
            let instants = Set(events.map(\.at)).sorted()
            let probes = [Instant(nanoseconds: instants[0].nanoseconds - 1)] + instants
                + instants.map { Instant(nanoseconds: $0.nanoseconds + 1) } + [instants.last!.saturatingAdding(.seconds(40 * 86_400))]
            try ledger.read { snapshot in
                XCTAssertGreaterThan(try snapshot.checkpointCount(), 5, "seed \(seed)")
                for (i, t) in probes.enumerated() where i % 3 == 0 {
                    XCTAssertEqual(try withCheckpoints(snapshot, policy, at: t), try wholeLog(snapshot, policy, at: t), "seed \(seed), at \(t)")
                    if try snapshot.checkpoint(atOrBefore: t, policy: policy) != nil { resumed += 1 }
                    let to = probes[min(i + 17, probes.count - 1)]
                    XCTAssertEqual(try withCheckpoints(snapshot, policy, from: t, to: to), try wholeLog(snapshot, policy, from: t, to: to),
                                   "seed \(seed), from \(t) to \(to)")
                }
            }
        }
        XCTAssertGreaterThan(resumed, 100, "most answers came from a checkpoint")
    }

    /// Decision 0007's rule, written out: the next checkpoint comes one event later per
    /// `bytesPerEvent` bytes of the last one, at least `minimum` and at most `maximum` later.
    /// The bytes are the checkpoint's without its stretch (docs/FORMAT.md), which a fold does not read.
    private func expectedGap(minimum: Int, maximum: Int, bytesPerEvent: Int, lastBytes: Int?) -> UInt64 {
        guard let lastBytes else { return UInt64(minimum) }
        return UInt64(min(maximum, max(minimum, lastBytes / bytesPerEvent)))
    }

    private func withoutStretch(_ checkpoint: Checkpoint) -> Int {
        var bare = checkpoint
        bare.stretch = nil
        return bare.encoded().count
    }

    func testAdaptiveSpacingPutsTheNextCheckpointTheLastOnesBytesPerEventLater() throws {
        XCTAssertEqual(CheckpointSpacing.adaptive.after(checkpointBytes: nil), 16_384)
        XCTAssertEqual(CheckpointSpacing.adaptive.after(checkpointBytes: 100), 16_384)
        XCTAssertEqual(CheckpointSpacing.adaptive.after(checkpointBytes: 1 << 20), 131_072)
        XCTAssertEqual(CheckpointSpacing.adaptive.after(checkpointBytes: 100 << 20), 2_097_152)
        XCTAssertEqual(CheckpointSpacing.every(10).after(checkpointBytes: 1 << 20), 10)

        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        var options = AppendOptions()
        options.checkpointSpacing = nil
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 3000))], options: options)  // one event an instant
        let spacing = CheckpointSpacing(minimum: 10, maximum: 1000, bytesPerEvent: 4)
        XCTAssertGreaterThan(try ledger.writeCheckpoints(spacing: spacing), 3)
        var previous: Checkpoint?
        var gaps: Set<UInt64> = []
        try ledger.read { snapshot in
            try snapshot.forEachStoredCheckpoint(policy: .default) { _, stored in
                let checkpoint = try XCTUnwrap(stored)
                let gap = checkpoint.events - (previous?.events ?? 0)
                XCTAssertEqual(gap, expectedGap(minimum: 10, maximum: 1000, bytesPerEvent: 4, lastBytes: previous.map(withoutStretch)))
                gaps.insert(gap)
                previous = checkpoint
            }
        }
        XCTAssertGreaterThan(gaps.count, 2, "the spacing follows the checkpoints' sizes")
        XCTAssertTrue(try ledger.check().isIntact)
    }

    func testAppendWritesCheckpointsSpacedByTheStoredSizeOfTheLatest() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        let spacing = CheckpointSpacing(minimum: 10, maximum: 1000, bytesPerEvent: 4)
        var options = AppendOptions()
        options.checkpointSpacing = spacing
        options.tailCheckpointFrom = nil  // spaced ones only
        let lines = generatedLines(count: 3000).split(separator: 0x0A, omittingEmptySubsequences: false)
        for call in stride(from: 0, to: 3000, by: 100) {  // 30 calls: checkpoints come when due, several in some
            let text: [UInt8] = lines[call..<call + 100].flatMap { Array($0) + [UInt8(0x0A)] }
            _ = try ledger.append([InputSource(bytes: text)], options: options)
        }
        var previous: (events: UInt64, bytes: Int)?
        var count = 0
        try ledger.read { snapshot in
            try snapshot.txn.withCursor(snapshot.db.checkpoints) { cursor in
                try cursor.forEach(from: cursor.first()) { entry in
                    let checkpoint = try XCTUnwrap(Checkpoint.decode(entry.value, policy: .default))
                    XCTAssertEqual(checkpoint.events - (previous?.events ?? 0),
                                   expectedGap(minimum: 10, maximum: 1000, bytesPerEvent: 4, lastBytes: previous?.bytes))
                    XCTAssertNotNil(checkpoint.stretch)
                    previous = (checkpoint.events, withoutStretch(checkpoint))
                    count += 1
                    return true
                }
            }
        }
        XCTAssertGreaterThan(count, 3)
        XCTAssertTrue(try ledger.check().isIntact)
    }

    /// A late event older than a checkpoint: the checkpoints at or after its instant go in the
    /// same transaction, earlier ones stay, and the answers include it.
    func testALateEventOlderThanACheckpointRemovesItAndIsNotLost() throws {
        let (ledger, at) = try fortyLoginsAfterAlice(self)
        var options = AppendOptions()
        options.checkpointSpacing = nil
        let before = try ledger.read { snapshot in try snapshot.checkpointInstants() }
        XCTAssertEqual(before, [at(9), at(19), at(29), at(39)])

        // alice logged out at minute 25, logged an hour late.
        _ = try ledger.append([InputSource(bytes: canonicalLines([Event(kind: .logout, at: at(25), user: "alice", session: "a1")]))], options: options)
        let after = try ledger.read { snapshot in try snapshot.checkpointInstants() }
        XCTAssertEqual(after, [at(9), at(19)])
        try ledger.read { snapshot in
            let t = at(45)
            let active = try withCheckpoints(snapshot, .default, at: t)
            XCTAssertFalse(active.contains { $0.session == "a1" }, "alice's logout at minute 25 is applied")
            XCTAssertEqual(active.count, 40)
            XCTAssertEqual(try snapshot.stateFold(policy: .default, horizon: .through(at(24)), readsFrom: at(24)).session("a1")?.endedAt, nil)
            XCTAssertEqual(try withCheckpoints(snapshot, .default, at: at(30)), try wholeLog(snapshot, .default, at: at(30)))
        }
        // Rebuilt from the last intact one; `check` refolds every one.
        XCTAssertEqual(try ledger.writeCheckpoints(spacing: .every(10)), 2)
        let report = try ledger.check()
        XCTAssertTrue(report.isIntact, "\(report.problems)")
        XCTAssertEqual(report.checkpoints, 4)
    }

    func testCheckRefoldsCheckpointsAndQueriesSkipADamagedOne() throws {
        let (ledger, stored) = try ledgerWithCheckpoints(self)
        XCTAssertTrue(try ledger.check().isIntact)
        let (victim, good) = (stored[2].at, stored[2].checkpoint!)
        let t = stored[3].at.saturatingAdding(Duration(nanoseconds: -1))  // reads from the victim
        let truth = try ledger.read { try wholeLog($0, .default, at: t) }

        // A flipped byte: the checksum fails, `check` says so, queries fold from the one before.
        var flipped = good.encoded()
        flipped[flipped.count / 2] ^= 0x10
        try ledger.env.write { try $0.put(ledger.db.checkpoints, Checkpoint.key(victim), flipped) }
        XCTAssertTrue(try ledger.check().problems.contains { $0.what.contains("damaged") })
        try ledger.read { snapshot in
            XCTAssertEqual(try snapshot.checkpoint(atOrBefore: t, policy: .default)?.at, stored[1].at)
            XCTAssertEqual(try withCheckpoints(snapshot, .default, at: t), truth)
        }

        // A well-formed but wrong one (a session dropped, checksum recomputed): only a refold tells.
        var wrong = good
        wrong.sessions.removeFirst()
        wrong.numbers.removeFirst()
        try ledger.env.write { try $0.put(ledger.db.checkpoints, Checkpoint.key(victim), wrong.encoded()) }
        let report = try ledger.check()
        XCTAssertFalse(report.isIntact)
        XCTAssertTrue(report.problems.contains { $0.what.contains("differs from a refold") }, "\(report.problems)")

        // `sledger checkpoint` rebuilds a damaged one.
        try ledger.env.write { try $0.put(ledger.db.checkpoints, Checkpoint.key(victim), flipped) }
        _ = try ledger.writeCheckpoints(spacing: .every(400))
        XCTAssertTrue(try ledger.check().isIntact)
        XCTAssertEqual(try ledger.read { try $0.checkpoint(atOrBefore: victim, policy: .default) }, good)
    }

    /// Version 2: each session's numbers are the ones the ledger's `sessions` and `users`
    /// tables give its strings. A version 1 checkpoint is read without them, and rewritten.
    func testCheckpointsCarryTheLedgersNumbersAndAVersionOneIsReadThenRewritten() throws {
        let (ledger, stored) = try ledgerWithCheckpoints(self)
        try ledger.read { snapshot in
            var checked = 0
            for (_, checkpoint) in stored {
                let checkpoint = try XCTUnwrap(checkpoint)
                XCTAssertEqual(checkpoint.numbers.count, checkpoint.sessions.count)
                for (state, numbers) in zip(checkpoint.sessions, checkpoint.numbers) {
                    XCTAssertEqual(numbers.session, try snapshot.sessionNumber(state.session), state.session)
                    XCTAssertEqual(numbers.user, try snapshot.userNumber(state.user), state.user)
                    checked += 1
                }
            }
            XCTAssertGreaterThan(checked, 50)
        }

        // The same checkpoint as version 1 wrote it (FORMAT.md: no numbers): read, numbers not
        // known, answers unchanged, `check` content; `sledger checkpoint` writes version 2 again.
        let victim = stored[2].at
        let original = stored[2].checkpoint!
        let old = olderCheckpointBytes(original, version: 1)
        let decoded = try XCTUnwrap(old.withUnsafeBytes { Checkpoint.decode($0, policy: .default) })
        XCTAssertEqual(decoded.sessions, original.sessions)
        XCTAssertEqual(decoded.numbers, Array(repeating: Checkpoint.Numbers(session: 0, user: 0), count: original.sessions.count))
        XCTAssertTrue(decoded.isOutdated)
        XCTAssertFalse(original.isOutdated)
        try ledger.env.write { try $0.put(ledger.db.checkpoints, Checkpoint.key(victim), old) }
        let report = try ledger.check()
        XCTAssertTrue(report.isIntact, "\(report.problems)")
        for t in [victim, stored[3].at.saturatingAdding(Duration(nanoseconds: -1))] {
            try ledger.read { snapshot in
                XCTAssertEqual(try snapshot.checkpoint(atOrBefore: t, policy: .default)?.at, victim)
                XCTAssertEqual(try withCheckpoints(snapshot, .default, at: t), try wholeLog(snapshot, .default, at: t))
            }
        }
        // A wrong session in it is still found by `check`.
        var wrong = decoded
        wrong.sessions.removeFirst()
        wrong.numbers.removeFirst()
        try ledger.env.write { try $0.put(ledger.db.checkpoints, Checkpoint.key(victim), olderCheckpointBytes(wrong, version: 1)) }
        XCTAssertTrue(try ledger.check().problems.contains { $0.what.contains("differs from a refold") })
        try ledger.env.write { try $0.put(ledger.db.checkpoints, Checkpoint.key(victim), old) }
        _ = try ledger.writeCheckpoints(spacing: .every(400))
        XCTAssertTrue(try ledger.check().isIntact)
        var rewritten: [Checkpoint?] = []
        try ledger.read { try $0.forEachStoredCheckpoint(policy: .default) { rewritten.append($1) } }
        XCTAssertEqual(rewritten, stored.map(\.checkpoint))
    }

    /// Removing unusable checkpoints needs pages too: on a ledger with no free pages whose file
    /// ends at its last page (a compact copy; an import leaves the file so when the pages in
    /// use fill whole MiBs), `sledger checkpoint` must grow the map for the removal as it does
    /// for the writes. It failed with MDB_MAP_FULL before writing anything.
    func testRebuildingCheckpointsOfAFullFileGrowsTheMap() throws {
        let directory = try temporaryDirectory(self)
        let original = try Ledger(path: directory + "/l", access: .readWrite)
        var options = AppendOptions()
        options.checkpointSpacing = nil
        _ = try original.append([InputSource(bytes: generatedLines(count: 3_000))], options: options)
        XCTAssertGreaterThan(try original.writeCheckpoints(spacing: .every(300)), 5)
        var stored: [Checkpoint?] = []
        try original.read { try $0.forEachStoredCheckpoint(policy: .default) { stored.append($1) } }
        let instants = try original.read { try $0.checkpointInstants() }
        try original.env.write { txn in for at in instants { try txn.put(original.db.checkpoints, Checkpoint.key(at), [1, 2, 3]) } }
        _ = try original.writeCompactCopy(to: directory + "/c")
        let ledger = try Ledger(path: directory + "/c", access: .readWrite)
        try ledger.env.setMapSize(try ledger.env.info().usedBytes)
        XCTAssertEqual(try ledger.writeCheckpoints(spacing: .every(300)), stored.count)
        XCTAssertTrue(try ledger.check().isIntact)
        var rewritten: [Checkpoint?] = []
        try ledger.read { try $0.forEachStoredCheckpoint(policy: .default) { rewritten.append($1) } }
        XCTAssertEqual(rewritten, stored)
    }

    func testImportWritesCheckpointsOnceAStretchIsFull() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        var options = AppendOptions()
        options.checkpointSpacing = .every(500)
        options.tailCheckpointFrom = nil  // spaced ones only
        let first = try ledger.append([InputSource(bytes: generatedLines(count: 499))], options: options)
        XCTAssertEqual(first.checkpointsWritten, 0)
        let second = try ledger.append([InputSource(bytes: generatedLines(count: 1_600, idPrefix: "f"))], options: options)
        XCTAssertEqual(second.checkpointsWritten, 4)  // 2,099 events: after 500, 1,000, 1,500 and 2,000
        XCTAssertEqual(try ledger.read { try $0.checkpointCount() }, 4)
    }

    /// Every stored checkpoint with its key, `headSeq` zeroed: the head when one was written
    /// differs between writing during and after a call, and nothing but `headSeq <= head` reads it.
    private func storedCheckpoints(_ ledger: Ledger) throws -> [(key: [UInt8], checkpoint: Checkpoint?)] {
        try ledger.read { snapshot in
            try snapshot.txn.withCursor(snapshot.db.checkpoints) { cursor in
                var out: [(key: [UInt8], checkpoint: Checkpoint?)] = []
                try cursor.forEach(from: cursor.first()) { entry in
                    var checkpoint = Checkpoint.decode(entry.value, policy: .default)
                    checkpoint?.headSeq = 0
                    out.append((Array(entry.key), checkpoint))
                    return true
                }
                return out
            }
        }
    }

    private func assertSameCheckpoints(_ a: Ledger, _ b: Ledger, _ message: String, line: UInt = #line) throws {
        let (x, y) = (try storedCheckpoints(a), try storedCheckpoints(b))
        XCTAssertEqual(x.map(\.key), y.map(\.key), message, line: line)
        XCTAssertEqual(x.map(\.checkpoint), y.map(\.checkpoint), message, line: line)
        XCTAssertFalse(x.contains { $0.checkpoint == nil }, message, line: line)
    }

    /// `CheckpointFollower`: the checkpoints folded beside the writer and stored in the call's
    /// transaction are the ones the pass after the call writes, call after call, with late
    /// events within the allowance, and with events older than a checkpoint (which end it).
    func testCheckpointsFoldedWhileStoringEqualThoseWrittenAfterTheCall() throws {
        var followed = 0, notFollowed = 0
        for seed in UInt64(1)...8 {
            var generator = TestLogGenerator(seed: seed)
            generator.count = 600
            let events = generator.events()
            let directory = try temporaryDirectory(self)
            let following = try Ledger(path: directory + "/following", access: .readWrite)
            let after = try Ledger(path: directory + "/after", access: .readWrite)
            var followOptions = AppendOptions()
            followOptions.checkpointSpacing = seed <= 4 ? .every(9 + Int(seed)) : CheckpointSpacing(minimum: 5, maximum: 60, bytesPerEvent: 8 + Int(seed))
            followOptions.followCheckpointsFrom = 0
            // Small hand-overs for half the seeds: checkpoints are then stored mid-call, and
            // removed again when a later event ends the follower.
            if seed % 2 == 0 { followOptions.followerBatchSize = 3 }
            var afterOptions = followOptions
            afterOptions.followCheckpointsFrom = nil
            let parts = [0, 200, 420, events.count]
            for i in 0..<3 {
                let text = canonicalLines(events[parts[i]..<parts[i + 1]])
                let summary = try following.append([InputSource(bytes: text)], options: followOptions)
                let expected = try after.append([InputSource(bytes: text)], options: afterOptions)
                XCTAssertFalse(expected.checkpointsFollowed)
                if summary.checkpointsFollowed { followed += 1 } else { notFollowed += 1 }
                XCTAssertEqual(summary.checkpointsWritten, expected.checkpointsWritten, "seed \(seed), call \(i)")
                XCTAssertNil(summary.checkpointError)
                try assertSameCheckpoints(following, after, "seed \(seed), call \(i)")
            }
            XCTAssertGreaterThan(try following.read { try $0.checkpointCount() }, 10, "seed \(seed)")
            XCTAssertTrue(try following.check().isIntact, "seed \(seed)")
        }
        XCTAssertGreaterThan(followed, 8, "most calls folded their checkpoints while storing")
        XCTAssertGreaterThan(notFollowed, 0, "an event older than a checkpoint ended the follower in some call")
    }

    /// An event more than the allowance (an hour) older than the newest one comes after events
    /// near it were folded and stored as checkpoints (handed over 4 at a time): the follower
    /// stops, what it stored goes (some of it is at or after the late event, so it would be
    /// wrong to keep), and the checkpoints are written after the call, the same as without it.
    func testAnEventLaterThanTheAllowanceEndsTheFollower() throws {
        var text = generatedLines(count: 400)  // 1 to 120 s apart: about 400 minutes
        let late = Event(kind: .refresh, at: Instant(rfc3339: "2026-01-01T03:00:00Z")!, user: "u1", session: "s1")
        text += canonicalLines([late])
        text += generatedLines(count: 50, seed: 2, idPrefix: "f")
        let directory = try temporaryDirectory(self)
        let following = try Ledger(path: directory + "/following", access: .readWrite)
        let after = try Ledger(path: directory + "/after", access: .readWrite)
        var options = AppendOptions()
        options.checkpointSpacing = .every(40)
        options.followCheckpointsFrom = 0
        options.followerBatchSize = 4
        let summary = try following.append([InputSource(bytes: text)], options: options)
        XCTAssertFalse(summary.checkpointsFollowed)
        options.followCheckpointsFrom = nil
        let expected = try after.append([InputSource(bytes: text)], options: options)
        XCTAssertEqual(summary.checkpointsWritten, expected.checkpointsWritten)
        XCTAssertGreaterThan(summary.checkpointsWritten, 5)
        try assertSameCheckpoints(following, after, "late by more than the allowance")
        XCTAssertTrue(try following.check().isIntact)

        // Without the late line, the same input is followed to the end.
        let inOrder = try Ledger(path: directory + "/in-order", access: .readWrite)
        options.followCheckpointsFrom = 0
        XCTAssertTrue(try inOrder.append([InputSource(bytes: generatedLines(count: 400))], options: options).checkpointsFollowed)
    }

    /// A large call (here every call: `tailCheckpointFrom` 0) ends with a checkpoint an hour
    /// before the newest event in the ledger when at least a quarter of the spacing due lies at
    /// or before that instant (or the call wrote a spaced checkpoint: the next test): the same whether the checkpoints were folded beside the writer
    /// or after the call; queries past the last spaced checkpoint resume from it and answer as
    /// a fold of the whole log does; the next call's checkpoints are spaced from it; an event
    /// within the hour leaves it, one at or before its instant replaces it.
    func testALargeCallEndsWithACheckpointAnHourBeforeItsNewestEvent() throws {
        let timed = TimedLines(count: 1000)
        let (ats, hour) = (timed.ats, TimedLines.hour)
        /// A refresh of a session no login made (stored all the same) at `t`.
        func line(at t: Instant, id: String) -> [UInt8] {
            Array(#"{"type":"refresh","at":"\#(t)","user":"u1","session":"nobody","id":"\#(id)"}"#.utf8) + [0x0A]
        }
        let directory = try temporaryDirectory(self)
        var options = AppendOptions()
        options.checkpointSpacing = .every(400)  // a quarter: 100 events
        options.tailCheckpointFrom = 0

        // The quarter, exactly: a first call with 100 events at or before its tail's instant
        // writes it, the same call without its first event none.
        let n = try XCTUnwrap((1...400).first { timed.eventsThrough(timed.hourBefore($0 - 1), of: $0) >= 100 })
        let extra = Int(timed.eventsThrough(timed.hourBefore(n - 1), of: n)) - 100  // leave out the first `extra` events: 100 remain
        let short = try Ledger(path: directory + "/short", access: .readWrite)
        XCTAssertEqual(try short.append([InputSource(bytes: timed.text((extra + 1)..<n))], options: options).checkpointsWritten, 0)
        XCTAssertTrue(try checkpointInstantsAndCounts(short).isEmpty)
        let enough = try Ledger(path: directory + "/enough", access: .readWrite)
        XCTAssertEqual(try enough.append([InputSource(bytes: timed.text(extra..<n))], options: options).checkpointsWritten, 1)
        XCTAssertEqual(try checkpointInstantsAndCounts(enough).map(\.events), [100])
        XCTAssertEqual(try checkpointInstantsAndCounts(enough).map(\.at), [timed.hourBefore(n - 1)])
        // The same two calls with the checkpoints folded beside the writer: the follower
        // decides the tail itself, the same way (none for 99 events, one for 100).
        var quarterOptions = options
        quarterOptions.followCheckpointsFrom = 0
        for (name, range, written) in [("short-followed", (extra + 1)..<n, 0), ("enough-followed", extra..<n, 1)] {
            let followed = try Ledger(path: directory + "/" + name, access: .readWrite)
            let summary = try followed.append([InputSource(bytes: timed.text(range))], options: quarterOptions)
            XCTAssertTrue(summary.checkpointsFollowed, name)
            XCTAssertTrue(summary.tailFollowed, name)
            XCTAssertEqual(summary.checkpointsWritten, written, name)
            try assertSameCheckpoints(followed, written == 0 ? short : enough, name)
        }

        // The same calls into a ledger that folds checkpoints after each call, one that folds
        // them beside the writer, and one without tails.
        let ledger = try Ledger(path: directory + "/after", access: .readWrite)
        let following = try Ledger(path: directory + "/following", access: .readWrite)
        let plain = try Ledger(path: directory + "/plain", access: .readWrite)
        var followOptions = options
        followOptions.followCheckpointsFrom = 0
        var plainOptions = options
        plainOptions.tailCheckpointFrom = nil
        var followed = 0, tailsFollowed = 0
        func call(_ input: [UInt8]) throws -> Int {
            let summary = try ledger.append([InputSource(bytes: input)], options: options)
            let folded = try following.append([InputSource(bytes: input)], options: followOptions)
            _ = try plain.append([InputSource(bytes: input)], options: plainOptions)
            XCTAssertEqual(folded.checkpointsWritten, summary.checkpointsWritten)
            if folded.checkpointsFollowed { followed += 1 }
            if folded.tailFollowed { tailsFollowed += 1 }
            try assertSameCheckpoints(ledger, following, "after \(try ledger.read { try $0.eventCount() }) events")
            return summary.checkpointsWritten
        }

        // 300 events (about five hours) and a last one older than the newest: the tail is an hour
        // before the newest, not before the last stored.
        XCTAssertEqual(try call(timed.text(0..<300) + line(at: ats[150], id: "late-1")), 1)
        let first = try checkpointInstantsAndCounts(ledger)
        XCTAssertEqual(first.map(\.at), [timed.hourBefore(299)])
        XCTAssertEqual(first.map(\.events), [timed.eventsThrough(timed.hourBefore(299), of: 300) + 1])
        XCTAssertTrue(try checkpointInstantsAndCounts(plain).isEmpty, "no spaced checkpoint yet")

        // 40 more events (about 40 minutes): fewer than 100 lie between it and the new tail's instant.
        XCTAssertEqual(try call(timed.text(300..<340)), 0)
        XCTAssertLessThan(timed.eventsThrough(timed.hourBefore(339), of: 340) + 1 - first[0].events, 100)

        // The rest: spaced checkpoints 400 events after the first tail's, then a tail again.
        _ = try call(timed.text(340..<1000))
        XCTAssertGreaterThan(followed, 0, "the last call folded its checkpoints beside the writer")
        XCTAssertGreaterThan(tailsFollowed, 0, "and took the tail itself, not the pass after the call")
        let all = try checkpointInstantsAndCounts(ledger)
        let tail = timed.hourBefore(999)
        XCTAssertEqual(all.first?.at, first[0].at)
        XCTAssertEqual(all.last?.at, tail)
        XCTAssertEqual(all.last?.events, timed.eventsThrough(tail, of: 1000) + 1)
        let spaced = all.dropFirst().dropLast()
        XCTAssertFalse(spaced.isEmpty)
        for (k, checkpoint) in spaced.enumerated() {
            XCTAssertEqual(checkpoint.events, first[0].events + UInt64(400 * (k + 1)), "spaced from the first call's tail")
        }
        XCTAssertTrue(try ledger.check().isIntact)

        // Past the last spaced checkpoint, answers resume from the tail's and equal a fold of the whole log.
        let policy = Policy.default
        try ledger.read { snapshot in
            for i in stride(from: 900, to: 1000, by: 7) {
                let t = ats[i]
                XCTAssertEqual(try snapshot.checkpoint(atOrBefore: t, policy: policy)?.at, t >= tail ? tail : spaced.last!.at)
                XCTAssertEqual(try withCheckpoints(snapshot, policy, at: t), try wholeLog(snapshot, policy, at: t), "at \(t)")
                XCTAssertEqual(try withCheckpoints(snapshot, policy, from: ats[i - 50], to: t), try wholeLog(snapshot, policy, from: ats[i - 50], to: t))
            }
        }

        // An event within the hour before the newest leaves the tail as it was; one at or before
        // its instant removes it, and the call writes it again with that event.
        XCTAssertEqual(try call(line(at: Instant(nanoseconds: tail.nanoseconds + hour / 2), id: "late-2")), 0)
        XCTAssertEqual(try checkpointInstantsAndCounts(ledger).last?.at, tail)
        XCTAssertEqual(try checkpointInstantsAndCounts(ledger).last?.events, timed.eventsThrough(tail, of: 1000) + 1)
        XCTAssertEqual(try call(line(at: tail, id: "late-3")), 1)
        XCTAssertEqual(try checkpointInstantsAndCounts(ledger).map(\.at), all.map(\.at))
        XCTAssertEqual(try checkpointInstantsAndCounts(ledger).last?.events, timed.eventsThrough(tail, of: 1000) + 2)
        XCTAssertTrue(try ledger.check().isIntact)
    }

    /// A large call that writes a spaced checkpoint ends with a tail even when less than a
    /// quarter of the spacing lies between them, from a sixty-fourth of it on (decision 0007,
    /// amended again): the end of the time line of a one-call import is then an hour from a
    /// checkpoint, not up to a quarter of a spacing. The same with the checkpoints folded beside
    /// the writer; queries between the two checkpoints and after the tail answer as a fold of
    /// the whole log does.
    func testACallThatWritesASpacedCheckpointEndsWithATailFromASixtyFourthOfTheSpacing() throws {
        let timed = TimedLines(count: 600)
        let between = timed.eventsAfterThe400th
        let (few, enough) = try timed.callsAroundASixtyFourthOf400()
        let directory = try temporaryDirectory(self)
        var options = AppendOptions()
        options.checkpointSpacing = .every(400)
        options.tailCheckpointFrom = 0
        var followOptions = options
        followOptions.followCheckpointsFrom = 0
        let policy = Policy.default
        for (name, n, tail) in [("few", few, false), ("enough", enough, true)] {
            let after = try Ledger(path: directory + "/after-" + name, access: .readWrite)
            let following = try Ledger(path: directory + "/following-" + name, access: .readWrite)
            XCTAssertEqual(try after.append([InputSource(bytes: timed.text(0..<n))], options: options).checkpointsWritten,
                           tail ? 2 : 1, name)
            let folded = try following.append([InputSource(bytes: timed.text(0..<n))], options: followOptions)
            XCTAssertTrue(folded.checkpointsFollowed, name)
            XCTAssertTrue(folded.tailFollowed, name)
            XCTAssertEqual(folded.checkpointsWritten, tail ? 2 : 1, name)
            let stored = try checkpointInstantsAndCounts(after)
            XCTAssertEqual(stored.map(\.events), tail ? [400, 400 + UInt64(between(n))] : [400], name)
            XCTAssertEqual(stored.map(\.at), tail ? [timed.ats[399], timed.hourBefore(n - 1)] : [timed.ats[399]], name)
            try assertSameCheckpoints(after, following, name)
            XCTAssertTrue(try after.check().isIntact, name)
            try after.read { snapshot in
                for i in 380..<n {
                    let t = timed.ats[i]
                    XCTAssertEqual(try withCheckpoints(snapshot, policy, at: t), try wholeLog(snapshot, policy, at: t), "\(name) at \(t)")
                }
            }
        }
    }

    /// `sledger checkpoint` ends as a large call does: with a tail an hour before the newest
    /// event when one is due. Spaced every 400 events, after the spaced checkpoint it wrote at
    /// the 400th event: a tail once a sixty-fourth of the spacing (6 events) lies between them
    /// by the tail's instant, none below that; asked again, none. Without `tail`, as before,
    /// only the spaced one. Queries after it answer as a fold of the whole log does.
    func testCheckpointsWrittenOnRequestEndWithATailWhenDue() throws {
        let timed = TimedLines(count: 600)
        let between = timed.eventsAfterThe400th
        let (few, enough) = try timed.callsAroundASixtyFourthOf400()
        let directory = try temporaryDirectory(self)
        var options = AppendOptions()
        options.checkpointSpacing = nil  // small calls: none written as they store
        let policy = Policy.default
        for (name, n, tail) in [("few", few, false), ("enough", enough, true)] {
            let withTail = try Ledger(path: directory + "/tail-" + name, access: .readWrite)
            let without = try Ledger(path: directory + "/none-" + name, access: .readWrite)
            for ledger in [withTail, without] {
                _ = try ledger.append([InputSource(bytes: timed.text(0..<300))], options: options)
                _ = try ledger.append([InputSource(bytes: timed.text(300..<n))], options: options)
                XCTAssertTrue(try checkpointInstantsAndCounts(ledger).isEmpty, name)
            }
            XCTAssertEqual(try withTail.writeCheckpoints(spacing: .every(400), tail: true), tail ? 2 : 1, name)
            XCTAssertEqual(try without.writeCheckpoints(spacing: .every(400)), 1, name)
            let stored = try checkpointInstantsAndCounts(withTail)
            XCTAssertEqual(stored.map(\.events), tail ? [400, 400 + UInt64(between(n))] : [400], name)
            XCTAssertEqual(stored.map(\.at), tail ? [timed.ats[399], timed.hourBefore(n - 1)] : [timed.ats[399]], name)
            XCTAssertEqual(try checkpointInstantsAndCounts(without).map(\.at), [timed.ats[399]], name)
            XCTAssertEqual(try withTail.writeCheckpoints(spacing: .every(400), tail: true), 0, name)
            XCTAssertTrue(try withTail.check().isIntact, name)
            try withTail.read { snapshot in
                for i in 380..<n {
                    let t = timed.ats[i]
                    XCTAssertEqual(try withCheckpoints(snapshot, policy, at: t), try wholeLog(snapshot, policy, at: t), "\(name) at \(t)")
                }
            }
        }
    }

    /// The follower takes the tail checkpoint before it folds the last hour's events, and drops
    /// it when a spaced checkpoint falls in that hour, as the pass after the call then writes
    /// none: 300 events a minute apart, then 500 a second apart, spaced every 400 events. The
    /// tail's instant has 248 events at or before it (a quarter of the spacing is 100), and the
    /// 400th event, where the spaced checkpoint goes, is among the last hour's 552.
    func testTheFollowersTailIsDroppedWhenASpacedCheckpointFallsInTheLastHour() throws {
        let start = Instant(rfc3339: "2026-03-01T00:00:00Z")!
        var ats: [Instant] = (0..<300).map { Instant(nanoseconds: start.nanoseconds + Int64($0) * 60_000_000_000) }
        ats += (1...500).map { Instant(nanoseconds: ats[299].nanoseconds + Int64($0) * 1_000_000_000) }
        var input: [UInt8] = []
        for (k, t) in ats.enumerated() {
            input += Array(#"{"type":"refresh","at":"\#(t)","user":"u1","session":"nobody","id":"d\#(k)"}"#.utf8) + [0x0A]
        }
        let tail = Instant(nanoseconds: ats.last!.nanoseconds - 3_600_000_000_000)
        XCTAssertEqual(ats.filter { $0 <= tail }.count, 248)
        XCTAssertGreaterThan(ats[399], tail)
        let directory = try temporaryDirectory(self)
        var options = AppendOptions()
        options.checkpointSpacing = .every(400)
        options.tailCheckpointFrom = 0
        let after = try Ledger(path: directory + "/after", access: .readWrite)
        XCTAssertEqual(try after.append([InputSource(bytes: input)], options: options).checkpointsWritten, 1)
        options.followCheckpointsFrom = 0
        let following = try Ledger(path: directory + "/following", access: .readWrite)
        let folded = try following.append([InputSource(bytes: input)], options: options)
        XCTAssertTrue(folded.checkpointsFollowed)
        XCTAssertTrue(folded.tailFollowed)
        XCTAssertEqual(folded.checkpointsWritten, 1)
        try assertSameCheckpoints(after, following, "a spaced checkpoint in the last hour")
        XCTAssertEqual(try storedCheckpoints(following).map(\.key), [Checkpoint.key(ats[399])], "no tail")
        XCTAssertTrue(try following.check().isIntact)
    }

    /// When the ledger's newest event before a call lies after the call's tail instant (the
    /// call adds less than an hour), the follower's fold starts past that instant: it leaves the
    /// tail to the pass after the call, which writes it as without a follower. 200 events a
    /// minute apart (a call without a tail), then 100 a second apart: the tail, an hour before
    /// the newest, has 141 events at or before it (a quarter of the spacing is 100).
    func testATailBeforeTheLedgersEndIsLeftToThePassAfterTheCall() throws {
        let start = Instant(rfc3339: "2026-03-01T00:00:00Z")!
        var ats: [Instant] = (0..<200).map { Instant(nanoseconds: start.nanoseconds + Int64($0) * 60_000_000_000) }
        ats += (1...100).map { Instant(nanoseconds: ats[199].nanoseconds + Int64($0) * 1_000_000_000) }
        func lines(_ range: Range<Int>) -> [UInt8] {
            var out: [UInt8] = []
            for k in range { out += Array(#"{"type":"refresh","at":"\#(ats[k])","user":"u1","session":"nobody","id":"b\#(k)"}"#.utf8) + [0x0A] }
            return out
        }
        let tail = Instant(nanoseconds: ats.last!.nanoseconds - 3_600_000_000_000)
        XCTAssertEqual(ats.filter { $0 <= tail }.count, 141)
        let directory = try temporaryDirectory(self)
        var options = AppendOptions()
        options.checkpointSpacing = .every(400)
        var followOptions = options
        followOptions.followCheckpointsFrom = 0
        let after = try Ledger(path: directory + "/after", access: .readWrite)
        let following = try Ledger(path: directory + "/following", access: .readWrite)
        for (ledger, callOptions) in [(after, options), (following, followOptions)] {
            var first = callOptions
            first.tailCheckpointFrom = nil
            XCTAssertEqual(try ledger.append([InputSource(bytes: lines(0..<200))], options: first).checkpointsWritten, 0)
            var second = callOptions
            second.tailCheckpointFrom = 0
            let summary = try ledger.append([InputSource(bytes: lines(200..<300))], options: second)
            XCTAssertEqual(summary.checkpointsWritten, 1)
            XCTAssertFalse(summary.tailFollowed)
            XCTAssertEqual(summary.checkpointsFollowed, ledger === following)
        }
        try assertSameCheckpoints(after, following, "a tail before the ledger's end")
        XCTAssertEqual(try storedCheckpoints(following).map(\.key), [Checkpoint.key(tail)])
        XCTAssertTrue(try following.check().isIntact)
    }

    /// A call that stores nothing (every line a duplicate) leaves checkpoints to the pass
    /// after a call, as without the follower: none is written.
    func testACallThatStoresNothingWritesNoCheckpoint() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        var options = AppendOptions()
        options.checkpointSpacing = nil
        let input = generatedLines(count: 300)
        _ = try ledger.append([InputSource(bytes: input)], options: options)
        options.checkpointSpacing = .every(40)
        options.followCheckpointsFrom = 0
        let again = try ledger.append([InputSource(bytes: input)], options: options)
        XCTAssertEqual(again.duplicates, 300)
        XCTAssertEqual(again.checkpointsWritten, 0)
        XCTAssertEqual(try ledger.read { try $0.checkpointCount() }, 0)
    }

}
