import XCTest
@testable import SessionLedger

/// `who` from the checkpoint at or before an instant (`LedgerSnapshot.whoFromCheckpoint`): the
/// sessions no later event touches counted in place, the others folded on. It answers as a fold
/// of the whole log does, for instants and ranges, with and without a client. And `sessions`'
/// states made the same way (`LedgerSnapshot.states`): those of a fold resumed from the
/// checkpoint, in the same order.
final class WhoFromCheckpointTests: XCTestCase {
    /// `who` from a fold of the whole log, ignoring checkpoints: the independent answer.
    private func foldedWho(_ snapshot: LedgerSnapshot, _ policy: Policy, at t: Instant, client: String?) throws -> [SessionQuery.UserCount] {
        who(try activeAt(snapshot, policy, t), client)
    }

    private func activeAt(_ snapshot: LedgerSnapshot, _ policy: Policy, _ t: Instant) throws -> [SessionState] {
        try LedgerFold(policy: policy, horizon: .through(t)).run(snapshot).derivation.sessions.filter { $0.isActive(at: t) }
    }

    private func who(_ active: [SessionState], _ client: String?) -> [SessionQuery.UserCount] {
        SessionQuery.who(active.filter { client == nil || $0.client == client })
    }

    private func foldedWho(_ snapshot: LedgerSnapshot, _ policy: Policy, from: Instant, to: Instant, client: String?) throws -> [SessionQuery.UserCount] {
        let states = try LedgerFold(policy: policy, horizon: .before(to)).run(snapshot).derivation.sessions
        return SessionQuery.who(states.filter { $0.wasActive(from: from, to: to) && (client == nil || $0.client == client) })
    }

