import XCTest
@testable import SessionLedger

/// Properties of the derivation over many generated logs (TestLogGenerator.swift; each
/// failure names its seed).
final class DerivationPropertyTests: XCTestCase {
    static let seeds: [UInt64] = Array(1...60)

    static func timeOrdered(_ events: [StoredEvent]) -> [StoredEvent] {
        events.sorted { ($0.event.at, $0.seq) < ($1.event.at, $1.seq) }
    }

    /// The instants worth looking at in a log: every event's `at`, the ends of every active
    /// interval, each 1 ns either side, and a few in between.
    static func sampleInstants(_ events: [StoredEvent], _ final: Derivation, _ random: inout SplitMix64) -> [Instant] {
        var points = events.map(\.event.at)
        for s in final.sessions {
            points.append(s.loginAt)
            if let end = s.activeUntil { points.append(end) }
            if let x = s.expiresAt { points.append(x) }
        }
        var out = Set<Int64>()
        for p in points {
            for d: Int64 in [-1, 0, 1] where p.nanoseconds != .max { out.insert(p.nanoseconds + d) }
        }
        let lo = points.map(\.nanoseconds).min()!
        let hi = points.filter { $0 != .latest }.map(\.nanoseconds).max()!
        for _ in 0..<50 { out.insert(lo - 1_000 + Int64(random.next() % UInt64(hi - lo + 2_000))) }
        return out.sorted().map(Instant.init(nanoseconds:))
    }

    /// The statuses of every session at each instant, from the state after the events with `at <= T`.
    static func statusesAsOf(_ instants: [Instant], _ ordered: [StoredEvent], _ policy: Policy,
                             _ ids: [String]) -> [[SessionState.Status]] {
        var derivation = Derivation(policy: policy)
        var next = 0
        var out: [[SessionState.Status]] = []
        for t in instants {
            while next < ordered.count, ordered[next].event.at <= t {
                _ = derivation.apply(ordered[next], late: false, checkFuture: false)
                next += 1
            }
            out.append(ids.map { derivation.status(of: $0, at: t) })
        }
        return out
    }

    func testASessionIsActiveOnOneIntervalAndNeverComesBack() {
        var checkedTransitions = 0
        for seed in Self.seeds {
            // Given a generated log and its final state,
            var generator = TestLogGenerator(seed: seed)
            let policy = generator.policy()
            let events = generator.stored(generator.events())
            let final = Replay(events, policy: policy, checkFuture: true).derivation
            let ordered = Self.timeOrdered(events)
            let instants = Self.sampleInstants(events, final, &generator.random)
            let ids = final.sessions.map(\.session)
            // when each session's status is derived as of many instants,
            let table = Self.statusesAsOf(instants, ordered, policy, ids)
            for (column, id) in ids.enumerated() {
                let s = final.session(id)!
                var phase = 0 // 0: not started, 1: active, 2: over
                var over: SessionState.Status?
                for (row, t) in instants.enumerated() {
                    let status = table[row][column]
                    // then it is active exactly on [login_at, end) of the final state,
                    let inInterval = s.loginAt <= t && s.activeUntil.map { t < $0 } ?? true
                    XCTAssertEqual(status == .active, inInterval, "seed \(seed) session \(id) at \(t)")
                    // its status as of T is what the final state says for T,
                    XCTAssertEqual(status, s.status(at: t), "seed \(seed) session \(id) at \(t)")
                    // and it goes not_started, active, then one lasting end, never back.
                    switch status {
                    case .notStarted:
                        XCTAssertEqual(phase, 0, "seed \(seed) session \(id) at \(t)")
                    case .active:
                        XCTAssertLessThanOrEqual(phase, 1, "seed \(seed) session \(id) came back at \(t)")
                        phase = 1
                    case .logout, .logoutAll, .tokenDeleted, .expired:
                        if phase < 2 { checkedTransitions += 1 }
                        XCTAssertTrue(over == nil || over == status, "seed \(seed) session \(id) at \(t)")
                        phase = 2
                        over = status
                    }
                }
            }
        }
        XCTAssertGreaterThan(checkedTransitions, 500, "the generator should end many sessions")
    }

