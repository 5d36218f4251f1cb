import XCTest
@testable import SessionLedger

/// Issue 4: `replay` retires inactive sessions to keep its memory to the active ones
/// (`Derivation.retireInactive()`), and reports exactly what a fold that keeps them all does.
/// The generated logs name ended and expired sessions again and again (refresh after the end,
/// a second logout, a login reusing an old id, logout_all from a dead session), so retired
/// sessions are brought back often.
final class RetirementTests: XCTestCase {
    func testRetiringInactiveSessionsChangesNoFindingAndNoCount() throws {
        var retiredSome = 0
        for seed in UInt64(1)...16 {
            let seeded = try SeededLedger(self, seed: seed, count: 400)
            let (ledger, policy) = (seeded.ledger, seeded.policy)
            let whole = try ledger.read { try LedgerFold(policy: policy, findings: .all).run($0) }
            XCTAssertFalse(whole.findings.isEmpty)
            for every in [1, 2, 7, 50] {
                var fold = LedgerFold(policy: policy, findings: .all)
                fold.retireEvery = every
                let retiring = try ledger.read { try fold.run($0) }
                XCTAssertEqual(retiring.findings, whole.findings, "seed \(seed), every \(every)")
                XCTAssertEqual(ParallelReplay.Summary(retiring), ParallelReplay.Summary(whole), "seed \(seed), every \(every)")
                if retiring.derivation.sessions.count < whole.derivation.sessions.count { retiredSome += 1 }
                // The sessions it still holds are the active ones, in the state the whole fold gives.
                for state in retiring.derivation.sessions where state.loginSeq != 0 {
                    XCTAssertEqual(state, whole.derivation.session(state.session), "seed \(seed), every \(every)")
                }
                for jobs in 1...3 {
                    var replay = ParallelReplay(policy: policy, jobs: jobs)
                    replay.retireEvery = every
                    var findings: [Finding] = []
                    let summary = try replay.run(ledger) { findings.append($0) }
                    XCTAssertEqual(findings, whole.findings, "seed \(seed), every \(every), \(jobs) jobs")
                    XCTAssertEqual(summary, ParallelReplay.Summary(whole), "seed \(seed), every \(every), \(jobs) jobs")
                }
            }
        }
        XCTAssertGreaterThan(retiredSome, 32, "retirement dropped sessions in most runs")
    }

    /// `replay`'s fold finds a numbered session by its number alone
    /// (`Derivation.findNumberedSessionsByNumberOnly`); asked by id, it still answers, and an
    /// event without numbers that names the session still meets it. Worked out from SPEC.md
    /// section 5: a refresh 2 h after the login, by the same user, extends the session; a
    /// second login of the same id is a `duplicate-session` and changes nothing.
    func testASessionFoundByItsNumberAloneIsStillFoundByItsID() {
        func t(_ text: String) -> Instant { Instant(rfc3339: text)! }
        var derivation = Derivation(policy: .default)
        derivation.findNumberedSessionsByNumberOnly()
        let login = Event(kind: .login, at: t("2026-03-01T09:00:00Z"), user: "alice", session: "s1", client: "web", method: "google")
        XCTAssertEqual(derivation.apply(StoredEvent(seq: 1, recorded: login.at, event: login, sessionNumber: 7, userNumber: 3),
                                        late: false, checkFuture: false), [])
        XCTAssertEqual(derivation.session("s1")?.user, "alice")
        XCTAssertEqual(derivation.session("s1")?.loginAt, t("2026-03-01T09:00:00Z"))
        XCTAssertNil(derivation.session("s2"))
        // Without numbers, as from an input file.
        let refresh = Event(kind: .refresh, at: t("2026-03-01T11:00:00Z"), user: "alice", session: "s1")
        XCTAssertEqual(derivation.apply(StoredEvent(seq: 2, recorded: refresh.at, event: refresh), late: false, checkFuture: false), [])
        XCTAssertEqual(derivation.session("s1")?.refreshCount, 1)
        XCTAssertEqual(derivation.session("s1")?.lastExtendedAt, t("2026-03-01T11:00:00Z"))
        XCTAssertEqual(derivation.session("s1")?.expiresAt, t("2026-03-29T11:00:00Z"))
        let again = Event(kind: .login, at: t("2026-03-01T12:00:00Z"), user: "bob", session: "s1", client: "web", method: "google")
        XCTAssertEqual(derivation.apply(StoredEvent(seq: 3, recorded: again.at, event: again), late: false, checkFuture: false).map(\.rule),
                       [.duplicateSession])
        XCTAssertEqual(derivation.session("s1")?.user, "alice")
        XCTAssertEqual(derivation.sessionCount, 1)
    }

    /// A fold of a log without session numbers (`replay --input`) retires nothing.
    func testAnInputLogRetiresNothing() {
        var generator = TestLogGenerator(seed: 5)
        generator.count = 300
        let policy = generator.policy()
        let events = generator.events()
        var fold = LedgerFold(policy: policy, findings: .all)
        let whole = try! fold.run(InputLog(events: events))
        fold.retireEvery = 1
        let retiring = try! fold.run(InputLog(events: events))
        XCTAssertEqual(retiring.findings, whole.findings)
        XCTAssertEqual(retiring.derivation.sessions, whole.derivation.sessions)
    }
}