    /// Worked out by hand from SPEC.md (default policy): the checkpoint after alice's three
    /// sessions (web, ios, code), bob's, erin's and gina's logins; then alice logs out of all
    /// (her token stays: `logout_all_revokes_tokens` is false), carol logs out bob's session
    /// (another user naming it still ends it), frank logs in (a user the checkpoint does not
    /// know) and gina refreshes. (henry's login after the checkpoint is only there so that
    /// there is one: none is written at the last event.) erin's session, which no event after the checkpoint names,
    /// expires 28 days after its login with no event at all.
    func testTouchedAndUntouchedSessionsAfterACheckpoint() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        let day0 = Instant(rfc3339: "2026-03-01T00:00:00Z")!
        func at(_ day: Int, _ hour: Int, _ minute: Int) -> Instant {
            day0.saturatingAdding(.seconds(Int64(day) * 86_400 + Int64(hour) * 3_600 + Int64(minute) * 60))
        }
        let before = [
            Event(kind: .login, at: at(0, 9, 0), user: "alice", session: "a1", client: "web", method: "google"),
            Event(kind: .login, at: at(0, 9, 1), user: "alice", session: "a2", client: "ios", method: "google"),
            Event(kind: .login, at: at(0, 9, 2), user: "alice", session: "a3", client: "code", method: "google"),
            Event(kind: .login, at: at(0, 9, 3), user: "bob", session: "b1", client: "web", method: "google"),
            Event(kind: .login, at: at(0, 9, 4), user: "erin", session: "e1", client: "web", method: "google"),
            Event(kind: .login, at: at(0, 9, 5), user: "gina", session: "g1", client: "web", method: "google"),
            Event(kind: .login, at: at(0, 9, 6), user: "henry", session: "h1", client: "web", method: "google"),
        ]
        let after = [
            Event(kind: .logoutAll, at: at(0, 10, 0), user: "alice", session: "a1"),
            Event(kind: .logout, at: at(0, 10, 1), user: "carol", session: "b1"),
            Event(kind: .login, at: at(0, 10, 2), user: "frank", session: "f1", client: "web", method: "email_link"),
            Event(kind: .refresh, at: at(0, 10, 3), user: "gina", session: "g1"),
        ]
        _ = try ledger.append([InputSource(bytes: canonicalLines(before))], options: .withoutCheckpoints)
        XCTAssertEqual(try ledger.writeCheckpoints(spacing: .every(6)), 1)
        _ = try ledger.append([InputSource(bytes: canonicalLines(after))], options: .withoutCheckpoints)
        func counts(_ pairs: KeyValuePairs<String, Int>) -> [SessionQuery.UserCount] {
            pairs.map { SessionQuery.UserCount(user: $0.key, sessions: $0.value) }
        }
        try ledger.read { snapshot in
            XCTAssertEqual(try snapshot.newestCheckpointInstant(), at(0, 9, 5))
            func who(_ t: Instant, _ client: String? = nil) throws -> [SessionQuery.UserCount]? {
                try snapshot.whoFromCheckpoint(policy: .default, at: t, client: client)
            }
            XCTAssertEqual(try who(at(0, 9, 59)), counts(["alice": 3, "bob": 1, "erin": 1, "gina": 1, "henry": 1]))
            XCTAssertEqual(try who(at(0, 11, 0)), counts(["alice": 1, "erin": 1, "frank": 1, "gina": 1, "henry": 1]))
            XCTAssertEqual(try who(at(0, 11, 0), "web"), counts(["erin": 1, "frank": 1, "gina": 1, "henry": 1]))
            XCTAssertEqual(try who(at(0, 11, 0), "code"), counts(["alice": 1]))
            // Day 28, 09:30: erin's session expired at 09:04 and henry's at 09:06; gina's runs to
            // 10:03 and frank's to 10:02.
            XCTAssertEqual(try who(at(28, 9, 30)), counts(["alice": 1, "frank": 1, "gina": 1]))
            XCTAssertEqual(try who(at(28, 10, 2)), counts(["alice": 1, "gina": 1]))
            XCTAssertEqual(try snapshot.whoFromCheckpoint(policy: .default, from: at(0, 9, 30), to: at(0, 10, 30), client: nil),
                           counts(["alice": 3, "bob": 1, "erin": 1, "frank": 1, "gina": 1, "henry": 1]))
            // From the instant erin's session expires: not hers, still henry's.
            XCTAssertEqual(try snapshot.whoFromCheckpoint(policy: .default, from: at(28, 9, 4), to: at(28, 10, 3), client: "web"),
                           counts(["frank": 1, "gina": 1, "henry": 1]))
            // Before the checkpoint it does not answer (the caller counts a stretch or folds).
            XCTAssertNil(try who(at(0, 9, 4)))
        }
    }

    func testWhoFromCheckpointsEqualsWhoFromAFoldOfTheWholeLog() throws {
        var answered = 0, ranges = 0, nonEmpty = 0
        for seed in UInt64(1)...8 {
            let (ledger, policy, events) = try seededLedgerWithCheckpoints(self, seed: seed, spacing: .every(9 + Int(seed)))
            let instants = Set(events.map(\.at)).sorted()
            let last = instants.last!
            var probes = instants + instants.map { Instant(nanoseconds: $0.nanoseconds + 1) }
            for hours in [1, 25, 24 * 27, 24 * 29] { probes.append(last.saturatingAdding(.seconds(Int64(hours) * 3_600))) }
            probes.sort()
            try ledger.read { snapshot in
                let first = try XCTUnwrap(try snapshot.checkpointInstants().first)
                for (i, t) in probes.enumerated() where i % 4 == 0 {
                    var active: [SessionState]?  // folded once for the four clients
                    for client in [nil, "web", "code", "none-such"] {
                        let counted = try snapshot.whoFromCheckpoint(policy: policy, at: t, client: client)
                        guard t >= first else {
                            XCTAssertNil(counted, "seed \(seed), at \(t): no checkpoint at or before it")
                            continue
                        }
                        if active == nil { active = try activeAt(snapshot, policy, t) }
                        let expected = who(active!, client)
                        XCTAssertEqual(try XCTUnwrap(counted, "seed \(seed), at \(t)"), expected, "seed \(seed), at \(t), client \(client ?? "-")")
                        answered += 1
                        if !expected.isEmpty { nonEmpty += 1 }
                    }
                    let to = probes[min(i + 1 + i % 7, probes.count - 1)]
                    let client = i % 8 == 0 ? "web" : nil
                    if t >= first, t < to {
                        XCTAssertEqual(try snapshot.whoFromCheckpoint(policy: policy, from: t, to: to, client: client),
                                       try foldedWho(snapshot, policy, from: t, to: to, client: client), "seed \(seed), from \(t) to \(to)")
                        ranges += 1
                    }
                }
                // Another policy's checkpoints are not used.
                XCTAssertNil(try snapshot.whoFromCheckpoint(policy: .default, at: last, client: nil))
            }
        }
        XCTAssertGreaterThan(answered, 1_000)
        XCTAssertGreaterThan(nonEmpty, 500)
        XCTAssertGreaterThan(ranges, 200)
    }

    /// A range that begins before checkpoints and ends past the last one (the question "who
    /// in the last 30 days" asks at the end of a log): the stretches up to the last checkpoint
    /// before its end count the sessions active by it, a fold from it those logged in after.
    /// The answer equals a fold's, with and without a client.
    func testARangeFromBeforeCheckpointsToPastTheLastEqualsAFold() throws {
        var answered = 0, acrossThree = 0, nonEmpty = 0
        for seed in UInt64(1)...8 {
            let (ledger, policy, events) = try seededLedgerWithCheckpoints(self, seed: seed, spacing: .every(9 + Int(seed)))
            let instants = Set(events.map(\.at)).sorted()
            let last = instants.last!
            try ledger.read { snapshot in
                let checkpoints = try snapshot.checkpointInstants()
                let newest = try XCTUnwrap(checkpoints.last)
                // Ends past the newest checkpoint: an event's instant after it, the last event's, and later.
                let ends = instants.filter { $0 > newest }.prefix(3).map { Instant(nanoseconds: $0.nanoseconds + 1) }
                    + [last, last.saturatingAdding(.seconds(3_600)), last.saturatingAdding(.seconds(86_400 * 29))]
                for (i, from) in instants.enumerated() where i % 6 == 0 && from <= newest {
                    let to = ends[i % ends.count]
                    guard from < to else { continue }
                    let client = i % 4 == 0 ? "web" : nil
                    // The path across checkpoints itself, which does not fall back to a fold.
                    let counted = try XCTUnwrap(try snapshot.whoAcrossCheckpoints(policy: policy, from: from, to: to, client: client),
                                                "seed \(seed), from \(from) to \(to)")
                    XCTAssertEqual(counted, try foldedWho(snapshot, policy, from: from, to: to, client: client),
                                   "seed \(seed), from \(from) to \(to)")
                    answered += 1
                    if checkpoints.filter({ $0 >= from }).count >= 3 { acrossThree += 1 }
                    if !counted.isEmpty { nonEmpty += 1 }
                }
            }
        }
        XCTAssertGreaterThan(acrossThree, 60)
        XCTAssertGreaterThan(nonEmpty, answered * 3 / 4)
    }

    func testStatesFromACheckpointEqualAFoldsFromIt() throws {
        var compared = 0, active = 0
        for seed in UInt64(1)...8 {
            let (ledger, policy, events) = try seededLedgerWithCheckpoints(self, seed: seed, spacing: .every(9 + Int(seed)))
            let probes = probeInstants(events)
            try ledger.read { snapshot in
                for (i, t) in probes.enumerated() where i % 5 == 0 {
                    // An instant (the state as of T), and a range from T (the state before its end).
                    let to = probes[min(i + 1 + i % 7, probes.count - 1)]
                    for (horizon, counted) in [(LedgerFold.Horizon.through(t), { (s: SessionState) in s.isActive(at: t) }),
                                               (.before(to), { (s: SessionState) in s.wasActive(from: t, to: to) })] {
                        let states = try snapshot.states(policy: policy, horizon: horizon, readsFrom: t)
                        // Every field and the order of a fold resumed from the same checkpoint...
                        XCTAssertEqual(states, try snapshot.stateFold(policy: policy, horizon: horizon, readsFrom: t).sessions,
                                       "seed \(seed), \(horizon)")
                        // ...and the sessions it counts of a fold of the whole log.
                        let whole = try LedgerFold(policy: policy, horizon: horizon).run(snapshot).derivation.sessions
                        XCTAssertEqual(states.filter(counted), whole.filter(counted), "seed \(seed), from \(t), \(horizon)")
                        compared += 1
                        active += states.filter(counted).count
                    }
                }
            }
        }
        XCTAssertGreaterThan(compared, 500)
        XCTAssertGreaterThan(active, 2_000)
    }

    /// Thirty users: ten of `TestLogGenerator`'s three-user logs (every rule: `logout_all`,
    /// tokens, events naming another user's session, lines out of time order), their users and
    /// sessions renamed apart and their lines interleaved, with checkpoints far apart. Many of a
    /// checkpoint's sessions are then untouched at the instants asked about, which the test
    /// counts from the events itself.
    func testWhoAndStatesFromCheckpointsOnThirtyUsers() throws {
        var groups: [[Event]] = []
        var drawnFirst: Policy?
        for g in 0..<10 {
            var generator = TestLogGenerator(seed: 100 + UInt64(g))
            generator.count = 300
            let drawn = generator.policy()
            if drawnFirst == nil { drawnFirst = drawn }
            groups.append(generator.events().map { e in
                var e = e
                e.user = "g\(g)-" + e.user
                e.session = e.session.map { "g\(g)-" + $0 }
                return e
            })
        }
        let policy = try XCTUnwrap(drawnFirst)
        var events: [Event] = []
        for k in 0..<300 { for group in groups where k < group.count { events.append(group[k]) } }
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append([InputSource(bytes: canonicalLines(events))], options: .withoutCheckpoints)
        XCTAssertGreaterThan(try ledger.writeCheckpoints(policy: policy, spacing: .every(500)), 4)
        let instants = Set(events.map(\.at)).sorted()
        var answered = 0, untouched = 0
        try ledger.read { snapshot in
            let first = try XCTUnwrap(try snapshot.checkpointInstants().first)
            for (i, t) in instants.enumerated() where i % 40 == 0 && instants[i] >= first {
                let checkpoint = try XCTUnwrap(try snapshot.checkpoint(atOrBefore: t, policy: policy))
                // The checkpoint's sessions that no event in (C, t] names, whose user no logout_all there names.
                let after = events.filter { $0.at > checkpoint.at && $0.at <= t }
                let named = Set(after.compactMap(\.session)), loggedOut = Set(after.filter { $0.kind == .logoutAll }.map(\.user))
                untouched += checkpoint.sessions.filter { !named.contains($0.session) && !loggedOut.contains($0.user) }.count
                let whole = try LedgerFold(policy: policy, horizon: .through(t)).run(snapshot).derivation.sessions
                for client in [nil, "web", "code"] {
                    XCTAssertEqual(try snapshot.whoFromCheckpoint(policy: policy, at: t, client: client),
                                   SessionQuery.who(whole.filter { $0.isActive(at: t) && (client == nil || $0.client == client) }),
                                   "at \(t), client \(client ?? "-")")
                }
                XCTAssertEqual(try snapshot.states(policy: policy, horizon: .through(t), readsFrom: t).filter { $0.isActive(at: t) },
                               whole.filter { $0.isActive(at: t) }, "at \(t)")
                let to = instants[min(i + 25, instants.count - 1)]
                if t < to {
                    let before = try LedgerFold(policy: policy, horizon: .before(to)).run(snapshot).derivation.sessions
                    XCTAssertEqual(try snapshot.whoFromCheckpoint(policy: policy, from: t, to: to, client: nil),
                                   SessionQuery.who(before.filter { $0.wasActive(from: t, to: to) }), "from \(t) to \(to)")
                }
                answered += 1
            }
        }
        XCTAssertGreaterThan(answered, 30)
        XCTAssertGreaterThan(untouched, 100, "sessions counted where they lie")
        XCTAssertGreaterThan(events.filter { $0.kind == .logoutAll }.count, 20)
    }

    /// The same on the many-user log of `generatedLines` under the default policy, with
    /// checkpoints far apart, so that most of each checkpoint's sessions are not touched again
    /// before the instants asked about, up to a day past the last event.
    func testWhoFromCheckpointsOnManyUsers() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 4_000, users: 300))], options: .withoutCheckpoints)
        XCTAssertGreaterThan(try ledger.writeCheckpoints(spacing: .every(700)), 4)
        try ledger.read { snapshot in
            var instants: [Instant] = []
            try snapshot.forEachEvent { instants.append($0.event.at); return true }
            instants.sort()
            let first = try XCTUnwrap(try snapshot.checkpointInstants().first)
            var answered = 0
            for t in stride(from: 0, to: instants.count, by: 61).map({ instants[$0] }) + [instants.last!.saturatingAdding(.seconds(86_400))]
            where t >= first {
                XCTAssertEqual(try snapshot.whoFromCheckpoint(policy: .default, at: t, client: nil),
                               try foldedWho(snapshot, .default, at: t, client: nil), "at \(t)")
                answered += 1
            }
            XCTAssertGreaterThan(answered, 40)
        }
    }
}
