import XCTest
@testable import SessionLedger

/// Issue 4: a fold applies the log's commonest event, an on-time refresh of an active session by
/// its own user, from the record's header alone (`Derivation.applyRefresh`), and decodes every
/// other event. The generated logs are full of the other cases (refreshes of ended, expired,
/// unknown and other users' sessions, early ones, late ones, ones recorded more than `max_skew`
/// before their `at`), so a shortcut taken where `apply` would do anything else changes a
/// finding or a state below.
final class RefreshShortcutTests: XCTestCase {
    /// Numbers given as a ledger gives them: in order of first appearance.
    private func numbered(_ events: [StoredEvent]) -> [StoredEvent] {
        var users: [String: UInt32] = [:]
        var sessions: [String: UInt32] = [:]
        return events.map { stored in
            var out = stored
            let e = stored.event
            out.userNumber = users[e.user] ?? { users[e.user] = UInt32(users.count + 1); return UInt32(users.count) }()
            if let s = e.session {
                out.sessionNumber = sessions[s] ?? { sessions[s] = UInt32(sessions.count + 1); return UInt32(sessions.count) }()
            }
            return out
        }
    }

    /// The checkpoint follower folds the events a call stores through `CheckpointFold.step`,
    /// which takes the shortcut for refreshes from the events' numbers: its state must stay the
    /// state of a fold that applies every event in full.
    func testTheCheckpointFoldsStepLeavesTheStateApplyLeaves() {
        var refreshes = 0
        for seed in UInt64(1)...40 {
            var generator = TestLogGenerator(seed: seed)
            generator.count = 400
            let policy = generator.policy()
            let order = numbered(generator.stored(generator.events())).sorted { ($0.event.at, $0.seq) < ($1.event.at, $1.seq) }
            var fold = CheckpointFold(policy: policy, from: nil)
            var whole = Derivation(policy: policy)
            for s in order {
                XCTAssertNil(fold.step(s, spacing: .max, head: s.seq), "seed \(seed): no stretch ends")
                _ = whole.apply(s, late: false, checkFuture: false)
                if s.event.kind == .refresh { refreshes += 1 }
                if let id = s.event.session {
                    XCTAssertEqual(fold.derivation.session(id), whole.session(id), "seed \(seed), seq \(s.seq)")
                }
            }
            // (Not `eventCount`: `step` skips a login of a session already logged in, which
            // changes nothing but the count.)
            XCTAssertEqual(fold.derivation.sessions, whole.sessions, "seed \(seed)")
        }
        XCTAssertGreaterThan(refreshes, 4_000)
    }

    func testTheShortcutAppliesOnlyWhatApplyWouldApplyWithoutAFinding() {
        var taken = 0, declined = 0
        for seed in UInt64(1)...40 {
            var generator = TestLogGenerator(seed: seed)
            generator.count = 400
            let policy = generator.policy()
            let stored = numbered(generator.stored(generator.events()))
            let late = LatenessTracker.lateSeqs(stored.map { ($0.seq, $0.event.at) }, maxSkew: policy.maxSkew)
            let order = stored.sorted { ($0.event.at, $0.seq) < ($1.event.at, $1.seq) }

            var whole = Derivation(policy: policy)
            var wholeFindings: [Finding] = []
            var short = Derivation(policy: policy)
            var shortFindings: [Finding] = []
            for s in order {
                let isLate = late.contains(s.seq)
                var these: [Finding] = []
                whole.apply(s, late: isLate, checkFuture: true, into: &these)
                wholeFindings += these
                if s.event.kind == .refresh, !isLate,
                   short.applyRefresh(seq: s.seq, at: s.event.at, recorded: s.recorded, userNumber: s.userNumber,
                                      sessionNumber: s.sessionNumber, checkFuture: true) {
                    taken += 1
                    XCTAssertEqual(these, [], "seed \(seed), seq \(s.seq): the shortcut took an event with findings")
                } else {
                    if s.event.kind == .refresh { declined += 1 }
                    short.apply(s, late: isLate, checkFuture: true, into: &shortFindings)
                }
                XCTAssertEqual(short.changedSessions, whole.changedSessions, "seed \(seed), seq \(s.seq)")
                if let id = s.event.session {
                    XCTAssertEqual(short.session(id), whole.session(id), "seed \(seed), seq \(s.seq)")
                }
            }
            XCTAssertEqual(shortFindings, wholeFindings, "seed \(seed)")
            XCTAssertEqual(short.sessions, whole.sessions, "seed \(seed)")
            XCTAssertEqual(short.eventCount, whole.eventCount, "seed \(seed)")
        }
        // Both sides are exercised: many refreshes go each way.
        XCTAssertGreaterThan(taken, 150)
        XCTAssertGreaterThan(declined, 400)
    }

    /// Without numbers (an NDJSON file's events) there is no shortcut.
    func testEventsWithoutNumbersAreNeverShortcut() {
        var d = Derivation(policy: .default)
        var scratch: [Finding] = []
        let at = Instant(rfc3339: "2026-03-01T09:00:00Z")!
        let login = Event(kind: .login, at: at, user: "alice", session: "s1", client: "web", method: "google")
        d.apply(StoredEvent(seq: 1, recorded: at, event: login), late: false, checkFuture: false, into: &scratch)
        let later = Instant(nanoseconds: at.nanoseconds + 7_200_000_000_000)
        XCTAssertFalse(d.applyRefresh(seq: 2, at: later, recorded: later, userNumber: 0, sessionNumber: 0, checkFuture: false))
        XCTAssertFalse(d.applyRefresh(seq: 2, at: later, recorded: later, userNumber: 1, sessionNumber: 1, checkFuture: false))
        XCTAssertEqual(d.session("s1")?.refreshCount, 0)
        XCTAssertEqual(d.eventCount, 1)
    }

    /// A ledger's fold (which takes the shortcut) gives what the same stored events give when
    /// every one is decoded and applied (`InputLog`, which never does): findings, state, and
    /// state as of instants inside the log.
    func testALedgerFoldGivesWhatTheDecodedEventsGive() throws {
        for seed in UInt64(1)...12 {
            let seeded = try SeededLedger(self, seed: seed, count: 400)
            let (ledger, policy) = (seeded.ledger, seeded.policy)
            var stored: [StoredEvent] = []
            try ledger.read { snapshot in try snapshot.forEachEvent { stored.append($0); return true } }
            let decoded = InputLog(stored: stored, hasRecorded: true)
            let fromLedger = try ledger.read { try LedgerFold(policy: policy, findings: .all).run($0) }
            let fromDecoded = try LedgerFold(policy: policy, findings: .all).run(decoded)
            XCTAssertFalse(fromDecoded.findings.isEmpty)
            XCTAssertEqual(fromLedger.findings, fromDecoded.findings, "seed \(seed)")
            XCTAssertEqual(fromLedger.derivation.sessions, fromDecoded.derivation.sessions, "seed \(seed)")
            for k in stride(from: 37, to: stored.count, by: 61) {
                let horizon = LedgerFold.Horizon.through(stored[k].event.at)
                let a = try ledger.read { try LedgerFold(policy: policy, horizon: horizon).run($0) }
                let b = try LedgerFold(policy: policy, horizon: horizon).run(decoded)
                XCTAssertEqual(a.derivation.sessions, b.derivation.sessions, "seed \(seed), through seq \(k + 1)'s at")
            }
        }
    }
}
