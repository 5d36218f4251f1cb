import XCTest
@testable import SessionLedger

/// The derivation's contract beyond the fixtures: names, messages, the query helpers and
/// the edges of the time line. Given/when/then with events built in code.
final class DerivationTests: XCTestCase {
    static func t(_ text: String) -> Instant { Instant(rfc3339: text)! }

    static func login(_ at: String, _ user: String, _ session: String, client: String = "web",
                      method: String = "google") -> Event {
        Event(kind: .login, at: t(at), user: user, session: session, client: client, method: method)
    }

    static func event(_ kind: Event.Kind, _ at: String, _ user: String, _ session: String?) -> Event {
        Event(kind: kind, at: t(at), user: user, session: session)
    }

    func testTheRulesHaveTheExactNamesAndSeveritiesOfTheSpec() {
        let expected: [(String, Finding.Severity)] = [
            ("duplicate-session", .error), ("unknown-client", .error), ("login-method", .error),
            ("unknown-session", .error), ("user-mismatch", .error), ("refresh-after-end", .error),
            ("refresh-after-expiry", .error), ("early-refresh", .warning), ("logout-inactive", .warning),
            ("logout-all-from-inactive", .error), ("logout-all-client", .error), ("not-a-token", .error),
            ("delete-inactive", .warning), ("late-event", .warning), ("future-event", .warning),
        ]
        XCTAssertEqual(Finding.Rule.allCases.map(\.name), expected.map(\.0))
        XCTAssertEqual(Finding.Rule.allCases.map(\.severity), expected.map(\.1))
        XCTAssertEqual(Finding.Severity.allCases.map(\.name), ["error", "warning"])
        XCTAssertEqual(SessionState.Status.allCases.map(\.name),
                       ["not_started", "logout", "logout_all", "token_deleted", "expired", "active"])
        XCTAssertEqual(SessionState.EndReason.allCases.map(\.name), ["logout", "logout_all", "token_deleted"])
    }

    func testMessagesNameTheInstantsAndWhatHappened() {
        // Given a session refreshed early, then by another user, then after its end,
        let replay = Replay(input: [
            Self.login("2026-03-01T09:00:00Z", "alice", "s1"),
            Self.event(.refresh, "2026-03-01T09:30:00Z", "alice", "s1"),
            Self.event(.refresh, "2026-03-01T11:00:00Z", "bob", "s1"),
            Self.event(.logout, "2026-03-01T12:00:00Z", "alice", "s1"),
            Self.event(.refresh, "2026-03-01T13:00:00Z", "alice", "s1"),
        ], policy: .default)
        // then each finding says what, when, and whether the event still took effect.
        XCTAssertEqual(replay.findings.map(\.message), [
            #"refresh at 2026-03-01T09:30:00Z of session "s1" (user "alice") came 30m after its last extension at 2026-03-01T09:00:00Z, sooner than the refresh interval of 1h; it was applied all the same."#,
            #"refresh at 2026-03-01T11:00:00Z by user "bob" names session "s1" of user "alice"; the refresh was not applied."#,
            #"refresh at 2026-03-01T13:00:00Z of session "s1" (user "alice") came after the session ended by logout at 2026-03-01T12:00:00Z; it was not applied."#,
        ])
    }

    func testTheTimingFindingsNameTheSkewAndTheRecordedInstant() {
        let events = [
            StoredEvent(seq: 1, recorded: Self.t("2026-03-01T10:00:00Z"), event: Self.login("2026-03-01T10:00:00Z", "alice", "s1")),
            StoredEvent(seq: 2, recorded: Self.t("2026-03-01T08:00:00Z"), event: Self.event(.logoutAll, "2026-03-01T09:00:00Z", "alice", nil)),
        ]
        let replay = Replay(events, policy: .default, checkFuture: true)
        XCTAssertEqual(replay.findings.map(\.rule), [.lateEvent, .futureEvent])
        XCTAssertEqual(replay.findings.map(\.message), [
            #"logout_all at 2026-03-01T09:00:00Z (user "alice") was logged after an event more than max_skew (5m) later; it was applied at its own instant."#,
            #"logout_all at 2026-03-01T09:00:00Z (user "alice") is more than max_skew (5m) later than the ledger's clock when it was recorded, 2026-03-01T08:00:00Z."#,
        ])
        XCTAssertNil(replay.findings[0].session)
    }

