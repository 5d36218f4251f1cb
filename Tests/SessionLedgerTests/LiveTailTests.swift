import XCTest
@testable import SessionLedger

/// `LiveTail` (`who` past the last checkpoint and `sessions` past the last event in `sledger
/// serve`): its answers equal those from a fold of the whole log, for instants and ranges from
/// its checkpoint into the future (`sessions`: from the last event); it is
/// folded once per head, brought up to date by on-time events, and folded again after a late
/// event or a newer checkpoint.
final class LiveTailTests: XCTestCase {
    /// `who` for a range from a fold of the whole log, ignoring checkpoints: the independent answer.
    private func foldedWho(_ snapshot: LedgerSnapshot, _ policy: Policy, from: Instant, to: Instant, client: String?) throws -> [SessionQuery.UserCount] {
        let states = try LedgerFold(policy: policy, horizon: .before(to)).run(snapshot).derivation.sessions
        return SessionQuery.who(states.filter { $0.wasActive(from: from, to: to) && (client == nil || $0.client == client) })
    }

    /// Instants from the newest checkpoint to well past the last event: every event's instant
    /// there, a nanosecond either side, and days later (sessions expire with no event).
    private func probes(_ snapshot: LedgerSnapshot, _ events: [Event]) throws -> [Instant] {
        let newest = try XCTUnwrap(try snapshot.newestCheckpointInstant())
        let last = try XCTUnwrap(try snapshot.latestInstant())
        let after = Set(events.map(\.at)).filter { $0 >= newest }.sorted()
        var out = [newest] + after.flatMap { [Instant(nanoseconds: $0.nanoseconds - 1), $0, Instant(nanoseconds: $0.nanoseconds + 1)] }
        for hours in [1, 2, 3, 25, 24 * 27, 24 * 29, 24 * 400] { out.append(last.saturatingAdding(.seconds(Int64(hours) * 3_600))) }
        return out.filter { $0 >= newest }
    }

    /// Asks the tail and a fold of the whole log (ignoring checkpoints: the independent answer)
    /// the same questions; returns how many the tail answered.
    private func compare(_ tail: LiveTail, _ ledger: Ledger, _ policy: Policy, _ events: [Event], _ label: String) throws -> Int {
        var answered = 0, sessionsAnswered = 0
        try ledger.read { snapshot in
            let instants = try probes(snapshot, events)
            let last = try snapshot.latestInstant()!
            // About 12 instants and ranges (a fold of 400 events takes 20 ms in a debug build), the
            // last ones (days after the last event) always.
            let step = max(1, instants.count / 12)
            for (i, t) in instants.enumerated() where i % step == 0 || i >= instants.count - 4 {
                let states = try LedgerFold(policy: policy, horizon: .through(t)).run(snapshot).derivation.sessions.filter { $0.isActive(at: t) }
                // `sessions` at or after the last event: every field, in the fold's order.
                let held = try tail.sessions(snapshot, horizon: .through(t), readsFrom: t)
                if t >= last {
                    XCTAssertEqual(try XCTUnwrap(held, "\(label): sessions at \(t)").filter { $0.isActive(at: t) }, states,
                                   "\(label): sessions at \(t)")
                    sessionsAnswered += 1
                } else {
                    XCTAssertNil(held, "\(label): sessions at \(t), before the last event")
                }
                for client in [nil, "web", "code"] {
                    let counted = try XCTUnwrap(try tail.who(snapshot, at: t, client: client), "\(label): at \(t)")
                    XCTAssertEqual(counted, SessionQuery.who(states.filter { client == nil || $0.client == client }),
                                   "\(label): at \(t), client \(client ?? "-")")
                    answered += 1
                }
                let to = instants[min(i + 1 + i % 5, instants.count - 1)]
                if to > last, t < to {
                    let states = try LedgerFold(policy: policy, horizon: .before(to)).run(snapshot).derivation.sessions
                    XCTAssertEqual(try XCTUnwrap(try tail.sessions(snapshot, horizon: .before(to), readsFrom: t)).filter { $0.wasActive(from: t, to: to) },
                                   states.filter { $0.wasActive(from: t, to: to) }, "\(label): sessions from \(t) to \(to)")
                }
                let client = i % 4 == 0 ? "web" : nil
                let counted = try XCTUnwrap(try tail.who(snapshot, from: t, to: to, client: client), "\(label): from \(t) to \(to)")
                XCTAssertEqual(counted, try foldedWho(snapshot, policy, from: t, to: to, client: client), "\(label): from \(t) to \(to)")
            }
            // Before its checkpoint the tail does not answer (a stored stretch or a fold does).
            let before = Instant(nanoseconds: try snapshot.newestCheckpointInstant()!.nanoseconds - 1)
            XCTAssertNil(try tail.who(snapshot, at: before, client: nil), label)
            XCTAssertNil(try tail.sessions(snapshot, horizon: .all, readsFrom: before), label)
        }
        XCTAssertGreaterThanOrEqual(sessionsAnswered, 4, "\(label): the instants after the last event")
        return answered
    }

