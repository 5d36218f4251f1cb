import XCTest
@testable import SessionLedger

/// A checkpoint's stretch (version 3): `who` counted from it equals `who` from a fold of the
/// whole log, for instants and ranges, with and without a client; it goes with its checkpoint
/// when a late event removes that; a damaged one is not used and `check` compares it with a refold.
final class CheckpointStretchTests: XCTestCase {
    /// `who` from a fold of the whole log, ignoring checkpoints: the independent answer.
    private func foldedWho(_ snapshot: LedgerSnapshot, _ policy: Policy, at t: Instant, client: String? = nil) throws -> [SessionQuery.UserCount] {
        try who(activeAt(snapshot, policy, t), client)
    }

    private func activeAt(_ snapshot: LedgerSnapshot, _ policy: Policy, _ t: Instant) throws -> [SessionState] {
        try LedgerFold(policy: policy, horizon: .through(t)).run(snapshot).derivation.sessions.filter { $0.isActive(at: t) }
    }

    private func who(_ active: [SessionState], _ client: String?) -> [SessionQuery.UserCount] {
        SessionQuery.who(active.filter { client == nil || $0.client == client })
    }

    private func foldedWho(_ snapshot: LedgerSnapshot, _ policy: Policy, from: Instant, to: Instant, client: String? = nil) throws -> [SessionQuery.UserCount] {
        let states = try LedgerFold(policy: policy, horizon: .before(to)).run(snapshot).derivation.sessions
        return SessionQuery.who(states.filter { $0.wasActive(from: from, to: to) && (client == nil || $0.client == client) })
    }


    func testWhoFromStretchesEqualsWhoFromAFoldOfTheWholeLog() throws {
        var answered = 0, ranges = 0, nonEmpty = 0
        for seed in UInt64(1)...8 {
            // Stretches written from where a fold resumed as well as from the start.
            let (ledger, policy, events) = try seededLedgerWithCheckpoints(self, seed: seed, spacing: .every(9 + Int(seed)))
            XCTAssertTrue(try ledger.check().isIntact, "seed \(seed)")
            let instants = Set(events.map(\.at)).sorted()
            let probes = [Instant(nanoseconds: instants[0].nanoseconds - 1)] + instants
                + instants.map { Instant(nanoseconds: $0.nanoseconds + 1) } + instants.map { Instant(nanoseconds: $0.nanoseconds - 1) }
            try ledger.read { snapshot in
                for (i, t) in probes.enumerated() where i % 4 == 0 {
                    var active: [SessionState]?  // folded once for the five clients
                    for client in [nil, "web", "code", "smart-tv", "none-such"] {
                        guard let counted = try snapshot.whoFromStretch(policy: policy, at: t, client: client) else { continue }
                        answered += 1
                        if !counted.isEmpty { nonEmpty += 1 }
                        if active == nil { active = try activeAt(snapshot, policy, t) }
                        XCTAssertEqual(counted, who(active!, client), "seed \(seed), at \(t), client \(client ?? "-")")
                    }
                    let to = probes[min(i + 1 + i % 7, probes.count - 1)]
                    let rangeClient = i % 8 == 0 ? "web" : nil
                    if let counted = try snapshot.whoFromStretch(policy: policy, from: t, to: to, client: rangeClient) {
                        ranges += 1
                        XCTAssertEqual(counted, try foldedWho(snapshot, policy, from: t, to: to, client: rangeClient),
                                       "seed \(seed), from \(t) to \(to)")
                    }
                }
                // Past the last checkpoint there is no stretch: the caller folds.
                XCTAssertNil(try snapshot.whoFromStretch(policy: policy, at: instants.last!.saturatingAdding(.seconds(1)), client: nil))
                // Another policy's checkpoints are not used.
                XCTAssertNil(try snapshot.whoFromStretch(policy: .default, at: instants[instants.count / 2], client: nil))
            }
        }
        XCTAssertGreaterThan(answered, 1_000, "most instants lie in a stretch")
        XCTAssertGreaterThan(nonEmpty, 300)
        XCTAssertGreaterThan(ranges, 150)
    }