    func testTheStateCanBeReadBySessionByUserAndInLoginOrder() {
        // Given logins of two users, applied in time order,
        var d = Derivation(policy: .default)
        let events = [
            Self.login("2026-03-01T09:00:00Z", "bob", "b1"),
            Self.login("2026-03-01T09:00:00Z", "alice", "a1"),
            Self.login("2026-03-01T10:00:00Z", "bob", "b2", client: "code"),
        ]
        for (i, e) in events.enumerated() {
            XCTAssertEqual(d.apply(StoredEvent(seq: UInt64(i + 1), recorded: e.at, event: e), late: false, checkFuture: false), [])
            // each reports the session it changed,
            XCTAssertEqual(d.changedSessions, [e.session!])
        }
        // then the sessions come in login order, per user too,
        XCTAssertEqual(d.sessions.map(\.session), ["b1", "a1", "b2"])
        XCTAssertEqual(d.sessions(ofUser: "bob").map(\.session), ["b1", "b2"])
        XCTAssertEqual(d.sessions(ofUser: "carol"), [])
        XCTAssertEqual(d.users, ["alice", "bob"])
        XCTAssertEqual(d.sessionCount, 3)
        XCTAssertEqual(d.eventCount, 3)
        XCTAssertTrue(d.session("b2")!.isToken)
        XCTAssertEqual(d.session("b2")!.loginSeq, 3)
        // and an unknown session is not started.
        XCTAssertNil(d.session("zz"))
        XCTAssertEqual(d.status(of: "zz", at: Self.t("2026-03-01T10:00:00Z")), .notStarted)
        XCTAssertEqual(d.status(of: "b1", at: Self.t("2026-03-01T08:00:00Z")), .notStarted)
        // When bob logs out of all sessions, the changed sessions are his non-token ones.
        let all = Self.event(.logoutAll, "2026-03-01T11:00:00Z", "bob", nil)
        _ = d.apply(StoredEvent(seq: 4, recorded: all.at, event: all), late: false, checkFuture: false)
        XCTAssertEqual(d.changedSessions, ["b1"])
    }

    func testLatenessIsMoreThanMaxSkewEarlierThanTheLatestBefore() {
        var tracker = LatenessTracker(maxSkew: .seconds(300))
        XCTAssertFalse(tracker.isLate(Self.t("2026-03-01T10:00:00Z")), "the first event is never late")
        XCTAssertFalse(tracker.isLate(Self.t("2026-03-01T09:55:00Z")), "exactly max_skew earlier is not late")
        XCTAssertTrue(tracker.isLate(Self.t("2026-03-01T09:54:59.999999999Z")))
        XCTAssertEqual(tracker.latest, Self.t("2026-03-01T10:00:00Z"))
        XCTAssertFalse(tracker.isLate(Self.t("2026-03-01T11:00:00Z")))
        XCTAssertTrue(tracker.isLate(Self.t("2026-03-01T10:00:00Z")))
        // Instants at both ends of the range do not overflow.
        var extremes = LatenessTracker(maxSkew: .seconds(300))
        XCTAssertFalse(extremes.isLate(Self.t("2261-12-31T23:59:59.999999999Z")))
        XCTAssertTrue(extremes.isLate(Self.t("1678-01-01T00:00:00Z")))
        XCTAssertFalse(extremes.isLate(Self.t("2261-12-31T23:59:59.999999999Z")))
        // Over a whole log read in seq order, the late seqs are collected in one pass.
        let log: [(seq: UInt64, at: Instant)] = [(1, Self.t("2026-03-01T10:00:00Z")), (2, Self.t("2026-03-01T09:00:00Z")),
                                                 (3, Self.t("2026-03-01T09:59:00Z")), (4, Self.t("2026-03-01T09:55:00Z"))]
        XCTAssertEqual(LatenessTracker.lateSeqs(log, maxSkew: .seconds(300)), [2])
        XCTAssertEqual(LatenessTracker.lateSeqs(log, maxSkew: nil), [])
        // Without max_skew nothing is late.
        var none = LatenessTracker(maxSkew: nil)
        XCTAssertFalse(none.isLate(Self.t("2261-01-01T00:00:00Z")))
        XCTAssertFalse(none.isLate(Self.t("1678-01-01T00:00:00Z")))
    }

    func testExpiryPastTheEndOfTimeIsClampedNotTrapped() throws {
        // Given a policy whose lifetime reaches past what an Int64 of nanoseconds holds,
        var policy = Policy.default
        policy.clients["web"]!.lifetime = Duration(policyText: "106751d")
        // when a session logs in late in 2261 and is refreshed,
        let replay = Replay(input: [
            Self.login("2261-12-01T00:00:00Z", "alice", "s1"),
            Self.event(.refresh, "2261-12-31T00:00:00Z", "alice", "s1"),
        ], policy: policy)
        // then it expires at the last instant there is, and is active until then.
        let s = try XCTUnwrap(replay.derivation.session("s1"))
        XCTAssertEqual(s.expiresAt, Instant.latest)
        XCTAssertEqual(s.refreshCount, 1)
        XCTAssertEqual(s.status(at: Self.t("2261-12-31T23:59:59Z")), .active)
        XCTAssertEqual(s.status(at: .latest), .expired)
        XCTAssertEqual(replay.findings, [])
    }

