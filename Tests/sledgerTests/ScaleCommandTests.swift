import Foundation
import XCTest

/// Issue 4 through the real command line: checkpoints and `replay --jobs` change how long an
/// answer takes, never the answer.
final class ScaleCommandTests: XCTestCase {
    func testReplayWithTwoJobsPrintsExactlyWhatOneJobPrints() throws {
        let dir = try temporaryDirectory(self)
        for (name, file) in [("team", "team-quarter/events.ndjson"), ("incident", "incident-april/events.ndjson")] {
            let ledger = dir + "/" + name
            XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, fixturesDirectory + "/" + file]).status, 0)
            for format in ["json", "table", "csv"] {
                let one = try Sledger.run(["replay", "--ledger", ledger, "--format", format])
                if name == "incident" { XCTAssertEqual(one.status, 1, "the incident has error findings to order") }
                for jobs in ["2", "3"] {
                    let many = try Sledger.run(["replay", "--ledger", ledger, "--format", format, "--jobs", jobs])
                    XCTAssertEqual(many.stdout, one.stdout, "\(name), \(format), --jobs \(jobs)")
                    XCTAssertEqual(many.status, one.status, "\(name), \(format), --jobs \(jobs)")
                }
            }
        }
    }

    /// `replay --user U` and `--session S` fold only the events their findings depend on
    /// (`UserLog`): each prints, finding for finding and step for step, the lines of the whole
    /// log's replay that are about U's events (or S's), and exits as it would.
    func testReplayOfOneUserOrSessionPrintsTheWholeLogsLinesAboutThem() throws {
        let dir = try temporaryDirectory(self)
        func field(_ line: String, _ name: String) throws -> String? {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?[name] as? String
        }
        func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }
        var readLess = 0
        for (name, file) in [("team", "team-quarter/events.ndjson"), ("incident", "incident-april/events.ndjson")] {
            let ledger = dir + "/" + name
            let imported = try Sledger.run(["import", "--ledger", ledger, fixturesDirectory + "/" + file])
            XCTAssertEqual(imported.status, 0)
            let eventCount = try Sledger.eventCount(ledger)
            let findings = try Sledger.run(["replay", "--ledger", ledger, "--format", "ndjson"])
            let steps = try Sledger.run(["replay", "--ledger", ledger, "--format", "ndjson", "--trace"])
            let users = Set(try lines(steps.stdout).compactMap { try field($0, "user") }).sorted()
            let sessions = Set(try lines(steps.stdout).compactMap { try field($0, "session") }).sorted()
            XCTAssertGreaterThan(users.count, 1, name)
            /// Up to eight, spread over the sorted ids (a process each costs a fraction of a second).
            func some(_ ids: [String]) -> [String] { stride(from: 0, to: ids.count, by: max(1, ids.count / 8)).map { ids[$0] } }
            for (option, value) in some(users).map({ ("--user", $0) }) + some(sessions).map({ ("--session", $0) }) {
                let key = option == "--user" ? "user" : "session"
                let expected = try lines(findings.stdout).filter { try field($0, key) == value }
                let narrowed = try Sledger.run(["replay", "--ledger", ledger, "--format", "ndjson", option, value])
                XCTAssertEqual(lines(narrowed.stdout), expected, "\(name) \(option) \(value)")
                XCTAssertEqual(narrowed.status, expected.contains { $0.contains(#""severity":"error""#) } ? 1 : 0, "\(name) \(option) \(value)")
                let traced = try Sledger.run(["replay", "--ledger", ledger, "--format", "ndjson", "--trace", option, value])
                XCTAssertEqual(lines(traced.stdout), try lines(steps.stdout).filter { try field($0, key) == value }, "\(name) \(option) \(value) --trace")
                let table = try Sledger.run(["replay", "--ledger", ledger, option, value])
                // "replayed N of the ledger's M events ...": M as `stats` counts, N at most M.
                let summary = try XCTUnwrap(table.stdout.split(separator: "\n").first { $0.hasPrefix("replayed ") }, table.stdout)
                let numbers = summary.split(separator: " ").compactMap { Int($0) }
                XCTAssertEqual(numbers.count, 4, String(summary))  // N, M, errors, warnings
                XCTAssertTrue(summary.contains(" of the ledger's \(eventCount) events (those the findings of \(key) \(value) depend on)"), String(summary))
                XCTAssertLessThanOrEqual(numbers[0], eventCount)
                readLess += numbers[0] < eventCount ? 1 : 0
            }
        }
        XCTAssertGreaterThan(readLess, 0, "a narrowed replay reads fewer events than the ledger holds")
    }

    func testJobsOutsideOneTo64AreRefusedInOneLine() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, fixturesDirectory + "/team-quarter/events.ndjson"]).status, 0)
        for jobs in ["0", "65", "256"] {
            let refused = try Sledger.run(["replay", "--ledger", ledger, "--jobs", jobs])
            XCTAssertNotEqual(refused.status, 0, "--jobs \(jobs)")
            XCTAssertEqual(refused.stdout, "", "--jobs \(jobs)")
            XCTAssertTrue(refused.stderr.contains("--jobs must be from 1 to 64"), refused.stderr)
        }
        let one = try Sledger.run(["replay", "--ledger", ledger])
        let most = try Sledger.run(["replay", "--ledger", ledger, "--jobs", "64"])
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertFalse(one.stdout.isEmpty)
        XCTAssertEqual(most.status, one.status, most.stderr)
        XCTAssertEqual(most.stdout, one.stdout)
    }

    func testWhoAndSessionsAnswerTheSameFromCheckpoints() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, fixturesDirectory + "/team-quarter/events.ndjson"]).status, 0)
        let questions: [[String]] = ["2026-01-05T12:00:00Z", "2026-02-01T00:00:00Z", "2026-02-14T09:30:00Z", "2026-03-31T23:59:59Z"].flatMap { t in
            [["who", "--at", t], ["who", "--at", t, "--client", "web", "--format", "csv"], ["sessions", "--at", t, "--format", "ndjson"]]
        } + [["who", "--from", "2026-02-01T00:00:00Z", "--to", "2026-02-03T00:00:00Z"],
             ["sessions", "--from", "2026-03-01T00:00:00Z", "--to", "2026-03-02T00:00:00Z", "--format", "csv"]]
        let before = try questions.map { try Sledger.run($0 + ["--ledger", ledger]).stdout }
        XCTAssertTrue(before.allSatisfy { !$0.isEmpty })
        // 7,987 events: 15 full stretches of 500, then a tail an hour before the newest event
        // (the 487 events after the 7,500th reach far more than a sixty-fourth of 500 by then).
        XCTAssertEqual(try Sledger.run(["checkpoint", "--ledger", ledger, "--spacing", "500"]).stdout, "wrote 16 checkpoints; 16 in all\n")
        let after = try questions.map { try Sledger.run($0 + ["--ledger", ledger]).stdout }
        XCTAssertEqual(after, before)
        let check = try Sledger.run(["check", "--ledger", ledger])
        XCTAssertEqual(check.status, 0)
        XCTAssertTrue(check.stdout.contains("; 16 checkpoints verified"), check.stdout)
    }
}