    /// A range across checkpoints is counted from the stretches it crosses, each later one
    /// counting only the sessions logged in after it begins: the answer equals a fold's for
    /// ranges across one to all of the checkpoints, with and without a client. The
    /// checkpoints of `seededLedgerWithCheckpoints` were written by three calls, some of them
    /// again after late events, so the chain runs through stretches folded from the start and
    /// from a checkpoint.
    func testWhoOverARangeAcrossCheckpointsEqualsAFold() throws {
        var answered = 0, acrossOne = 0, acrossFive = 0, nonEmpty = 0
        for seed in UInt64(1)...8 {
            let (ledger, policy, events) = try seededLedgerWithCheckpoints(self, seed: seed, spacing: .every(9 + Int(seed)))
            let instants = Set(events.map(\.at)).sorted()
            try ledger.read { snapshot in
                let checkpoints = try snapshot.checkpointInstants()
                XCTAssertGreaterThan(checkpoints.count, 10, "seed \(seed)")
                for (i, from) in instants.enumerated() where i % 5 == 0 {
                    for step in [2, 15, 60, 1_000] {
                        // `to` is an event's instant or the nanosecond after it; the range's last
                        // instant must lie at or before the last checkpoint, which holds it.
                        let to = Instant(nanoseconds: instants[min(i + step, instants.count - 1)].nanoseconds + Int64(step % 2))
                        guard to.nanoseconds - 1 <= checkpoints.last!.nanoseconds, from < to else { continue }
                        let crossed = checkpoints.filter { from <= $0 && $0.nanoseconds < to.nanoseconds - 1 }.count
                        let client = step == 15 ? "web" : nil
                        let counted = try XCTUnwrap(try snapshot.whoFromStretch(policy: policy, from: from, to: to, client: client),
                                                    "seed \(seed), from \(from) to \(to): every stretch is usable")
                        XCTAssertEqual(counted, try foldedWho(snapshot, policy, from: from, to: to, client: client),
                                       "seed \(seed), from \(from) to \(to), \(crossed) checkpoints inside")
                        answered += 1
                        if crossed >= 1 { acrossOne += 1 }
                        if crossed >= 5 { acrossFive += 1 }
                        if !counted.isEmpty { nonEmpty += 1 }
                    }
                }
            }
        }
        XCTAssertGreaterThan(acrossOne, 300)
        XCTAssertGreaterThan(acrossFive, 150)
        XCTAssertGreaterThan(nonEmpty, answered * 3 / 4)
    }

    /// A range whose chain of stretches has a damaged or a missing link is not counted from
    /// stretches (the caller folds); the stretches after the break still answer what they hold.
    func testARangeAcrossABrokenChainIsNotCountedFromStretches() throws {
        let (ledger, stored) = try ledgerWithCheckpoints(self)
        XCTAssertGreaterThan(stored.count, 5)
        let from = Instant(nanoseconds: stored[0].at.nanoseconds - 1)
        let to = stored[4].at  // last instant just before the fifth checkpoint: five stretches
        let truth = try ledger.read { try foldedWho($0, .default, from: from, to: to) }
        XCTAssertEqual(try ledger.read { try $0.whoFromStretch(policy: .default, from: from, to: to, client: nil) }, truth)
        // Before the damage, a range from after the first checkpoint to past the last event is
        // counted across checkpoints, by the CLI's path and by the server's tail.
        let end = try ledger.read { try XCTUnwrap(try $0.latestInstant()) }.saturatingAdding(.seconds(60))
        let start = Instant(nanoseconds: stored[0].at.nanoseconds + 1)
        try ledger.read { snapshot in
            let whole = try foldedWho(snapshot, .default, from: start, to: end)
            XCTAssertEqual(try snapshot.whoAcrossCheckpoints(policy: .default, from: start, to: end, client: nil), whole)
            XCTAssertEqual(try LiveTail(policy: .default).who(snapshot, from: start, to: end, client: nil), whole)
        }
        let victim = stored[2]
        var flipped = victim.checkpoint!.encoded()
        flipped[64 + 12 + 40] ^= 0x04  // inside the stretch: its checksum fails
        try ledger.env.write { try $0.put(ledger.db.checkpoints, Checkpoint.key(victim.at), flipped) }
        try ledger.read { snapshot in
            XCTAssertNil(try snapshot.whoFromStretch(policy: .default, from: from, to: to, client: nil), "a damaged link")
            let after = Instant(nanoseconds: victim.at.nanoseconds + 1)
            XCTAssertEqual(try snapshot.whoFromStretch(policy: .default, from: after, to: to, client: nil),
                           try foldedWho(snapshot, .default, from: after, to: to), "the chain after it")
        }
        // The same range, across the damaged one: neither the path across checkpoints nor the
        // server's tail counts it; `whoFromCheckpoint` folds from the first checkpoint, and
        // agrees with a fold.
        try ledger.read { snapshot in
            XCTAssertNil(try snapshot.whoAcrossCheckpoints(policy: .default, from: start, to: end, client: nil))
            XCTAssertNil(try LiveTail(policy: .default).who(snapshot, from: start, to: end, client: nil))
            XCTAssertEqual(try snapshot.whoFromCheckpoint(policy: .default, from: start, to: end, client: nil),
                           try foldedWho(snapshot, .default, from: start, to: end))
        }
        _ = try ledger.env.write { try $0.delete(ledger.db.checkpoints, Checkpoint.key(victim.at)) }
        try ledger.read { snapshot in
            XCTAssertNil(try snapshot.whoFromStretch(policy: .default, from: from, to: to, client: nil), "a missing link")
            XCTAssertNil(try snapshot.whoAcrossCheckpoints(policy: .default, from: start, to: end, client: nil), "a missing link")
        }
    }