    func testActiveDuringARangeIsTheIntervalMeetingTheRange() {
        var s = SessionState(session: "s1", user: "u", client: "web", method: "google",
                             loginAt: Self.t("2026-03-01T09:00:00Z"), loginSeq: 1, rules: Policy.default.client("web"))
        let nine = Self.t("2026-03-01T09:00:00Z"), ten = Self.t("2026-03-01T10:00:00Z")
        let justAfterNine = Instant(nanoseconds: nine.nanoseconds + 1)
        XCTAssertTrue(s.wasActive(from: nine, to: justAfterNine))
        XCTAssertFalse(s.wasActive(from: Self.t("2026-03-01T08:00:00Z"), to: nine), "the range ends where it starts")
        XCTAssertFalse(s.wasActive(from: ten, to: nine), "a reversed range is empty")
        XCTAssertFalse(s.wasActive(from: ten, to: ten), "an empty range")
        XCTAssertTrue(s.wasActive(from: Self.t("2026-03-28T00:00:00Z"), to: Self.t("2026-05-01T00:00:00Z")))
        XCTAssertFalse(s.wasActive(from: Self.t("2026-03-29T09:00:00Z"), to: Self.t("2026-05-01T00:00:00Z")), "expired at from")
        // Logged out at the instant of login: never active.
        s.endedAt = nine
        s.endReason = .logout
        XCTAssertEqual(s.activeUntil, nine)
        XCTAssertFalse(s.wasActive(from: Self.t("2000-01-01T00:00:00Z"), to: Self.t("2100-01-01T00:00:00Z")))
        XCTAssertEqual(s.status(at: nine), .logout)
    }

    func testFiltersNarrowWhatIsReportedNeverWhatIsApplied() {
        // Given alice's session ended by bob's logout (a user-mismatch on bob's event),
        let events = [
            Self.login("2026-03-01T09:00:00Z", "alice", "s1"),
            Self.event(.logout, "2026-03-01T10:00:00Z", "bob", "s1"),
            Self.event(.refresh, "2026-03-01T11:00:00Z", "alice", "s1"),
            Self.event(.logoutAll, "2026-03-01T12:00:00Z", "alice", nil),
        ]
        let full = Replay(input: events, policy: .default)
        XCTAssertEqual(full.findings.map(\.rule), [.userMismatch, .refreshAfterEnd])
        XCTAssertTrue(full.hasErrors)
        XCTAssertEqual(full.summary, [.userMismatch: 1, .refreshAfterEnd: 1])
        // when only alice's findings are reported, the session is still ended by bob's event.
        let alice = Replay(input: events, policy: .default, filter: FindingFilter(user: "alice"))
        XCTAssertEqual(alice.findings.map(\.rule), [.refreshAfterEnd])
        XCTAssertEqual(alice.derivation.session("s1")?.endReason, .logout)
        XCTAssertEqual(alice.events, 4)
        // From is inclusive, to exclusive; a session filter drops findings without a session.
        let window = FindingFilter(from: Self.t("2026-03-01T10:00:00Z"), to: Self.t("2026-03-01T11:00:00Z"))
        XCTAssertEqual(Replay(input: events, policy: .default, filter: window).findings.map(\.seq), [2])
        XCTAssertEqual(Replay(input: events, policy: .default, filter: FindingFilter(session: "s1")).findings.count, 2)
        XCTAssertEqual(Replay(input: events, policy: .default, filter: FindingFilter(session: "s2")).findings, [])
        XCTAssertFalse(Replay(input: [events[0]], policy: .default).hasErrors)
    }

    func testWhoCountsTheSessionsOfEachUser() {
        let events = [
            Self.login("2026-03-01T09:00:00Z", "bob", "b1"),
            Self.login("2026-03-01T09:00:00Z", "alice", "a1"),
            Self.login("2026-03-01T09:30:00Z", "bob", "b2", client: "ios"),
            Self.event(.logout, "2026-03-01T10:00:00Z", "alice", "a1"),
        ].enumerated().map { StoredEvent(seq: UInt64($0.offset + 1), recorded: $0.element.at, event: $0.element) }
        let ordered = events.sorted { ($0.event.at, $0.seq) < ($1.event.at, $1.seq) }
        let at = SessionQuery.active(at: Self.t("2026-03-01T10:00:00Z"), events: ordered, policy: .default)
        XCTAssertEqual(SessionQuery.who(at), [.init(user: "bob", sessions: 2)])
        let during = SessionQuery.active(from: Self.t("2026-03-01T09:00:00Z"), to: Self.t("2026-03-01T10:00:00Z"),
                                         events: ordered, policy: .default)
        XCTAssertEqual(SessionQuery.who(during), [.init(user: "alice", sessions: 1), .init(user: "bob", sessions: 2)])
        // A range's state is as of its end, without the events at the end itself.
        XCTAssertNil(SessionQuery.state(before: Self.t("2026-03-01T10:00:00Z"), events: ordered, policy: .default)
            .session("a1")?.endedAt)
        XCTAssertEqual(SessionQuery.state(asOf: Self.t("2026-03-01T10:00:00Z"), events: ordered, policy: .default)
            .session("a1")?.endedAt, Self.t("2026-03-01T10:00:00Z"))
    }
}
