import Foundation
import XCTest

/// Fixtures/incident-april: every expected value worked out by hand in its README.md.
final class IncidentFixtureTests: XCTestCase {
    let folder = fixturesDirectory + "/incident-april"

    func load(_ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)")))
    }

    func testReplayWhoAndUserGiveTheHandWorkedAnswers() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, folder + "/events.ndjson"]).status, 0)

        let replay = try Sledger.run(["replay", "--ledger", ledger, "--format", "json"])
        XCTAssertEqual(replay.status, 1, "error findings make replay exit 1")
        let report = try JSONSerialization.jsonObject(with: Data(replay.stdout.utf8)) as! [String: Any]
        let expected = try load("expected-replay.json") as! [String: Any]
        XCTAssertEqual(report["events"] as? Int, expected["events"] as? Int)
        let keys = ["rule", "severity", "seq", "at", "user", "session"]
        func strip(_ list: [[String: Any]]) -> [NSDictionary] {
            list.map { f in NSDictionary(dictionary: f.filter { keys.contains($0.key) }) }
        }
        XCTAssertEqual(strip(report["findings"] as! [[String: Any]]), strip(expected["findings"] as! [[String: Any]]))
        let summary = report["summary"] as! [String: Int]
        XCTAssertEqual(summary["refresh-after-end"], 2)
        XCTAssertEqual(summary.values.reduce(0, +), 8)

        for (t, users) in try load("expected-who.json") as! [String: [[String: Any]]] {
            let who = try Sledger.run(["who", "--ledger", ledger, "--at", t, "--format", "json"])
            let got = try JSONSerialization.jsonObject(with: Data(who.stdout.utf8)) as! [[String: Any]]
            XCTAssertEqual(got.map { $0 as NSDictionary }, users.map { $0 as NSDictionary }, t)
        }

        let sessions = try load("expected-sessions.json") as! [String: Any]
        let user = try Sledger.run(["user", "--ledger", ledger, sessions["user"] as! String, "--at", sessions["T"] as! String, "--format", "json"])
        let got = try JSONSerialization.jsonObject(with: Data(user.stdout.utf8)) as! [[String: Any]]
        XCTAssertEqual(got.map { $0 as NSDictionary }, (sessions["sessions"] as! [[String: Any]]).map { $0 as NSDictionary })
    }

    func testNarrowingByUserReportsThatUsersFindingsOfTheFullReplay() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, folder + "/events.ndjson"]).status, 0)
        let lee = try Sledger.run(["replay", "--ledger", ledger, "--user", "lee.contractor@acme.example", "--format", "ndjson"])
        let rules = lee.stdout.split(separator: "\n").map { $0.components(separatedBy: "\"rule\":\"")[1].components(separatedBy: "\"")[0] }
        XCTAssertEqual(rules, ["login-method", "logout-all-client"])
        let quiet = try Sledger.run(["replay", "--ledger", ledger, "--user", "nobody", "--format", "ndjson"])
        XCTAssertEqual(quiet.status, 0)
        XCTAssertEqual(quiet.stdout, "")
    }

    func testTheSessionTimelineShowsTheUseAfterLogoutAllAndTheDerivedExpiry() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, folder + "/events.ndjson"]).status, 0)
        let result = try Sledger.run(["session", "--ledger", ledger, "s_dana_web", "--format", "ndjson"])
        var rows = try result.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        // First the session's record, then its timeline.
        let record = rows.removeFirst()
        XCTAssertEqual(record["status"] as? String, "logout_all")
        XCTAssertEqual(record["ended_at"] as? String, "2026-04-06T12:00:00Z")
        XCTAssertEqual(record["refresh_count"] as? Int, 1)
        XCTAssertEqual(rows.map { $0["seq"] as? Int }, [1, 2, 4, 5, 6])
        XCTAssertEqual(rows.map { $0["status"] as? String }, ["active", "active", "logout_all", "logout_all", "logout_all"])
        // The kiosk session (28 days from 2026-04-08T09:00Z) expired at 2026-05-06T09:00Z: a derived row.
        let kiosk = try Sledger.run(["session", "--ledger", ledger, "s_kiosk_1", "--at", "2026-06-01T00:00:00Z", "--format", "ndjson"])
        let last = try JSONSerialization.jsonObject(with: Data(kiosk.stdout.split(separator: "\n").last!.utf8)) as! [String: Any]
        XCTAssertEqual(last["type"] as? String, "expired")
        XCTAssertEqual(last["at"] as? String, "2026-05-06T09:00:00Z")
        XCTAssertEqual(last["derived"] as? Bool, true)
    }
}