    /// The chain through what small calls write: rolling tails (some replaced by the next, some
    /// kept) and the tails of the calls that write one, under the default policy; a kept rolling
    /// tail is a link that a later checkpoint's stretch begins at.
    func testARangeAcrossRollingTailsAndTailsEqualsAFold() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        let timed = TimedLines(count: 2_400)
        var calls = 0
        for start in stride(from: 0, to: 2_400, by: 30) {
            var options = AppendOptions()
            options.checkpointSpacing = .every(200)
            if calls % 5 == 4 { options.tailCheckpointFrom = 0 }  // a tail, not a rolling one
            _ = try ledger.append([InputSource(bytes: timed.text(start..<min(start + 30, 2_400)))], options: options)
            calls += 1
        }
        var rolling: [Instant] = [], begins: [Instant] = [], all = 0
        try ledger.read { try $0.forEachStoredCheckpoint(policy: .default) { at, checkpoint in
            all += 1
            if checkpoint?.rolling == true { rolling.append(at) }
            if let from = checkpoint?.stretch?.from { begins.append(from) }
        } }
        XCTAssertTrue(rolling.contains { begins.contains($0) }, "a kept rolling tail that a later checkpoint's stretch begins at")
        XCTAssertGreaterThan(all - rolling.count, 5)
        var answered = 0
        try ledger.read { snapshot in
            let checkpoints = try snapshot.checkpointInstants()
            for i in stride(from: 0, to: timed.ats.count, by: 37) {
                for j in [i + 5, i + 200, i + 900, timed.ats.count - 1] where j < timed.ats.count {
                    let (from, to) = (timed.ats[i], Instant(nanoseconds: timed.ats[j].nanoseconds + 1))
                    let counted: [SessionQuery.UserCount]?
                    if to.nanoseconds - 1 <= checkpoints.last!.nanoseconds {
                        counted = try snapshot.whoFromStretch(policy: .default, from: from, to: to, client: nil)
                    } else if from <= checkpoints.last! {
                        counted = try snapshot.whoAcrossCheckpoints(policy: .default, from: from, to: to, client: nil)
                    } else {
                        continue  // after the last checkpoint: neither path's
                    }
                    XCTAssertEqual(try XCTUnwrap(counted, "from \(from) to \(to)"), try foldedWho(snapshot, .default, from: from, to: to),
                                   "from \(from) to \(to)")
                    answered += 1
                }
            }
        }
        XCTAssertGreaterThan(answered, 150)
    }

    /// The same on the many-user log of `generatedLines`, under the default policy: each
    /// stretch lists its users once, in the order of their bytes.
    func testWhoFromStretchesOnManyUsers() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        var options = AppendOptions()
        options.checkpointSpacing = nil
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 4_000, users: 300))], options: options)
        XCTAssertGreaterThan(try ledger.writeCheckpoints(spacing: .every(300)), 10)
        try ledger.read { snapshot in
            var instants: [Instant] = []
            try snapshot.forEachEvent { instants.append($0.event.at); return true }
            var answered = 0
            for t in stride(from: 0, to: instants.count, by: 97).map({ instants[$0] }) {
                guard let counted = try snapshot.whoFromStretch(policy: .default, at: t, client: nil) else { continue }
                answered += 1
                XCTAssertEqual(counted, try foldedWho(snapshot, .default, at: t), "at \(t)")
            }
            XCTAssertGreaterThan(answered, 30)
            var listed = 0
            try snapshot.forEachStoredCheckpoint(policy: .default) { _, checkpoint in
                let stretch = try XCTUnwrap(checkpoint?.stretch)
                XCTAssertEqual(stretch.users, stretch.users.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
                XCTAssertEqual(Set(stretch.users).count, stretch.users.count)
                XCTAssertEqual(Set(stretch.entries.map(\.user)).count, stretch.users.count, "every user listed has an entry")
                listed += stretch.users.count
            }
            XCTAssertGreaterThan(listed, 1_000)
        }
    }

    func testALateEventTakesTheStretchWithItsCheckpoint() throws {
        let (ledger, at) = try fortyLoginsAfterAlice(self)  // checkpoints at minutes 9, 19, 29 and 39
        var options = AppendOptions()
        options.checkpointSpacing = nil
        let alice = SessionQuery.UserCount(user: "alice", sessions: 1)
        try ledger.read { snapshot in
            let who = try XCTUnwrap(try snapshot.whoFromStretch(policy: .default, at: at(30), client: nil))
            XCTAssertEqual(who.count, 31)
            XCTAssertTrue(who.contains(alice))
        }
        // alice logged out at minute 25, logged an hour late: the checkpoints at 29 and 39 go,
        // and their stretches with them.
        _ = try ledger.append([InputSource(bytes: canonicalLines([Event(kind: .logout, at: at(25), user: "alice", session: "a1")]))], options: options)
        try ledger.read { snapshot in
            XCTAssertNil(try snapshot.whoFromStretch(policy: .default, at: at(30), client: nil))
            XCTAssertNil(try snapshot.whoFromStretch(policy: .default, at: at(25), client: nil))
            XCTAssertEqual(try snapshot.whoFromStretch(policy: .default, at: at(15), client: nil)?.contains(alice), true, "before the logout")
        }
        XCTAssertEqual(try ledger.writeCheckpoints(spacing: .every(10)), 2)
        try ledger.read { snapshot in
            XCTAssertEqual(try snapshot.checkpointInstants().count, 4)
            for m in [20, 24, 25, 30, 36] {
                let who = try XCTUnwrap(try snapshot.whoFromStretch(policy: .default, at: at(m), client: nil), "minute \(m)")
                XCTAssertEqual(who.contains(alice), m < 25, "minute \(m)")
                XCTAssertEqual(who, try foldedWho(snapshot, .default, at: at(m)))
            }
        }
    }

    func testADamagedStretchIsNotUsedAndAWrongOneFailsCheck() throws {
        let (ledger, stored) = try ledgerWithCheckpoints(self)
        let (victim, good) = (stored[3].at, stored[3].checkpoint!)
        let stretch = try XCTUnwrap(good.stretch)
        XCTAssertEqual(stretch.from, stored[2].at, "a stretch begins at the checkpoint before")
        XCTAssertEqual(stored[0].checkpoint?.stretch?.from, .earliest, "the first one's at the log's start")
        let t = Instant(nanoseconds: victim.nanoseconds - 1)
        let truth = try ledger.read { try foldedWho($0, .default, at: t) }
        XCTAssertEqual(try ledger.read { try $0.whoFromStretch(policy: .default, at: t, client: nil) }, truth)

        // A flipped byte inside the stretch: its own checksum fails, so `who` folds instead.
        var flipped = good.encoded()
        flipped[64 + 12 + 40] ^= 0x04
        try ledger.env.write { try $0.put(ledger.db.checkpoints, Checkpoint.key(victim), flipped) }
        try ledger.read { snapshot in
            XCTAssertNil(try snapshot.whoFromStretch(policy: .default, at: t, client: nil))
        }
        // `check` names that one and only that one: the next checkpoint's stretch, which begins at
        // it, is refolded from where it says it begins, past the fold that skipped the damaged one.
        let problems = try ledger.check().problems
        XCTAssertEqual(problems.count, 1, "\(problems)")
        XCTAssertTrue(problems.first?.what.contains("checkpoint at \(victim) is damaged") ?? false, "\(problems)")

        // A flipped byte past the stretch (in the sessions or the bitset): the stretch is intact (its checksum
        // covers the header and itself), so `who` still counts it; folds skip the checkpoint,
        // and `check` names it.
        var tail = good.encoded()
        tail[tail.count - 100] ^= 0x04
        try ledger.env.write { try $0.put(ledger.db.checkpoints, Checkpoint.key(victim), tail) }
        try ledger.read { snapshot in
            XCTAssertEqual(try snapshot.whoFromStretch(policy: .default, at: t, client: nil), truth)
            XCTAssertEqual(try snapshot.checkpoint(atOrBefore: victim, policy: .default)?.at, stored[2].at)
        }
        XCTAssertTrue(try ledger.check().problems.contains { $0.what.contains("checkpoint at \(victim) is damaged") })

        // A well-formed but wrong stretch (one session dropped, checksums recomputed): `who`
        // trusts it, as queries trust any intact checkpoint, and `check`'s refold finds it.
        var wrong = good
        wrong.stretch!.entries.removeFirst()
        try ledger.env.write { try $0.put(ledger.db.checkpoints, Checkpoint.key(victim), wrong.encoded()) }
        let report = try ledger.check()
        XCTAssertTrue(report.problems.contains { $0.what.contains("differs from a refold") && $0.what.contains("stretch") }, "\(report.problems)")
        // So does one that says it begins earlier than it does.
        wrong = good
        wrong.stretch!.from = stored[1].at
        try ledger.env.write { try $0.put(ledger.db.checkpoints, Checkpoint.key(victim), wrong.encoded()) }
        XCTAssertTrue(try ledger.check().problems.contains { $0.what.contains("stretch") })
        try ledger.env.write { try $0.put(ledger.db.checkpoints, Checkpoint.key(victim), good.encoded()) }
        XCTAssertTrue(try ledger.check().isIntact)
    }

    /// A version 2 checkpoint (docs/FORMAT.md: no stretch) is read, `who` folds for the instants
    /// before it, `check` is content, and `sledger checkpoint` writes it again as version 3.
    func testAVersionTwoCheckpointIsReadWithoutAStretchThenRewritten() throws {
        let (ledger, stored) = try ledgerWithCheckpoints(self)
        let (victim, original) = (stored[2].at, stored[2].checkpoint!)
        let old = olderCheckpointBytes(original, version: 2)
        let decoded = try XCTUnwrap(old.withUnsafeBytes { Checkpoint.decode($0, policy: .default) })
        XCTAssertNil(decoded.stretch)
        XCTAssertTrue(decoded.isOutdated)
        var expected = original
        expected.stretch = nil
        XCTAssertEqual(decoded, expected)
        try ledger.env.write { try $0.put(ledger.db.checkpoints, Checkpoint.key(victim), old) }
        XCTAssertTrue(try ledger.check().isIntact)
        let t = Instant(nanoseconds: victim.nanoseconds - 1)
        try ledger.read { snapshot in
            XCTAssertNil(try snapshot.whoFromStretch(policy: .default, at: t, client: nil))
            let after = victim.saturatingAdding(Duration(nanoseconds: 1))
            XCTAssertEqual(try snapshot.whoFromStretch(policy: .default, at: after, client: nil), try foldedWho(snapshot, .default, at: after),
                           "the next one's stretch begins at it")
        }
        _ = try ledger.writeCheckpoints(spacing: .every(400))
        var rewritten: [Checkpoint?] = []
        try ledger.read { try $0.forEachStoredCheckpoint(policy: .default) { rewritten.append($1) } }
        XCTAssertEqual(rewritten, stored.map(\.checkpoint))
        XCTAssertTrue(try ledger.check().isIntact)
    }
}
