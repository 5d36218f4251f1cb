import Foundation
import XCTest

/// The queries over HTTP, checked against Fixtures/incident-april's hand-worked expectations.
final class ServerQueryTests: XCTestCase {
    func fixtureServer() async throws -> ServerProcess {
        let server = try ServerProcess(self)
        try await server.post(try repositoryFile("Fixtures/incident-april/events.ndjson")).assertOK()
        return server
    }

    func fixture(_ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try repositoryFile("Fixtures/incident-april/" + name).utf8))
    }

    func testWhoAtEachInstantIsTheFixturesHandWorkedAnswer() async throws {
        let server = try await fixtureServer()
        let expected = try fixture("expected-who.json") as! [String: [[String: Any]]]
        for (instant, records) in expected {
            let answer = try await server.get("/v1/who?at=\(instant)")
            XCTAssertEqual(answer.status, 200)
            XCTAssertEqual(answer.contentType, "application/json")
            XCTAssertEqual(answer.records as NSArray, records as NSArray, instant)
        }
    }

    /// Past the last checkpoint the server counts from the tail it keeps (`LiveTail`): the
    /// fixture's hand-worked answer, and once an event is posted, what `sledger who` and
    /// `sledger sessions` (folds, in their own process) answer on the same ledger.
    func testWhoPastTheLastCheckpointIsTheFixturesAnswerAndFollowsPostedEvents() async throws {
        let ledger = try temporaryLedger(self)
        try runSledger(["append", "--ledger", ledger], stdin: try repositoryFile("Fixtures/incident-april/events.ndjson"))
        // Checkpoints every 4 events in time order: the last at the 12th, 2026-04-07T10:00:00Z.
        try runSledger(["checkpoint", "--ledger", ledger, "--spacing", "4"])
        let server = try ServerProcess(self, ledger: ledger)
        let expected = try fixture("expected-who.json") as! [String: [[String: Any]]]
        for (instant, records) in expected {
            let answer = try await server.get("/v1/who?at=\(instant)")
            XCTAssertEqual(answer.records as NSArray, records as NSArray, instant)
        }
        try await server.post(login("inc-16", user: "new.hire@acme.example", session: "s_new", at: "2026-04-08T11:00:00Z") + "\n").assertOK()
        for t in ["2026-04-08T10:59:59Z", "2026-04-08T11:00:00Z", "2026-04-09T00:00:00Z", "2026-06-01T00:00:00Z"] {
            let folded = try runSledger(["who", "--ledger", ledger, "--at", t, "--format", "csv"])
            let answer = try await server.get("/v1/who?at=\(t)&format=csv")
            XCTAssertEqual(answer.text, folded, t)
            XCTAssertEqual(folded.contains("new.hire"), t == "2026-04-08T11:00:00Z" || t == "2026-04-09T00:00:00Z", t)
            // `sessions` too, which the tail answers at or after the last event.
            let sessions = try await server.get("/v1/sessions?at=\(t)&format=csv")
            XCTAssertEqual(sessions.text, try runSledger(["sessions", "--ledger", ledger, "--at", t, "--format", "csv"]), t)
        }
        let range = "from=2026-04-08T09:30:00Z&to=2026-04-08T11:00:01Z"
        let answer = try await server.get("/v1/who?\(range)&format=csv")
        XCTAssertEqual(answer.text, try runSledger(["who", "--ledger", ledger, "--from", "2026-04-08T09:30:00Z", "--to", "2026-04-08T11:00:01Z", "--format", "csv"]))
    }

    /// Answers that go to a temporary file past their first bytes (here past none, or past
    /// 100) are sent whole: what the same commands print, byte for byte. A `TMPDIR` that
    /// cannot take the file makes the query a 500 that names it.
    func testAnswersSentFromTheirTemporaryFileAreTheCommandsOutput() async throws {
        let ledger = try temporaryLedger(self)
        try runSledger(["append", "--ledger", ledger], stdin: try repositoryFile("Fixtures/incident-april/events.ndjson"))
        let range = ["--from", "2026-04-01T00:00:00Z", "--to", "2026-04-09T00:00:00Z"]
        let queries: [(path: String, command: [String])] = [
            ("/v1/sessions?from=2026-04-01T00:00:00Z&to=2026-04-09T00:00:00Z&format=csv", ["sessions"] + range + ["--format", "csv"]),
            ("/v1/sessions?at=2026-04-07T10:00:00Z", ["sessions", "--at", "2026-04-07T10:00:00Z", "--format", "json"]),
            ("/v1/who?from=2026-04-01T00:00:00Z&to=2026-04-09T00:00:00Z&format=ndjson", ["who"] + range + ["--format", "ndjson"]),
        ]
        for memoryBytes in ["0", "100"] {
            let server = try ServerProcess(self, ledger: ledger, environment: ["SLEDGER_ANSWER_MEMORY_BYTES": memoryBytes])
            for (path, command) in queries {
                let printed = try runSledger(command + ["--ledger", ledger])
                XCTAssertGreaterThan(printed.utf8.count, 100, path)
                let answer = try await server.get(path)
                XCTAssertEqual(answer.status, 200, path)
                XCTAssertEqual(answer.text, printed, "\(path), \(memoryBytes) bytes in memory")
            }
            server.stop()
        }
        let missing = try temporaryLedger(self) + "-not-there"
        let refusing = try ServerProcess(self, ledger: ledger, environment: ["SLEDGER_ANSWER_MEMORY_BYTES": "0", "TMPDIR": missing])
        let answer = try await refusing.get(queries[0].path)
        XCTAssertEqual(answer.status, 500)
        XCTAssertTrue((answer.object["error"] as? String ?? "").contains("cannot create a temporary file in \(missing)"), answer.text)
    }

    /// With one long query at a time (`--long-queries 1`, the default), many sent at once
    /// beside short ones all come back whole, each the command's output (that they wait in
    /// their lanes is QueryLanesTests').
    func testManyLongAndShortQueriesSentAtOnceAllAnswerWhole() async throws {
        let ledger = try temporaryLedger(self)
        try runSledger(["append", "--ledger", ledger], stdin: try repositoryFile("Fixtures/team-quarter/events.ndjson"))
        let long = "/v1/sessions?from=2026-01-01T00:00:00Z&to=2026-04-01T00:00:00Z&format=csv"
        let short = "/v1/who?at=2026-02-15T12:00:00Z&format=csv"
        let expected = [
            long: try runSledger(["sessions", "--ledger", ledger, "--from", "2026-01-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z", "--format", "csv"]),
            short: try runSledger(["who", "--ledger", ledger, "--at", "2026-02-15T12:00:00Z", "--format", "csv"]),
        ]
        XCTAssertGreaterThan(expected[long]!.utf8.count, 1_000)
        let server = try ServerProcess(self, ledger: ledger, arguments: ["--long-queries", "1"])
        let paths = (0..<6).flatMap { _ in [long, short] }
        let answers = try await withThrowingTaskGroup(of: (String, Int, String).self) { group in
            for path in paths {
                group.addTask { let answer = try await server.get(path); return (path, answer.status, answer.text) }
            }
            var all: [(String, Int, String)] = []
            for try await answer in group { all.append(answer) }
            return all
        }
        XCTAssertEqual(answers.count, paths.count)
        for (path, status, text) in answers {
            XCTAssertEqual(status, 200, path)
            XCTAssertEqual(text, expected[path], path)
        }
        server.stop()
    }

    func testAUsersSessionsAreTheFixturesHandWorkedRecords() async throws {
        let server = try await fixtureServer()
        let expected = try fixture("expected-sessions.json") as! [String: Any]
        let answer = try await server.get("/v1/users/\(expected["user"] as! String)?at=\(expected["T"] as! String)")
        XCTAssertEqual(answer.records as NSArray, expected["sessions"] as! NSArray)
    }

    func testReplayReportsTheFixturesFindingsInOrderWithASummary() async throws {
        let server = try await fixtureServer()
        let expected = try fixture("expected-replay.json") as! [String: Any]
        let answer = try await server.get("/v1/replay")
        XCTAssertEqual(answer.object["events"] as? Int, 15)
        let findings = (answer.object["findings"] as? [[String: Any]] ?? []).map { finding in
            finding.filter { $0.key != "message" }
        }
        XCTAssertEqual(findings as NSArray, expected["findings"] as! NSArray)
        let summary = answer.object["summary"] as? [String: Int] ?? [:]
        XCTAssertEqual(summary["refresh-after-end"], 2)
        XCTAssertEqual(summary["late-event"], 1)
        XCTAssertEqual(summary["future-event"], 0)
        // Narrowed to one user, as `replay --user` does: Lee's two errors.
        let lee = try await server.get("/v1/replay?user=lee.contractor@acme.example&format=ndjson")
        XCTAssertEqual(lee.lines.map { $0["rule"] as? String }, ["login-method", "logout-all-client"])
    }

    func testSessionsAtAnInstantAndOverARangeAsNDJSONAndCSV() async throws {
        let server = try await fixtureServer()
        // At 10:00 on 04-06 Dana's web and phone sessions are active (README, story 1).
        let at = try await server.get("/v1/sessions?at=2026-04-06T10:00:00Z", headers: ["Accept": "application/x-ndjson"])
        XCTAssertEqual(at.contentType, "application/x-ndjson")
        XCTAssertEqual(at.lines.map { $0["session"] as? String }, ["s_dana_web", "s_dana_ios"])
        XCTAssertEqual(at.lines.map { $0["status"] as? String }, ["active", "active"])
        // [04-07 00:00, 04-08 00:00): Dana's new web session, Lee's phone (07:00-07:20) and
        // ops-bot's token (from 10:00); as of the range's end, Lee's ended by logout_all.
        let range = try await server.get("/v1/sessions?from=2026-04-07T00:00:00Z&to=2026-04-08T00:00:00Z&format=csv")
        XCTAssertEqual(range.contentType, "text/csv; charset=utf-8")
        let rows = range.text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows.first.map { $0.map(String.init) },
                       ["session", "user", "client", "method", "login_at", "last_extended_at", "expires_at",
                        "refresh_count", "status", "ended_at", "end_reason"])
        XCTAssertEqual(rows.dropFirst().map { String($0[0]) }, ["s_dana_web2", "s_lee_phone", "s_bot_token"])
        XCTAssertEqual(rows.dropFirst().map { String($0[8]) }, ["active", "logout_all", "active"])
    }

    func testOneSessionWithItsTimelineAndItsFindings() async throws {
        let server = try await fixtureServer()
        let answer = try await server.get("/v1/sessions/s_dana_web?at=2026-04-30T00:00:00Z")
        let session = answer.object["session"] as? [String: Any] ?? [:]
        XCTAssertEqual(session["end_reason"] as? String, "logout_all")
        XCTAssertEqual(session["ended_at"] as? String, "2026-04-06T12:00:00Z")
        let events = answer.object["events"] as? [[String: Any]] ?? []
        XCTAssertEqual(events.map { $0["seq"] as? Int }, [1, 2, 4, 5, 6])
        let rules = events.map { ($0["findings"] as? [[String: Any]] ?? []).map { $0["rule"] as? String } }
        XCTAssertEqual(rules, [[], [], [], ["refresh-after-end"], ["refresh-after-end"]])
        let missing = try await server.get("/v1/sessions/s_nobody")
        XCTAssertEqual(missing.status, 404)
        XCTAssertTrue((missing.object["error"] as? String ?? "").hasPrefix("no session s_nobody in the ledger as of "), missing.text)
    }

    func testIdsInThePathArePercentDecoded() async throws {
        let server = try ServerProcess(self)
        try await server.post(login("p", user: "a b/c", session: "s 1/x")).assertOK()
        let session = try await server.get("/v1/sessions/s%201%2Fx?at=2026-04-02T00:00:00Z")
        XCTAssertEqual((session.object["session"] as? [String: Any])?["user"] as? String, "a b/c")
        let user = try await server.get("/v1/users/a%20b%2Fc?at=2026-04-02T00:00:00Z")
        XCTAssertEqual(user.records.map { $0["session"] as? String }, ["s 1/x"])
    }

    func testBadQueryArgumentsAre400WithTheArgumentNamed() async throws {
        let server = try ServerProcess(self)
        let cases: [(String, String)] = [
            ("/v1/who?at=yesterday", "at: not an RFC 3339 instant (for example 2026-03-01T09:00:00Z)"),
            ("/v1/sessions?from=2026-04-07T00:00:00Z", "from and to go together"),
            ("/v1/sessions?at=2026-04-07T00:00:00Z&from=2026-04-07T00:00:00Z&to=2026-04-08T00:00:00Z", "give at or from/to, not both"),
            ("/v1/who?from=2026-04-08T00:00:00Z&to=2026-04-07T00:00:00Z", "from must be earlier than to"),
            ("/v1/who?format=xml", "format: expected json, ndjson, csv or table"),
            ("/v1/log?after=-1", "after: expected a whole number"),
        ]
        for (path, message) in cases {
            let answer = try await server.get(path)
            XCTAssertEqual(answer.status, 400, path)
            XCTAssertEqual(answer.object["error"] as? String, message, path)
        }
        let unknown = try await server.get("/v2/who")
        XCTAssertEqual(unknown.status, 404)
    }

    func testTheLogAfterASeqAndAFollowedLogThatWaitsForTheNextEvent() async throws {
        let server = try await fixtureServer()
        let tail = try await server.get("/v1/log?after=13&format=ndjson")
        XCTAssertEqual(tail.lines.map { $0["seq"] as? Int }, [14, 15])
        XCTAssertEqual(tail.lines.map { $0["id"] as? String }, ["inc-14", "inc-15"])
        // Follow from 15 until one more event: the answer can only end once it is posted.
        async let followed = server.get("/v1/log?after=15&follow=true&limit=1")
        try await Task.sleep(nanoseconds: 500_000_000)
        try await server.post(login("late-comer") + "\n").assertOK()
        let answer = try await followed
        XCTAssertEqual(answer.contentType, "application/x-ndjson")
        XCTAssertEqual(answer.lines.map { $0["seq"] as? Int }, [16])
        XCTAssertEqual(answer.lines.map { $0["id"] as? String }, ["late-comer"])
    }
}

/// Runs the `sledger` executable beside the server's and returns its standard output; fails
/// the test on a non-zero exit.
@discardableResult
func runSledger(_ arguments: [String], stdin: String = "", file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let process = Process()
    process.executableURL = ServerProcess.executable
    process.arguments = arguments
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    input.fileHandleForWriting.write(Data(stdin.utf8))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, "sledger \(arguments.joined(separator: " "))", file: file, line: line)
    return String(decoding: data, as: UTF8.self)
}
