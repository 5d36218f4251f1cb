import XCTest
@testable import SessionLedger

/// Issue 4: a user's slice, read through by_user and by_session, folds to exactly the state the
/// whole log gives that user's sessions.
final class UserLogTests: XCTestCase {
    func testAUsersSliceGivesTheSameSessionsAsTheWholeLog() throws {
        var boundedReadLess = 0
        for seed in UInt64(1)...12 {
            let seeded = try SeededLedger(self, seed: seed)
            let (ledger, policy, events) = (seeded.ledger, seeded.policy, seeded.events)
            let users = Set(events.map(\.user)).sorted()
            let instants = events.map(\.at).sorted()
            var horizons: [LedgerFold.Horizon] = [.all, .through(instants[instants.count / 2]), .before(instants[instants.count / 3])]
            horizons += laggedInstants(events).map { .through($0) }
            try ledger.read { snapshot in
                for horizon in horizons {
                    let whole = try LedgerFold(policy: policy, horizon: horizon).run(snapshot).derivation
                    for user in users {
                        let slice = try LedgerFold(policy: policy, horizon: horizon).run(UserLog(snapshot: snapshot, user: user)).derivation
                        XCTAssertEqual(slice.sessions(ofUser: user), whole.sessions(ofUser: user), "seed \(seed), user \(user), \(horizon)")
                        // Bounded by the horizon: the records past it are not read, the same state.
                        let bounded = try UserLog(snapshot: snapshot, user: user, horizon: horizon)
                        let cut = try LedgerFold(policy: policy, horizon: horizon).run(bounded).derivation
                        XCTAssertEqual(cut.sessions(ofUser: user), whole.sessions(ofUser: user), "seed \(seed), user \(user), \(horizon), bounded")
                        if case .all = horizon {} else {
                            boundedReadLess += try bounded.totalEvents() < UserLog(snapshot: snapshot, user: user).totalEvents() ? 1 : 0
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(boundedReadLess, 0, "a horizon inside the log leaves some events unread")
    }

    /// `session S` folds the slice of the user whose login created S: the same state, and the
    /// same findings on the events naming S (`late-event` included, from the lags index), as
    /// the whole log.
    func testASessionsSliceGivesTheSameStateAndFindingsAsTheWholeLog() throws {
        for seed in UInt64(1)...8 {
            let seeded = try SeededLedger(self, seed: seed)
            let (ledger, policy, events) = (seeded.ledger, seeded.policy, seeded.events)
            let sessions = Set(events.compactMap(\.session)).sorted()
            let instants = events.map(\.at).sorted()
            var horizons: [LedgerFold.Horizon] = [.all, .through(instants[instants.count / 2])]
            horizons += laggedInstants(events).prefix(2).map { .through($0) }
            try ledger.read { snapshot in
                for horizon in horizons {
                    for session in sessions {
                        let fold = LedgerFold(policy: policy, horizon: horizon, findings: FindingFilter(session: session))
                        let whole = try fold.run(snapshot)
                        let slice = try fold.run(UserLog(snapshot: snapshot, ownerOf: session))
                        XCTAssertEqual(slice.derivation.session(session), whole.derivation.session(session), "seed \(seed), session \(session)")
                        XCTAssertEqual(slice.findings, whole.findings, "seed \(seed), session \(session), \(horizon)")
                        let bounded = try fold.run(UserLog(snapshot: snapshot, ownerOf: session, horizon: horizon))
                        XCTAssertEqual(bounded.derivation.session(session), whole.derivation.session(session), "seed \(seed), session \(session), \(horizon), bounded")
                        XCTAssertEqual(bounded.findings, whole.findings, "seed \(seed), session \(session), \(horizon), bounded")
                    }
                }
            }
        }
    }

    /// A fold's findings and its trace, each step as text.
    func findingsAndTrace(_ fold: LedgerFold, _ source: some FoldSource) throws -> (findings: [Finding], steps: [String]) {
        var steps: [String] = []
        let result = try fold.run(source, trace: { steps.append(String(describing: $0)) })
        return (result.findings, steps)
    }

    /// `replay --user U` and the timeline page fold the user's slice with the slices of the
    /// owners of the sessions the user's events name; `replay --session S` the slice of
    /// `session S` with those of the users whose `logout_all` was made from S (a trace step of
    /// one lists every session of its user it ends, which the slice of S alone does not hold).
    /// Every finding and trace step of the user's events, or of the events naming S, are the
    /// whole log's (seeds with events naming other users' sessions, logins of ids someone else
    /// logged in first, refreshes of unknown sessions).
    func testAUsersOrASessionsEventsGetTheSameFindingsAndTraceFromTheirSliceAsFromTheWholeLog() throws {
        var ownSliceDiffered = 0, smallerSlices = 0, ownerSliceDiffered = 0
        for seed in UInt64(1)...16 {
            let seeded = try SeededLedger(self, seed: seed, count: 240)
            let (ledger, policy, events) = (seeded.ledger, seeded.policy, seeded.events)
            try ledger.read { snapshot in
                for user in Set(events.map(\.user)).sorted() {
                    let fold = LedgerFold(policy: policy, findings: FindingFilter(user: user))
                    let whole = try findingsAndTrace(fold, snapshot)
                    let slice = try UserLog(snapshot: snapshot, eventsOf: user)
                    let narrowed = try findingsAndTrace(fold, slice)
                    XCTAssertEqual(narrowed.findings, whole.findings, "seed \(seed), user \(user)")
                    XCTAssertEqual(narrowed.steps, whole.steps, "seed \(seed), user \(user)")
                    XCTAssertEqual(whole.steps.count, events.filter { $0.user == user }.count, "a step for each of the user's events")
                    smallerSlices += try slice.totalEvents() < events.count ? 1 : 0
                    // The user's own slice alone is not enough: the owners' slices are needed.
                    if try findingsAndTrace(fold, UserLog(snapshot: snapshot, user: user)).findings != whole.findings { ownSliceDiffered += 1 }
                }
                for session in Set(events.compactMap(\.session)).sorted() {
                    let fold = LedgerFold(policy: policy, findings: FindingFilter(session: session))
                    let whole = try findingsAndTrace(fold, snapshot)
                    let narrowed = try findingsAndTrace(fold, UserLog(snapshot: snapshot, eventsNaming: session))
                    XCTAssertEqual(narrowed.findings, whole.findings, "seed \(seed), session \(session)")
                    XCTAssertEqual(narrowed.steps, whole.steps, "seed \(seed), session \(session)")
                    XCTAssertEqual(whole.steps.count, events.filter { $0.session == session }.count)
                    if try findingsAndTrace(fold, UserLog(snapshot: snapshot, ownerOf: session)).steps != whole.steps { ownerSliceDiffered += 1 }
                }
            }
        }
        XCTAssertGreaterThan(ownSliceDiffered, 0, "some user's findings depend on another user's events")
        XCTAssertGreaterThan(smallerSlices, 0, "some slices leave events out")
        XCTAssertGreaterThan(ownerSliceDiffered, 0, "some session's trace needs another user's slice")
    }

    /// A session someone else logged in first stays theirs (SPEC.md section 5: the second login
    /// is a `duplicate-session` and has no effect), so their `logout_all` ends it, and a later
    /// logout of it by the user finds it inactive: the user's slice must take in the owner's
    /// events, though the user logged that session in too.
    func testASessionTheUserLoggedInAfterSomeoneElseIsFoldedWithItsOwnersEvents() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        let lines = [
            #"{"type":"login","at":"2026-03-01T09:00:00Z","user":"vic","session":"s","client":"web","method":"google"}"#,
            #"{"type":"login","at":"2026-03-01T09:05:00Z","user":"uma","session":"s","client":"web","method":"google"}"#,
            #"{"type":"logout_all","at":"2026-03-01T09:10:00Z","user":"vic"}"#,
            #"{"type":"logout","at":"2026-03-01T09:15:00Z","user":"uma","session":"s"}"#,
        ]
        _ = try ledger.append([InputSource(bytes: Array(lines.map { $0 + "\n" }.joined().utf8))])
        let fold = LedgerFold(policy: .default, findings: FindingFilter(user: "uma"))
        try ledger.read { snapshot in
            let rules = try fold.run(UserLog(snapshot: snapshot, eventsOf: "uma")).findings.map(\.rule)
            XCTAssertEqual(rules, [.duplicateSession, .userMismatch, .logoutInactive])
            XCTAssertEqual(rules, try fold.run(snapshot).findings.map(\.rule))
        }
    }

    /// The lags index gives the late events that a pass over the log in `seq` order finds.
    func testTheLagsIndexGivesTheLateEventsOfASeqOrderPass() throws {
        var lateSeen = 0
        for seed in UInt64(1)...6 {
            var generator = TestLogGenerator(seed: seed)
            let events = generator.events()
            let ledger = try Ledger(path: try temporaryDirectory(self) + "/l\(seed)", access: .readWrite)
            // In three calls: the writer must carry the largest `at` over from the stored log.
            let thirds = [0, events.count / 3, 2 * events.count / 3, events.count]
            for i in 0..<3 { _ = try ledger.append(events: Array(events[thirds[i]..<thirds[i + 1]])) }
            for skew in [nil, Duration.seconds(0), .seconds(300), .seconds(3_599)] {
                var latest: Instant?
                var expected = Set<UInt64>()
                for (i, event) in events.enumerated() {
                    if let l = latest, l.nanoseconds - event.at.nanoseconds > (skew?.nanoseconds ?? .max) { expected.insert(UInt64(i + 1)) }
                    latest = max(latest ?? event.at, event.at)
                }
                let late = try ledger.read { try $0.lateSeqs(maxSkew: skew) }
                XCTAssertEqual(late, expected, "seed \(seed), max_skew \(String(describing: skew))")
                lateSeen += expected.count
            }
            XCTAssertTrue(try ledger.check().isIntact)
        }
        XCTAssertGreaterThan(lateSeen, 0, "the generated logs have late events")
    }

    func testAUserTheLedgerHasNeverSeenHasNoSessions() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 50))])
        let fold = try ledger.read { try LedgerFold(policy: .default).run(UserLog(snapshot: $0, user: "nobody")) }
        XCTAssertEqual(fold.events, 0)
        XCTAssertTrue(fold.derivation.sessions(ofUser: "nobody").isEmpty)
    }

    /// Format 5 (decision 0011): `by_session` leaves out a session's refreshes by its home user,
    /// the user of the first event naming it. Here bob names `s` first (a refresh before any
    /// login: unknown-session), alice logs it in, and bob refreshes it again (user-mismatch),
    /// in a later call: `session s` and `user alice` still read both of bob's refreshes, from
    /// bob's `by_user`. A `sessions` entry giving `s` another home is refused, not believed.
    func testRefreshesByTheHomeUserOfASessionSomeoneElseLoggedInAreRead() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        func line(_ text: String) -> [UInt8] { Array((text + "\n").utf8) }
        _ = try ledger.append([InputSource(bytes:
            line(#"{"type":"refresh","at":"2026-03-01T09:00:00Z","user":"bob","session":"s"}"#) +
            line(#"{"type":"login","at":"2026-03-01T09:05:00Z","user":"alice","session":"s","client":"web","method":"google"}"#))])
        _ = try ledger.append([InputSource(bytes:
            line(#"{"type":"refresh","at":"2026-03-01T11:00:00Z","user":"bob","session":"s"}"#) +
            line(#"{"type":"refresh","at":"2026-03-01T12:00:00Z","user":"alice","session":"s"}"#))])
        let policy = Policy.default
        try ledger.read { snapshot in
            XCTAssertEqual(try snapshot.seqs(ofSession: 1), [2, 4], "alice's login and refresh are filed; bob's refreshes, the home's, are not")
            let fold = LedgerFold(policy: policy, findings: FindingFilter(session: "s"))
            let slice = try fold.run(UserLog(snapshot: snapshot, ownerOf: "s"))
            XCTAssertEqual(slice.events, 4)
            XCTAssertEqual(slice.findings.map(\.rule.rawValue), ["unknown-session", "user-mismatch"])
            XCTAssertEqual(slice.findings.map(\.seq), [1, 3])
            let session = try XCTUnwrap(slice.derivation.session("s"))
            XCTAssertEqual(session.refreshCount, 1, "alice's refresh, not bob's")
            XCTAssertEqual(try fold.run(UserLog(snapshot: snapshot, user: "alice")).events, 4)
        }
        // The home rewritten to alice: the first event naming `s` is bob's, so it is refused.
        try ledger.env.write { txn in
            let value: [UInt8] = [1, 0, 0, 0, 2, 0, 0, 0]  // session 1, home user 2 (alice)
            try txn.put(ledger.db.sessions, Array("s".utf8), value)
        }
        try ledger.read { snapshot in
            for slice in [{ try UserLog(snapshot: snapshot, ownerOf: "s") }, { try UserLog(snapshot: snapshot, user: "alice") }] {
                XCTAssertThrowsError(try slice()) { error in
                    XCTAssertTrue("\(error)".contains("home user"), "\(error)")
                }
            }
        }
        // `check` names bob's refresh, the record that first names `s`, as the first damage.
        let first = try XCTUnwrap(try ledger.check().problems.first)
        XCTAssertEqual(first.seq, 1)
        XCTAssertTrue(first.what.contains("home user"), first.what)
    }

    /// A few instants of lagged events (an `at` earlier than one before it in `seq` order): a
    /// horizon there has the event within it, after (in `seq` order) events past it, so a
    /// bounded slice must still read it through `lags`.
    private func laggedInstants(_ events: [Event]) -> [Instant] {
        var latest = Instant(nanoseconds: .min)
        var lagged: [Instant] = []
        for event in events {
            if event.at < latest { lagged.append(event.at) }
            latest = max(latest, event.at)
        }
        return stride(from: 0, to: lagged.count, by: max(1, lagged.count / 4)).map { lagged[$0] }
    }
}