    func testSessionsActiveAtTAreThoseWhoseIntervalContainsT() {
        for seed in Self.seeds {
            var generator = TestLogGenerator(seed: seed)
            let policy = generator.policy()
            let events = generator.stored(generator.events())
            let final = Replay(events, policy: policy, checkFuture: false).derivation
            let ordered = Self.timeOrdered(events)
            var found = 0
            var instants = Self.sampleInstants(events, final, &generator.random)
            generator.random.shuffle(&instants)
            for t in instants.prefix(120) {
                // When the sessions active at T are queried (events with at <= T),
                let active = SessionQuery.active(at: t, events: ordered, policy: policy).map(\.session)
                // then they are the sessions of the final state with login_at <= T < min(ended_at, expires_at).
                let expected = final.sessions.filter { s in
                    s.loginAt <= t && [s.endedAt, s.expiresAt].compactMap { $0 }.allSatisfy { t < $0 }
                }.map(\.session)
                XCTAssertEqual(active, expected, "seed \(seed) at \(t)")
                found += active.count
            }
            XCTAssertGreaterThan(found, 0, "seed \(seed)")
        }
    }

    func testSessionsActiveInARangeAreThoseActiveAtSomeInstantOfIt() {
        for seed in Self.seeds.prefix(30) {
            var generator = TestLogGenerator(seed: seed)
            let policy = generator.policy()
            let events = generator.stored(generator.events())
            let final = Replay(events, policy: policy, checkFuture: false).derivation
            let ordered = Self.timeOrdered(events)
            let instants = Self.sampleInstants(events, final, &generator.random)
            for _ in 0..<25 {
                let a = generator.random.pick(instants), b = generator.random.pick(instants)
                let (from, to) = (min(a, b), max(a, b))
                // When the sessions active in [from, to) are queried,
                let during = SessionQuery.active(from: from, to: to, events: ordered, policy: policy).map(\.session)
                // then each is one whose final interval meets the range, and is active at the
                // first instant of the range it was logged in at,
                let expected = final.sessions.filter { s in
                    let start = max(from, s.loginAt)
                    return start < to && s.activeUntil.map { start < $0 } ?? true
                }
                XCTAssertEqual(during, expected.map(\.session), "seed \(seed) [\(from), \(to))")
                for s in expected.prefix(3) {
                    let start = max(from, s.loginAt)
                    XCTAssertTrue(SessionQuery.active(at: start, events: ordered, policy: policy).contains { $0.session == s.session },
                                  "seed \(seed) \(s.session) at \(start)")
                }
                // and a range that is empty or reversed has none.
                XCTAssertTrue(SessionQuery.active(from: to, to: from, events: ordered, policy: policy).isEmpty)
            }
        }
    }

    func testNarrowingFindingsByUserGivesThatUsersFindingsOfTheFullRun() {
        for seed in Self.seeds {
            var generator = TestLogGenerator(seed: seed)
            generator.crossUser = seed % 2 == 0
            let policy = generator.policy()
            let events = generator.stored(generator.events())
            let full = Replay(events, policy: policy, checkFuture: true)
            for user in TestLogGenerator.users {
                // When a replay reports only one user's findings,
                let narrowed = Replay(events, policy: policy, checkFuture: true, filter: FindingFilter(user: user))
                // then they are that user's findings of the full run, and the state is the full run's.
                XCTAssertEqual(narrowed.findings, full.findings.filter { $0.user == user }, "seed \(seed) \(user)")
                XCTAssertEqual(narrowed.derivation.sessions, full.derivation.sessions, "seed \(seed) \(user)")
                guard !generator.crossUser else { continue }
                // And when no event names another user's session, replaying that user's events
                // alone gives the same findings but for late-event (lateness is over the whole
                // log) and the same sessions.
                let alone = Replay(events.filter { $0.event.user == user }, policy: policy, checkFuture: true)
                XCTAssertEqual(alone.findings.filter { $0.rule != .lateEvent },
                               full.findings.filter { $0.user == user && $0.rule != .lateEvent }, "seed \(seed) \(user)")
                XCTAssertEqual(alone.derivation.sessions, full.derivation.sessions(ofUser: user), "seed \(seed) \(user)")
            }
        }
    }

