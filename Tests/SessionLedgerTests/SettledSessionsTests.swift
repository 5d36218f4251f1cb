import XCTest
@testable import SessionLedger

/// Issue 4: `sessions --from T1 --to T2` hands each session over as it settles
/// (`LedgerSnapshot.settledStates`) instead of holding every session of the range, and
/// prints them in a fold's order; `who` over a range no stretch answers counts them the same
/// way (`whoBySettling`). Every answer is compared, field by field and in order, with
/// a fold of the whole log that keeps every session (`wholeLog`), on generated logs that name
/// ended sessions again (so retired ones are revived), reuse ids, log out of all, and carry
/// lines out of time order (so `seq` order is not login order).
final class SettledSessionsTests: XCTestCase {
    func testSettledStatesEqualAWholeLogFoldInOrder() throws {
        var compared = 0, printed = 0, spilled = 0
        for seed in UInt64(1)...8 {
            // Half the seeds with checkpoints (the fold resumes from one), half without.
            let (ledger, policy, events) = seed % 2 == 0
                ? try seededLedgerWithCheckpoints(self, seed: seed, spacing: .every(9 + Int(seed)))
                : try { let s = try SeededLedger(self, seed: seed, count: 400); return (s.ledger, s.policy, s.events) }()
            let probes = probeInstants(events)
            try ledger.read { snapshot in
                for (i, from) in probes.enumerated() where i % 61 == 0 {
                    for length in [1, 17, probes.count] {
                        let to = probes[min(i + length, probes.count - 1)]
                        let whole = try wholeLog(snapshot, policy, from: from, to: to)
                        for client in [nil, "web"] as [String?] {
                            let expected = whole.filter { client == nil || $0.client == client }
                            for (every, spillBytes) in [(1, 1), (3, 64), (50, 1 << 20), (1 << 16, 4096)] {
                                let answer = try snapshot.settledStates(policy: policy, from: from, to: to, client: client,
                                                                        into: SettledSessions(policy: policy, spillBytes: spillBytes),
                                                                        retireEvery: every)
                                if answer.spilled { spilled += 1 }
                                let got = answer.inLoginOrder
                                XCTAssertEqual(got, expected, "seed \(seed), [\(from), \(to)), client \(client ?? "any"), every \(every)")
                                // `who` by the same fold counts the same sessions.
                                XCTAssertEqual(try snapshot.whoBySettling(policy: policy, from: from, to: to, client: client, retireEvery: every),
                                               SessionQuery.who(expected), "seed \(seed), [\(from), \(to)), every \(every)")
                                compared += 1
                                printed += got.count
                            }
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(compared, 1_500)
        XCTAssertGreaterThan(printed, 20_000)
        XCTAssertGreaterThan(spilled, compared / 4, "answers read back from the temporary file")
    }

    /// At an instant with no checkpoint to start from (`sessions`/`who --at T` on a ledger
    /// without checkpoints, or under `--policy F`), `keptStates` folds the same way: the
    /// sessions active at T, in a fold's order, as a fold of the whole log that keeps every
    /// session gives them.
    func testKeptStatesAtAnInstantWithoutACheckpointEqualAWholeLogFold() throws {
        var compared = 0, active = 0
        for seed in UInt64(1)...6 {
            let seeded = try SeededLedger(self, seed: seed, count: 400)
            let instants = Set(seeded.events.map(\.at)).sorted()
            try seeded.ledger.read { snapshot in
                XCTAssertEqual(try snapshot.checkpointCount(), 0)
                for (i, t) in instants.enumerated() where i % 7 == 0 {
                    let expected = try wholeLog(snapshot, seeded.policy, at: t)
                    for every in [1, 3, 1 << 16] {
                        let kept = try snapshot.keptStates(policy: seeded.policy, horizon: .through(t), readsFrom: t,
                                                           retireEvery: every, keep: { $0.isActive(at: t) })
                        XCTAssertEqual(kept, expected, "seed \(seed), at \(t), every \(every)")
                        compared += 1
                        active += kept.count
                    }
                }
            }
        }
        XCTAssertGreaterThan(compared, 300)
        XCTAssertGreaterThan(active, 1_000)
    }

    /// `diff-policy` reads every session as of T, ended ones too: no checkpoint (which holds
    /// only active sessions) may start that fold. The same states, in the same order, as a fold
    /// of the whole log through T, on ledgers with checkpoints before T.
    func testEverySessionThroughAnInstantIgnoresCheckpoints() throws {
        var compared = 0
        for seed in UInt64(2)...5 {
            let (ledger, policy, events) = try seededLedgerWithCheckpoints(self, seed: seed, spacing: .every(9 + Int(seed)))
            let instants = Set(events.map(\.at)).sorted()
            try ledger.read { snapshot in
                XCTAssertGreaterThan(try snapshot.checkpointCount(), 3)
                // Under the log's policy and the default one (diff-policy's two sides), sweeping often.
                for t in [instants[instants.count / 2], instants.last!] {
                    for (policy, every) in [(policy, 1), (policy, 1 << 20), (Policy.default, 1), (Policy.default, 3)] {
                        let answer = try snapshot.settledStates(policy: policy, through: t, retireEvery: every)
                        let got = answer.inLoginOrder
                        XCTAssertEqual(got, try LedgerFold(policy: policy, horizon: .through(t)).run(snapshot).derivation.sessions,
                                       "seed \(seed), \(t), every \(every)")
                        XCTAssertEqual((0..<answer.count).map { answer[$0] }, got)
                        compared += got.count
                    }
                }
            }
        }
        XCTAssertGreaterThan(compared, 1_200)
    }

    /// Resumed from checkpoints as version 1 wrote them (FORMAT.md: no session numbers), whose
    /// sessions the fold finds by id and retires only once an event gives them a number (else
    /// they are handed over at the end): the same answers.
    func testSettledStatesFromVersion1CheckpointsEqualAWholeLogFold() throws {
        var compared = 0, printed = 0
        for seed in UInt64(2)...5 {
            let (ledger, policy, events) = try seededLedgerWithCheckpoints(self, seed: seed, spacing: .every(9 + Int(seed)))
            var stored: [(at: Instant, checkpoint: Checkpoint)] = []
            try ledger.read { try $0.forEachStoredCheckpoint(policy: policy) { stored.append(($0, try XCTUnwrap($1))) } }
            XCTAssertGreaterThan(stored.count, 3)
            try ledger.env.write { txn in
                for (at, checkpoint) in stored {
                    try txn.put(ledger.db.checkpoints, Checkpoint.key(at), olderCheckpointBytes(checkpoint, version: 1))
                }
            }
            let instants = Set(events.map(\.at)).sorted()
            try ledger.read { snapshot in
                // Read back as version 1: no session numbers.
                var withSessions = 0
                for (at, _) in stored {
                    let resumed = try XCTUnwrap(snapshot.checkpointToResume(atOrBefore: at, policy: policy))
                    XCTAssertTrue(resumed.numbers.allSatisfy { $0.session == 0 && $0.user == 0 }, "seed \(seed), \(at)")
                    if !resumed.sessions.isEmpty { withSessions += 1 }
                }
                XCTAssertGreaterThan(withSessions, 1, "seed \(seed)")
                for (i, from) in instants.enumerated() where i % 17 == 0 {
                    for to in [instants[min(i + 20, instants.count - 1)], instants.last!.saturatingAdding(.seconds(86_400))] {
                        let expected = try wholeLog(snapshot, policy, from: from, to: to)
                        for every in [1, 3] {
                            let answer = try snapshot.settledStates(policy: policy, from: from, to: to, client: nil,
                                                                    into: SettledSessions(policy: policy, spillBytes: 64), retireEvery: every)
                            let got = answer.inLoginOrder
                            XCTAssertEqual(got, expected, "seed \(seed), [\(from), \(to)), every \(every)")
                            compared += 1
                            printed += got.count
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(compared, 40)
        XCTAssertGreaterThan(printed, 400)
    }

    /// A fold that retires as it goes hands over every session exactly once: the ones it
    /// retires (each the first time only, though the logs revive retired sessions) and then
    /// the ones never retired, between them each session of a fold that retires none.
    func testEverySessionIsHandedOverExactlyOnce() throws {
        var handedDuringTheFold = 0
        for seed in UInt64(1)...8 {
            let seeded = try SeededLedger(self, seed: seed, count: 400)
            try seeded.ledger.read { snapshot in
                let whole = try LedgerFold(policy: seeded.policy).run(snapshot).derivation
                for every in [1, 2, 7, 50] {
                    var fold = LedgerFold(policy: seeded.policy)
                    fold.retireEvery = every
                    var handed: [SessionState] = []
                    let left = try fold.run(snapshot, settled: { handed.append(copy $0) }).derivation
                    handedDuringTheFold += handed.count
                    left.forEachSessionNeverRetired { handed.append(copy $0) }
                    XCTAssertEqual(handed.count, whole.sessionCount, "seed \(seed), every \(every)")
                    XCTAssertEqual(Set(handed.map(\.session)).count, handed.count, "no session twice: seed \(seed), every \(every)")
                    for state in handed { XCTAssertEqual(state, whole.session(state.session), "seed \(seed), every \(every)") }
                }
            }
        }
        XCTAssertGreaterThan(handedDuringTheFold, 1_000, "sessions settled before the end of the fold")
    }

    /// Every field survives the bytes, in memory and through the temporary file: no expiry (a
    /// token with a null lifetime), each end reason, an end without expiry, text beyond ASCII
    /// and an empty method; and the states come back in (login_at, login seq) order whatever
    /// order they went in.
    func testStatesComeBackWholeInLoginOrder() throws {
        func t(_ text: String) -> Instant { Instant(rfc3339: text)! }
        let policy = Policy.default
        func state(_ id: String, _ user: String, _ client: String, _ method: String, _ login: String, _ seq: UInt64) -> SessionState {
            SessionState(session: id, user: user, client: client, method: method, loginAt: t(login), loginSeq: seq,
                         rules: policy.client(client))
        }
        var a = state("s-a", "alice", "web", "google", "2026-03-01T09:00:00Z", 40)
        a.lastExtendedAt = t("2026-03-02T10:00:00Z")
        a.expiresAt = t("2026-03-30T10:00:00Z")
        a.refreshCount = 1_234_567
        var b = state("séance-β", "bøb", "ios", "", "2026-03-01T09:00:00Z", 7)
        (b.endedAt, b.endReason) = (t("2026-03-01T09:30:00.000000001Z"), .logoutAll)
        var c = state("tok", "carol", "vscode", "password", "2026-02-27T23:59:59.999Z", 99)
        c.expiresAt = nil
        (c.endedAt, c.endReason) = (t("2026-03-05T00:00:00Z"), .tokenDeleted)
        var d = state("s-d", "dave", "web", "email", "2026-03-01T09:00:00.5Z", 3)
        (d.endedAt, d.endReason) = (t("2026-03-01T12:00:00Z"), .logout)
        var e = state("s-e", "erin", "android", "google", "2026-03-01T08:00:00Z", 100)
        e.expiresAt = nil
        let inLoginOrder = [c, e, b, a, d]
        for spillBytes in [0, 1, 100, 1 << 20] {
            let answer = SettledSessions(policy: policy, spillBytes: spillBytes)
            for s in [a, b, c, d, e] { try answer.append(s) }
            XCTAssertEqual(answer.count, 5)
            try answer.finish()
            XCTAssertEqual(answer.spilled, spillBytes <= 100, "spill at \(spillBytes)")
            let got = answer.inLoginOrder
            XCTAssertEqual(got, inLoginOrder, "spill at \(spillBytes)")
        }
    }
}

extension SettledSessions {
    /// Every state, in a fold's order (after `finish()`).
    var inLoginOrder: [SessionState] {
        var out: [SessionState] = []
        forEachInLoginOrder { out.append($0) }
        return out
    }
}
