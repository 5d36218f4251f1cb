import Foundation
import XCTest

/// Runs every hand-made case of Fixtures/rules through the real command line, twice: as a
/// file (`replay --input`) and through a ledger (`import`, then `replay` and `sessions --at`,
/// which read the store's log in time order). Expected values are the ones worked
/// out by hand from SPEC.md in each NAME.expected.json (see Fixtures/rules/README.md).
final class RuleFixtureCommandTests: XCTestCase {
    let directory = fixturesDirectory + "/rules"
    let findingKeys = ["rule", "severity", "seq", "at", "user", "session"]

    func cases() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".ndjson") }.map { String($0.dropLast(".ndjson".count)) }.sorted()
    }

    func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    func expected(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name).expected.json"))) as! [String: Any]
    }

    func policyArguments(_ name: String) -> [String] {
        let path = "\(directory)/\(name).policy.json"
        return FileManager.default.fileExists(atPath: path) ? ["--policy", path] : []
    }

    /// The findings as comparable strings (messages are prose and not compared).
    func normalized(_ findings: [[String: Any]], dropping rule: String? = nil) -> [String] {
        findings.filter { ($0["rule"] as? String) != rule }.map { f in
            findingKeys.map { key in "\(key)=\(f[key].map { "\($0)" } ?? "nil")" }.joined(separator: " ")
        }
    }

    func testReplayOfEachFileReportsTheHandWorkedFindings() throws {
        XCTAssertGreaterThan(try cases().count, 20)
        for name in try cases() {
            let hasRecorded = FileManager.default.fileExists(atPath: "\(directory)/\(name).recorded.json")
            let result = try Sledger.run(["replay", "--input", "\(directory)/\(name).ndjson", "--format", "json"] + policyArguments(name))
            let report = try json(result.stdout) as! [String: Any]
            let findings = report["findings"] as! [[String: Any]]
            let expectedFindings = try expected(name)["findings"] as! [[String: Any]]
            // An --input file has no `recorded`: future-event cannot be raised from it.
            XCTAssertEqual(normalized(findings), normalized(expectedFindings, dropping: hasRecorded ? "future-event" : nil), name)
            let errors = expectedFindings.contains { ($0["severity"] as? String) == "error" && ($0["rule"] as? String) != "future-event" }
            XCTAssertEqual(result.status, errors ? 1 : 0, name)
        }
    }

    func testTheSameCasesThroughALedgerGiveTheSameFindingsAndSessions() throws {
        let root = try temporaryDirectory(self)
        for name in try cases() {
            let hasRecorded = FileManager.default.fileExists(atPath: "\(directory)/\(name).recorded.json")
            let ledger = "\(root)/\(name)"
            let imported = try Sledger.run(["import", "--ledger", ledger, "\(directory)/\(name).ndjson"])
            XCTAssertEqual(imported.status, 0, "\(name): \(imported.stderr)")
            let result = try Sledger.run(["replay", "--ledger", ledger, "--format", "json"] + policyArguments(name))
            let findings = (try json(result.stdout) as! [String: Any])["findings"] as! [[String: Any]]
            // The ledger's `recorded` is the import's clock, months after these events: no future-event.
            let expectedFindings = try expected(name)["findings"] as! [[String: Any]]
            XCTAssertEqual(normalized(findings), normalized(expectedFindings, dropping: hasRecorded ? "future-event" : nil), name)

            for checkpoint in try expected(name)["sessions_at"] as? [[String: Any]] ?? [] {
                let t = checkpoint["T"] as! String
                let listed = try Sledger.run(["sessions", "--ledger", ledger, "--at", t, "--format", "json"] + policyArguments(name))
                XCTAssertEqual(listed.status, 0, listed.stderr)
                let sessions = try json(listed.stdout) as! [[String: Any]]
                let all = checkpoint["sessions"] as! [[String: Any]]
                let active = all.filter { ($0["status"] as? String) == "active" }
                XCTAssertEqual(sessions.map { $0 as NSDictionary }, active.map { $0 as NSDictionary }, "\(name) at \(t)")
                // Every session of each user, whatever its status: full records with ended_at and end_reason.
                for user in Set(all.map { $0["user"] as! String }) {
                    let records = try Sledger.run(["user", "--ledger", ledger, user, "--at", t, "--format", "json"] + policyArguments(name))
                    let got = try json(records.stdout) as! [[String: Any]]
                    XCTAssertEqual(got.map { $0 as NSDictionary }, all.filter { ($0["user"] as! String) == user }.map { $0 as NSDictionary },
                                   "\(name): user \(user) at \(t)")
                }
            }
            for range in try expected(name)["active_during"] as? [[String: Any]] ?? [] {
                let listed = try Sledger.run(["sessions", "--ledger", ledger, "--from", range["from"] as! String, "--to", range["to"] as! String,
                                              "--format", "json"] + policyArguments(name))
                XCTAssertEqual(listed.status, 0, listed.stderr)
                let ids = (try json(listed.stdout) as! [[String: Any]]).map { $0["session"] as! String }
                XCTAssertEqual(ids, range["sessions"] as! [String], "\(name) during [\(range["from"]!), \(range["to"]!))")
            }
        }
    }
}