    func testShufflingTheSeqOrderOfALogWithDistinctInstantsChangesNoState() {
        var lateDiffered = 0
        for seed in Self.seeds {
            // Given a log whose instants are all distinct,
            var generator = TestLogGenerator(seed: seed)
            generator.distinctInstants = true
            let policy = generator.policy()
            let events = generator.events()
            XCTAssertEqual(Set(events.map(\.at)).count, events.count)
            // when its lines are shuffled (new seq numbers),
            var permutation = Array(events.indices)
            generator.random.shuffle(&permutation)
            let shuffled = permutation.map { events[$0] }
            let original = Replay(input: events, policy: policy)
            let reordered = Replay(input: shuffled, policy: policy)
            // then every session's state is the same (but the seq of its login),
            func row(_ s: SessionState) -> SessionState { var s = s; s.loginSeq = 0; return s }
            XCTAssertEqual(reordered.derivation.sessions.map(row), original.derivation.sessions.map(row), "seed \(seed)")
            // and the findings are the same, but for late-event, once each is traced to its event.
            func key(_ f: Finding, _ eventOf: (UInt64) -> Int) -> String {
                "\(f.rule) \(eventOf(f.seq)) \(f.at) \(f.user) \(f.session ?? "-") \(f.message)"
            }
            let a = original.findings.filter { $0.rule != .lateEvent }.map { key($0) { Int($0) - 1 } }
            let b = reordered.findings.filter { $0.rule != .lateEvent }.map { key($0) { permutation[Int($0) - 1] } }
            XCTAssertEqual(a, b, "seed \(seed)")
            if original.findings.filter({ $0.rule == .lateEvent }).count
                != reordered.findings.filter({ $0.rule == .lateEvent }).count { lateDiffered += 1 }
        }
        XCTAssertGreaterThan(lateDiffered, 0, "shuffling should make some events late")
    }

    func testLateEventIsExactlyTheDefinitionInSeqOrder() {
        for seed in Self.seeds {
            var generator = TestLogGenerator(seed: seed)
            let policy = generator.policy()
            let events = generator.stored(generator.events())
            let skew = policy.maxSkew!.nanoseconds
            // Given the definition: earlier than the largest at of all events with a smaller
            // seq by more than max_skew,
            var expected = Set<UInt64>()
            for (i, e) in events.enumerated() where i > 0 {
                let latest = events[..<i].map(\.event.at.nanoseconds).max()!
                if latest - e.event.at.nanoseconds > skew { expected.insert(e.seq) }
            }
            // then the replay reports late-event on exactly those events,
            let replay = Replay(events, policy: policy, checkFuture: true)
            XCTAssertEqual(Set(replay.findings.filter { $0.rule == .lateEvent }.map(\.seq)), expected, "seed \(seed)")
            // future-event on exactly those more than max_skew after their recorded instant,
            let future = Set(events.filter { $0.event.at.nanoseconds - $0.recorded.nanoseconds > skew }.map(\.seq))
            XCTAssertEqual(Set(replay.findings.filter { $0.rule == .futureEvent }.map(\.seq)), future, "seed \(seed)")
            // and none without recorded instants.
            XCTAssertFalse(Replay(events, policy: policy, checkFuture: false).findings.contains { $0.rule == .futureEvent })
        }
    }

    func testFindingsComeInTheOrderTheirEventsApplyAndEveryRuleIsExercised() {
        var rules = Set<Finding.Rule>()
        for seed in Self.seeds {
            var generator = TestLogGenerator(seed: seed)
            let policy = generator.policy()
            let events = generator.stored(generator.events())
            let replay = Replay(events, policy: policy, checkFuture: true)
            let positions = replay.findings.map { ($0.at, $0.seq) }
            XCTAssertTrue(zip(positions, positions.dropFirst()).allSatisfy { $0 <= $1 }, "seed \(seed)")
            // Within one event: table order, then late-event, then future-event.
            let order = Finding.Rule.allCases
            for (f, g) in zip(replay.findings, replay.findings.dropFirst()) where f.seq == g.seq {
                XCTAssertLessThan(order.firstIndex(of: f.rule)!, order.firstIndex(of: g.rule)!, "seed \(seed) seq \(f.seq)")
            }
            XCTAssertEqual(replay.findings, Replay(events, policy: policy, checkFuture: true).findings, "deterministic")
            rules.formUnion(replay.findings.map(\.rule))
        }
        XCTAssertEqual(rules, Set(Finding.Rule.allCases), "the generator should reach every rule")
    }

    /// A derivation that makes no findings (`makesFindings` off, as state folds run) reaches
    /// the same state as one that makes them, event by event, and makes none.
    func testStateIsTheSameWithoutFindings() {
        var findingsMade = 0
        for seed in Self.seeds {
            var generator = TestLogGenerator(seed: seed)
            let policy = generator.policy()
            let ordered = Self.timeOrdered(generator.stored(generator.events()))
            var with = Derivation(policy: policy)
            var without = Derivation(policy: policy)
            without.makesFindings = false
            var found: [Finding] = [], none: [Finding] = []
            for stored in ordered {
                with.apply(stored, late: false, checkFuture: false, into: &found)
                without.apply(stored, late: false, checkFuture: false, into: &none)
            }
            XCTAssertEqual(without.sessions, with.sessions, "seed \(seed)")
            XCTAssertEqual(none.count, 0, "seed \(seed)")
            findingsMade += found.count
        }
        XCTAssertGreaterThan(findingsMade, 100, "the logs had findings to leave out")
    }
}