extension IncidentFixtureTests {
    func testDiffPolicyListsTheSessionsA14DayLifetimeWouldHaveExpired() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, folder + "/events.ndjson"]).status, 0)
        let policy = fixturesDirectory + "/policies/14-days.json"
        let diff = try Sledger.run(["diff-policy", "--ledger", ledger, "default", policy, "--at", "2026-04-25T00:00:00Z", "--format", "json"])
        XCTAssertEqual(diff.status, 0, diff.stderr)
        let rows = try JSONSerialization.jsonObject(with: Data(diff.stdout.utf8)) as! [[String: Any]]
        XCTAssertEqual(rows.map { $0["session"] as? String }, ["s_dana_web2", "s_kiosk_1"])
        XCTAssertEqual(rows.map { $0["status_a"] as? String }, ["active", "active"])
        XCTAssertEqual(rows.map { $0["status_b"] as? String }, ["expired", "expired"])
        XCTAssertEqual(rows.map { $0["expires_at_b"] as? String }, ["2026-04-20T14:20:00Z", "2026-04-22T09:00:00Z"])

        // The same question through replay --policy and sessions --policy.
        let sessions = try Sledger.run(["sessions", "--ledger", ledger, "--policy", policy, "--at", "2026-04-25T00:00:00Z", "--format", "json"])
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(sessions.stdout.utf8)) as! [[String: Any]] as NSArray, [] as NSArray)
        let replay = try Sledger.run(["replay", "--ledger", ledger, "--policy", policy, "--format", "json"])
        let findings = (try JSONSerialization.jsonObject(with: Data(replay.stdout.utf8)) as! [String: Any])["findings"] as! [[String: Any]]
        XCTAssertEqual(findings.count, 8)
    }

    /// Over a range, `sessions --policy F` and `who --policy F` fold with F (no checkpoint is
    /// F's: each session is handed over as it settles). Worked out from the 15 events: every
    /// session but two has ended by 2026-04-09 (logout_all, logout, token deletion). Under
    /// 14 days, s_dana_web2 (last extended 2026-04-06T14:20Z) expires at 2026-04-20T14:20Z and
    /// s_kiosk_1 (logged in 2026-04-08T09:00Z, never refreshed; `kiosk` takes the default
    /// client's lifetime) at 2026-04-22T09:00Z; under the default's 28 days both are active
    /// until May.
    func testRangesUnderAnotherPolicyFoldWithIt() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, folder + "/events.ndjson"]).status, 0)
        let fourteen = ["--policy", fixturesDirectory + "/policies/14-days.json"]
        let dayAfter = ["--from", "2026-04-23T00:00:00Z", "--to", "2026-04-24T00:00:00Z"]
        let acrossKioskExpiry = ["--from", "2026-04-21T00:00:00Z", "--to", "2026-04-23T00:00:00Z"]
        let both = (sessions: ["s_dana_web2", "s_kiosk_1"], who: "user,sessions\ndana.okafor@acme.example,1\nfront.desk@acme.example,1\n")
        let expected: [(args: [String], sessions: [String], who: String)] = [
            (dayAfter, both.sessions, both.who),
            (fourteen + dayAfter, [], "user,sessions\n"),
            (acrossKioskExpiry, both.sessions, both.who),
            (fourteen + acrossKioskExpiry, ["s_kiosk_1"], "user,sessions\nfront.desk@acme.example,1\n"),
        ]
        for (args, ids, counted) in expected {
            let sessions = try Sledger.run(["sessions", "--ledger", ledger, "--format", "csv"] + args)
            let who = try Sledger.run(["who", "--ledger", ledger, "--format", "csv"] + args)
            XCTAssertEqual(sessions.status, 0, sessions.stderr)
            XCTAssertEqual(sessions.stdout.split(separator: "\n").dropFirst().map { String($0.prefix { $0 != "," }) }, ids, "\(args)")
            XCTAssertEqual(who.status, 0, who.stderr)
            XCTAssertEqual(who.stdout, counted, "\(args)")
        }
    }

    func testPolicyPrintsTheDefaultAndABadPolicyFileNamesTheKey() throws {
        let printed = try Sledger.run(["policy"])
        XCTAssertEqual(printed.status, 0)
        let policy = try JSONSerialization.jsonObject(with: Data(printed.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(policy["name"] as? String, "web-28d")
        XCTAssertEqual(policy["max_skew"] as? String, "5m")
        let bad = try temporaryDirectory(self) + "/bad.json"
        try printed.stdout.replacingOccurrences(of: "\"5m\"", with: "\"5 minutes\"").write(toFile: bad, atomically: false, encoding: .utf8)
        let refused = try Sledger.run(["policy", "--policy", bad])
        XCTAssertEqual(refused.status, 2)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1)
        XCTAssertTrue(refused.stderr.contains("max_skew"), refused.stderr)
    }
}