    func testTheTailAnswersAsAFoldOfTheWholeLogFromItsCheckpointOn() throws {
        var answered = 0, nonEmpty = 0
        for seed in UInt64(1)...8 {
            let (ledger, policy, events) = try seededLedgerWithCheckpoints(self, seed: seed, spacing: .every(40 + Int(seed)))
            let tail = LiveTail(policy: policy)
            answered += try compare(tail, ledger, policy, events, "seed \(seed)")
            try ledger.read { snapshot in
                let last = try snapshot.latestInstant()!
                if try tail.who(snapshot, at: last, client: nil)?.isEmpty == false { nonEmpty += 1 }
            }
            XCTAssertEqual(tail.builds, 1, "seed \(seed): one fold for every question on one head")
            XCTAssertEqual(tail.extensions, 0)
            // Another policy's checkpoints are not used, and without one the tail does not fold.
            try ledger.read { XCTAssertNil(try LiveTail(policy: .default).who($0, at: events.last!.at, client: nil)) }
        }
        XCTAssertGreaterThan(answered, 300)
        XCTAssertGreaterThan(nonEmpty, 4, "most logs end with someone signed in")
    }

    /// A range from before the tail's checkpoint to past it: the stored stretches up to the
    /// checkpoint count the sessions active by it, the tail's stretch those logged in after.
    func testARangeFromBeforeTheTailsCheckpointEqualsAFold() throws {
        var answered = 0, acrossThree = 0
        for seed in UInt64(1)...8 {
            let (ledger, policy, events) = try seededLedgerWithCheckpoints(self, seed: seed, spacing: .every(12 + Int(seed)))
            let tail = LiveTail(policy: policy)
            let instants = Set(events.map(\.at)).sorted()
            try ledger.read { snapshot in
                let checkpoints = try snapshot.checkpointInstants()
                let newest = try XCTUnwrap(checkpoints.last)
                let last = try XCTUnwrap(try snapshot.latestInstant())
                let ends = [Instant(nanoseconds: newest.nanoseconds + 2), last, last.saturatingAdding(.seconds(86_400))]
                for (i, from) in instants.enumerated() where i % 9 == 0 && from < newest {
                    let to = ends[i % ends.count]
                    let client = i % 2 == 0 ? "web" : nil
                    let counted = try XCTUnwrap(try tail.who(snapshot, from: from, to: to, client: client), "seed \(seed), from \(from) to \(to)")
                    XCTAssertEqual(counted, try foldedWho(snapshot, policy, from: from, to: to, client: client), "seed \(seed), from \(from) to \(to)")
                    answered += 1
                    if checkpoints.filter({ $0 >= from }).count >= 3 { acrossThree += 1 }
                }
                // An instant before the checkpoint is not the tail's to answer.
                XCTAssertNil(try tail.who(snapshot, at: Instant(nanoseconds: newest.nanoseconds - 1), client: nil))
            }
            XCTAssertEqual(tail.builds, 1, "seed \(seed)")
        }
        XCTAssertGreaterThan(answered, 100)
        XCTAssertGreaterThan(acrossThree, 40)
    }

