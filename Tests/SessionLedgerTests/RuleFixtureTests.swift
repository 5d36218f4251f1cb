import Foundation
import XCTest
@testable import SessionLedger

/// Runs every case of `Fixtures/rules/` (see its README.md) through the replay harness and
/// the session queries, and compares with the outputs worked out by hand.
final class RuleFixtureTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/rules")

    /// One finding as the fixtures write it.
    struct FindingRow: Equatable, CustomStringConvertible {
        var rule: String, severity: String, seq: UInt64, at: String, user: String, session: String?
        var description: String { "\(rule) \(severity) seq \(seq) at \(at) user \(user) session \(session ?? "-")" }
    }

    /// One session record as the fixtures write it.
    struct SessionRow: Equatable {
        var session: String, user: String, client: String, method: String
        var loginAt: String, lastExtendedAt: String, expiresAt: String?, refreshCount: Int, status: String
        var endedAt: String?, endReason: String?
    }

    struct Case {
        var name: String
        var events: [StoredEvent]
        var policy: Policy
        var checkFuture: Bool
        var expected: [String: Any]
    }

    static func loadCases() throws -> [Case] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".ndjson") }.map { String($0.dropLast(".ndjson".count)) }.sorted()
        return try names.map { name in
            func file(_ suffix: String) -> URL { folder.appendingPathComponent(name + suffix) }
            let events = TestNDJSON.events(try String(contentsOf: file(".ndjson"), encoding: .utf8))
            var policy = Policy.default
            if FileManager.default.fileExists(atPath: file(".policy.json").path) {
                policy = try Policy(json: Array(try Data(contentsOf: file(".policy.json"))))
            }
            var recorded: [Instant]?
            if FileManager.default.fileExists(atPath: file(".recorded.json").path) {
                let list = try JSONSerialization.jsonObject(with: Data(contentsOf: file(".recorded.json"))) as! [String]
                recorded = list.map(TestNDJSON.instant)
                XCTAssertEqual(list.count, events.count, "\(name): one recorded instant per event")
            }
            let stored = events.enumerated().map { i, e in
                StoredEvent(seq: UInt64(i + 1), recorded: recorded?[i] ?? e.at, event: e)
            }
            let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: file(".expected.json"))) as! [String: Any]
            return Case(name: name, events: stored, policy: policy, checkFuture: recorded != nil, expected: expected)
        }
    }

    static func row(_ f: Finding) -> FindingRow {
        FindingRow(rule: f.rule.name, severity: f.severity.name, seq: f.seq, at: f.at.description, user: f.user,
                   session: f.session)
    }

    static func findingRow(_ o: [String: Any]) -> FindingRow {
        FindingRow(rule: o["rule"] as! String, severity: o["severity"] as! String, seq: UInt64(o["seq"] as! Int),
                   at: TestNDJSON.instant(o["at"] as! String).description, user: o["user"] as! String,
                   session: o["session"] as? String)
    }

    static func row(_ s: SessionState, at t: Instant) -> SessionRow {
        SessionRow(session: s.session, user: s.user, client: s.client, method: s.method,
                   loginAt: s.loginAt.description, lastExtendedAt: s.lastExtendedAt.description,
                   expiresAt: s.expiresAt?.description, refreshCount: s.refreshCount, status: s.status(at: t).name,
                   endedAt: s.endedAt?.description, endReason: s.endReason?.name)
    }

    static func sessionRow(_ o: [String: Any]) -> SessionRow {
        func instant(_ key: String) -> String? { (o[key] as? String).map { TestNDJSON.instant($0).description } }
        return SessionRow(session: o["session"] as! String, user: o["user"] as! String, client: o["client"] as! String,
                          method: o["method"] as! String, loginAt: instant("login_at")!,
                          lastExtendedAt: instant("last_extended_at")!, expiresAt: instant("expires_at"),
                          refreshCount: o["refresh_count"] as! Int, status: o["status"] as! String,
                          endedAt: instant("ended_at"), endReason: o["end_reason"] as? String)
    }

    /// The events in the order the derivation applies them.
    static func timeOrdered(_ events: [StoredEvent]) -> [StoredEvent] {
        events.sorted { ($0.event.at, $0.seq) < ($1.event.at, $1.seq) }
    }

    func testTheFixtureFolderHoldsTheCases() throws {
        let cases = try Self.loadCases()
        XCTAssertGreaterThanOrEqual(cases.count, 30)
    }

    func testEveryCaseGivesTheFindingsWorkedOutByHand() throws {
        for c in try Self.loadCases() {
            // Given the log of the case, when it is replayed,
            let replay = Replay(c.events, policy: c.policy, checkFuture: c.checkFuture)
            // then the findings are the expected ones, in the expected order,
            let expected = (c.expected["findings"] as! [[String: Any]]).map(Self.findingRow)
            XCTAssertEqual(replay.findings.map(Self.row), expected, "\(c.name): findings")
            // each with a message that names its instant.
            for f in replay.findings {
                XCTAssertTrue(f.message.contains(f.at.description), "\(c.name): message \(f.message)")
            }
            XCTAssertEqual(replay.events, c.events.count, c.name)
        }
    }

    func testEveryCaseGivesTheSessionsWorkedOutByHandAtEachCheckpoint() throws {
        for c in try Self.loadCases() {
            let ordered = Self.timeOrdered(c.events)
            for checkpoint in c.expected["sessions_at"] as! [[String: Any]] {
                let t = TestNDJSON.instant(checkpoint["T"] as! String)
                // Given the events with at <= T, when their state is derived,
                let state = SessionQuery.state(asOf: t, events: ordered, policy: c.policy)
                // then every session and its status at T are the expected ones,
                let expected = (checkpoint["sessions"] as! [[String: Any]]).map(Self.sessionRow)
                XCTAssertEqual(state.sessions.map { Self.row($0, at: t) }, expected, "\(c.name) at \(t)")
                // and `sessions --at T` lists exactly the active ones.
                XCTAssertEqual(SessionQuery.active(at: t, events: ordered, policy: c.policy).map(\.session),
                               expected.filter { $0.status == "active" }.map(\.session), "\(c.name) active at \(t)")
            }
        }
    }

    func testEveryCaseGivesTheSessionsActiveDuringEachRange() throws {
        for c in try Self.loadCases() {
            let ordered = Self.timeOrdered(c.events)
            for range in c.expected["active_during"] as? [[String: Any]] ?? [] {
                let from = TestNDJSON.instant(range["from"] as! String)
                let to = TestNDJSON.instant(range["to"] as! String)
                XCTAssertEqual(SessionQuery.active(from: from, to: to, events: ordered, policy: c.policy).map(\.session),
                               range["sessions"] as! [String], "\(c.name) during [\(from), \(to))")
            }
        }
    }

    func testEveryRuleAndEveryStatusAppearsInSomeCase() throws {
        let cases = try Self.loadCases()
        let rules = Set(cases.flatMap { ($0.expected["findings"] as! [[String: Any]]).map { $0["rule"] as! String } })
        XCTAssertEqual(rules, Set(Finding.Rule.allCases.map(\.name)))
        let statuses = Set(cases.flatMap { c in
            (c.expected["sessions_at"] as! [[String: Any]]).flatMap { ($0["sessions"] as! [[String: Any]]).map { $0["status"] as! String } }
        })
        XCTAssertEqual(statuses, Set(SessionState.Status.allCases.map(\.name)).subtracting(["not_started"]))
    }

    func testEveryFixtureLineIsInCanonicalKeyOrderAndValidLooking() throws {
        let order = ["type", "at", "user", "session", "client", "method", "id", "ip", "agent", "meta"]
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.folder.path) where name.hasSuffix(".ndjson") {
            let text = try String(contentsOf: Self.folder.appendingPathComponent(name), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let o = TestNDJSON.object(String(line))
                let keys = Set(o.keys)
                XCTAssertTrue(keys.isSubset(of: Set(order)), "\(name): \(line)")
                let positions = order.compactMap { line.range(of: "\"\($0)\":")?.lowerBound }
                XCTAssertEqual(positions, positions.sorted(), "\(name): keys out of order in \(line)")
                let kind = Event.Kind(name: o["type"] as! String)
                XCTAssertNotNil(kind, "\(name): \(line)")
                XCTAssertNotNil(Instant(rfc3339: o["at"] as! String), "\(name): \(line)")
                XCTAssertEqual(kind == .login, keys.contains("client") && keys.contains("method"), "\(name): \(line)")
                XCTAssertTrue(kind == .logoutAll || keys.contains("session"), "\(name): \(line)")
            }
        }
    }
}