    func testOnTimeEventsBringTheTailUpToDateAndALateOneOrANewCheckpointRefoldsIt() throws {
        for seed in UInt64(1)...4 {
            let (policy, events) = seededLog(seed: seed)
            let ledger = try Ledger(path: try temporaryDirectory(self) + "/l\(seed)", access: .readWrite)
            let options = AppendOptions.withoutCheckpoints
            _ = try ledger.append([InputSource(bytes: canonicalLines(events[..<250]))], options: options)
            XCTAssertGreaterThan(try ledger.writeCheckpoints(policy: policy, spacing: .every(60)), 2)
            let tail = LiveTail(policy: policy)
            _ = try compare(tail, ledger, policy, Array(events[..<250]), "seed \(seed), first part")

            // The rest of the log, moved later so that every event is at or after the last one
            // stored: applied to the tail as they come, in time order.
            let last = try ledger.read { try $0.latestInstant()! }
            let rest = events[250...]
            let shift = last.nanoseconds - rest.map(\.at.nanoseconds).min()!
            var moved = rest.map { event in
                var e = event
                e.at = Instant(nanoseconds: e.at.nanoseconds + shift)
                return e
            }
            // In two parts split at the median instant, each in the generator's order (not
            // always time order).
            let median = moved.map(\.at).sorted()[moved.count / 2]
            for part in [moved.filter { $0.at < median }, moved.filter { $0.at >= median }] {
                _ = try ledger.append([InputSource(bytes: canonicalLines(part))], options: options)
                _ = try compare(tail, ledger, policy, Array(events[..<250]) + moved, "seed \(seed), moved")
            }
            XCTAssertEqual(tail.builds, 1, "seed \(seed)")
            XCTAssertEqual(tail.extensions, 2, "seed \(seed)")

            // A late event (older than the tail's last) cannot be applied after it: folded again.
            let now = try ledger.read { try $0.latestInstant()! }
            let late = Event(kind: .logoutAll, at: Instant(nanoseconds: now.nanoseconds - 1), user: "alice", session: "late-1")
            _ = try ledger.append([InputSource(bytes: canonicalLines([late]))], options: options)
            moved.append(late)
            _ = try compare(tail, ledger, policy, Array(events[..<250]) + moved, "seed \(seed), late")
            XCTAssertEqual(tail.builds, 2, "seed \(seed)")
            XCTAssertEqual(tail.extensions, 2, "seed \(seed)")

            // Newer checkpoints: folded again from the newest.
            XCTAssertGreaterThan(try ledger.writeCheckpoints(policy: policy, spacing: .every(60)), 0)
            _ = try compare(tail, ledger, policy, Array(events[..<250]) + moved, "seed \(seed), new checkpoints")
            XCTAssertEqual(tail.builds, 3, "seed \(seed)")

            // More new events than it extends by: folded again.
            tail.extendAtMost = 3
            let later = try ledger.read { try $0.latestInstant()! }
            let logins = (1...5).map { k in
                Event(kind: .login, at: later.saturatingAdding(.seconds(Int64(k) * 60)), user: "dora", session: "d\(k)", client: "web", method: "google")
            }
            _ = try ledger.append([InputSource(bytes: canonicalLines(logins))], options: options)
            moved += logins
            _ = try compare(tail, ledger, policy, Array(events[..<250]) + moved, "seed \(seed), many new")
            XCTAssertEqual(tail.builds, 4, "seed \(seed)")
            XCTAssertEqual(tail.extensions, 2, "seed \(seed)")

            // A late event older than the newest checkpoint removes it (and any after it): folded
            // again from the newest left.
            let (newest, count) = try ledger.read { (try $0.newestCheckpointInstant()!, try $0.checkpointCount()) }
            let older = Event(kind: .logoutAll, at: Instant(nanoseconds: newest.nanoseconds - 1), user: "bob", session: "late-2")
            _ = try ledger.append([InputSource(bytes: canonicalLines([older]))], options: options)
            moved.append(older)
            try ledger.read { snapshot in
                XCTAssertLessThan(try snapshot.checkpointCount(), count, "seed \(seed)")
                XCTAssertLessThan(try XCTUnwrap(try snapshot.newestCheckpointInstant()), newest, "seed \(seed)")
            }
            _ = try compare(tail, ledger, policy, Array(events[..<250]) + moved, "seed \(seed), checkpoint removed")
            XCTAssertEqual(tail.builds, 5, "seed \(seed)")
        }
    }
}
