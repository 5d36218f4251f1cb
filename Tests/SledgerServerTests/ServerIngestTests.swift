import Foundation
import SessionLedger
@testable import SledgerServer
import XCTest

/// POST /v1/events: atomic per request, the CLI's validation and messages, idempotent by id,
/// answered after the events are durable.
final class ServerIngestTests: XCTestCase {
    func testTheFixturePostedTwiceIsStoredOnceAndTheSecondTimeIsAllDuplicates() async throws {
        let server = try ServerProcess(self)
        let events = try repositoryFile("Fixtures/incident-april/events.ndjson")
        let first = try await server.post(events)
        XCTAssertEqual(first.status, 200, first.text)
        XCTAssertEqual(first.object["imported"] as? Int, 15)
        XCTAssertEqual(first.object["duplicates"] as? Int, 0)
        XCTAssertEqual(first.object["seq"] as? Int, 15)
        let second = try await server.post(events)
        XCTAssertEqual(second.status, 200)
        XCTAssertEqual(second.object["imported"] as? Int, 0)
        XCTAssertEqual(second.object["duplicates"] as? Int, 15)
        let stats = try await server.get("/v1/stats")
        XCTAssertEqual(stats.records.first?["events"] as? Int, 15)
    }

    func testABadLineRefusesTheRequestNamingTheLineAndTheKeyAndStoresNothing() async throws {
        let server = try ServerProcess(self)
        // Line 3 has an hour 25 (docs/INPUT.md: "at: not an RFC 3339 instant ..."); line 2 is blank.
        let body = login("a") + "\n\n" + login("b", at: "2026-04-01T25:00:00Z") + "\n"
        let answer = try await server.post(body)
        XCTAssertEqual(answer.status, 400)
        XCTAssertEqual(answer.object["line"] as? Int, 3)
        XCTAssertEqual(answer.object["key"] as? String, "at")
        XCTAssertEqual(answer.object["error"] as? String,
                       "line 3: at: not an RFC 3339 instant (years 1678-2261, 0-9 fractional digits, Z or +HH:MM)")
        let stats = try await server.get("/v1/stats")
        XCTAssertEqual(stats.records.first?["events"] as? Int, 0)
    }

    func testMalformedBodiesAreRefusedWithOneClearMessage() async throws {
        let server = try ServerProcess(self)
        let cases: [(body: String, message: String)] = [
            ("nope\n", "line 1: invalid JSON: expected an object"),
            (#"{"type":"login","at":"2026-04-01T09:00:00Z","user":"u","session":"s","client":"web"}"#, "line 1: method: missing required key"),
            (#"{"type":"refresh","at":"2026-04-01T09:00:00Z","user":"u","session":"s","colour":"red"}"#, "line 1: colour: unknown key"),
        ]
        for (body, message) in cases {
            let answer = try await server.post(body)
            XCTAssertEqual(answer.status, 400, body)
            XCTAssertEqual(answer.object["error"] as? String, message)
        }
        let stats = try await server.get("/v1/stats")
        XCTAssertEqual(stats.records.first?["events"] as? Int, 0)
    }

    func testAnIdConflictRefusesTheWholeRequestAndKeepsWhatWasStored() async throws {
        let server = try ServerProcess(self)
        let stored = try await server.post(login("x") + "\n")
        XCTAssertEqual(stored.status, 200)
        // Line 1 is new; line 2 reuses id x with other content (another user): seq 1 holds x.
        let answer = try await server.post(login("y") + "\n" + login("x", user: "u2") + "\n")
        XCTAssertEqual(answer.status, 400)
        XCTAssertEqual(answer.object["error"] as? String, "line 2: id: id conflict with seq 1")
        // Within one request, the CLI's wording: the earlier line.
        let inside = try await server.post(login("z") + "\n" + login("z", user: "u3") + "\n")
        XCTAssertEqual(inside.object["error"] as? String, "line 2: id: id conflict with line 1")
        let log = try await server.get("/v1/log?format=ndjson")
        XCTAssertEqual(log.lines.compactMap { $0["id"] as? String }, ["x"], "nothing of the refused requests is stored")
    }

    func testOneJSONObjectOverSeveralLinesIsOneEvent() async throws {
        let server = try ServerProcess(self)
        let body = """
            {
              "type": "login", "at": "2026-04-01T09:00:00+02:00",
              "user": "u1", "session": "s1", "client": "ios", "method": "email_link"
            }
            """
        let answer = try await server.post(body, headers: ["Content-Type": "application/json"])
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertEqual(answer.object["imported"] as? Int, 1)
        let log = try await server.get("/v1/log?format=ndjson")
        XCTAssertEqual(log.lines.first?["at"] as? String, "2026-04-01T07:00:00Z")
    }

    func testConcurrentWritersShareTransactionsAndEachRequestStaysAllOrNothing() async throws {
        let server = try ServerProcess(self)
        try await server.post(login("taken") + "\n").assertOK()
        // 64 requests at once, 20 events each; every 4th ends with a conflicting reuse of "taken".
        let answers = try await withThrowingTaskGroup(of: (Int, HTTPAnswer).self) { group in
            for r in 0..<64 {
                group.addTask {
                    var lines = (0..<20).map { login("r\(r)-e\($0)", user: "user\(r)") }
                    if r % 4 == 0 { lines[19] = login("taken", user: "someone-else") }
                    return (r, try await server.post(lines.joined(separator: "\n") + "\n"))
                }
            }
            var answers: [Int: HTTPAnswer] = [:]
            for try await (r, answer) in group { answers[r] = answer }
            return answers
        }
        for (r, answer) in answers {
            if r % 4 == 0 {
                XCTAssertEqual(answer.status, 400, "request \(r)")
                XCTAssertEqual(answer.object["error"] as? String, "line 20: id: id conflict with seq 1")
            } else {
                XCTAssertEqual(answer.status, 200, "request \(r): \(answer.text)")
                XCTAssertEqual(answer.object["imported"] as? Int, 20)
            }
        }
        let log = try await server.get("/v1/log?format=ndjson")
        let ids = log.lines.compactMap { $0["id"] as? String }
        let seqs = log.lines.compactMap { $0["seq"] as? Int }
        XCTAssertEqual(seqs, Array(1...(1 + 48 * 20)), "seq has no gap")
        let expected = Set(["taken"] + (0..<64).filter { $0 % 4 != 0 }.flatMap { r in (0..<20).map { "r\(r)-e\($0)" } })
        XCTAssertEqual(Set(ids), expected, "accepted requests whole, refused ones absent")
        XCTAssertEqual(ids.count, expected.count)
        // `recorded` is the clock when a write transaction began, the same for all it stores:
        // fewer distinct values than requests means requests shared transactions.
        let transactions = Set(log.lines.compactMap { $0["recorded"] as? String }).count
        XCTAssertLessThan(transactions, 1 + 48, "group commit: some of the 48 requests shared a transaction")
        // One request's events are stored together, in their order (a group never interleaves them).
        for r in 0..<64 where r % 4 != 0 {
            let positions = ids.indices.filter { ids[$0].hasPrefix("r\(r)-") }
            XCTAssertEqual(positions, Array(positions[0]..<(positions[0] + 20)), "request \(r) is contiguous")
        }
    }

    func testBufferedWritesGoThroughLMDBsBuffersAndRefuseARequestOverTheirLimit() async throws {
        // Without MDB_WRITEMAP, LMDB maps the data file read-only (decision 0012).
        let mapped = try ServerProcess(self, arguments: ["--writes", "mapped"])
        XCTAssertEqual(try mapped.dataFileMapping(), "rw-s")
        let server = try ServerProcess(self)  // buffered: the default
        XCTAssertEqual(try server.dataFileMapping(), "r--s")
        let lines = (0..<15_001).map { login("e\($0)", user: "user\($0 % 7)") }
        // Through the map the request has no such limit.
        let whole = try await mapped.post(lines.joined(separator: "\n") + "\n")
        whole.assertOK()
        XCTAssertEqual(whole.object["imported"] as? Int, 15_001)
        let refused = try await server.post(lines.joined(separator: "\n") + "\n")
        XCTAssertEqual(refused.status, 413)
        XCTAssertEqual(refused.object["error"] as? String,
                       "a request holds at most 15000 events and 16 MiB when the server writes through buffers (--writes buffered, the default); this one holds 15001 events: split it, or run the server with --writes mapped. Nothing was stored.")
        let nothing = try await server.get("/v1/stats")
        XCTAssertEqual(nothing.records.first?["events"] as? Int, 0)
        let stored = try await server.post(lines.dropLast().joined(separator: "\n") + "\n")
        stored.assertOK()
        XCTAssertEqual(stored.object["imported"] as? Int, 15_000)
        // Filed in `ids` by that commit: the same request again is all duplicates.
        let again = try await server.post(lines.dropLast().joined(separator: "\n") + "\n")
        XCTAssertEqual(again.object["duplicates"] as? Int, 15_000)
        let user = try await server.get("/v1/users/user3?format=ndjson")
        XCTAssertEqual(user.lines.count, (0..<15_000).filter { $0 % 7 == 3 }.count)
        // 16 MiB and one byte of blank lines and one event: refused for its bytes, unread.
        let padded = String(repeating: "\n", count: 16 << 20) + login("big") + "\n"
        let tooBig = try await server.post(padded)
        XCTAssertEqual(tooBig.status, 413)
        XCTAssertEqual(tooBig.object["error"] as? String,
                       "a request holds at most 15000 events and 16 MiB when the server writes through buffers (--writes buffered, the default); this one holds \(padded.utf8.count) bytes: split it, or run the server with --writes mapped. Nothing was stored.")
    }

    func testBufferedWritesCutGroupsAtTheirLimit() async throws {
        let server = try ServerProcess(self, arguments: ["--writes", "buffered"])  // the default, named
        // Three requests of 10,000 events at once: no two fit in one group of 15,000, so each
        // is its own transaction, and each answer carries its own head.
        let answers = try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
            for r in 0..<3 {
                group.addTask {
                    try await server.post((0..<10_000).map { login("r\(r)-e\($0)", user: "user\(r)") }.joined(separator: "\n") + "\n")
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for answer in answers {
            answer.assertOK()
            XCTAssertEqual(answer.object["imported"] as? Int, 10_000)
        }
        XCTAssertEqual(Set(answers.compactMap { $0.object["seq"] as? Int }), [10_000, 20_000, 30_000])
    }

    /// The cut itself, which the test above sees only when the requests happen to queue together.
    func testAGroupTakesTheRequestsThatFitItsLimitAndAlwaysTheFirst() {
        let buffered = GroupCommitWriter.Limit(events: 15_000, bytes: 16 << 20)
        XCTAssertEqual(GroupCommitWriter.requestLimit(.buffered), buffered)
        XCTAssertNil(GroupCommitWriter.requestLimit(.mapped))
        let mapped = GroupCommitWriter.mappedGroup
        func size(_ requests: [(Int, Int)], _ limit: GroupCommitWriter.Limit) -> Int {
            GroupCommitWriter.groupSize(requests.map { (events: $0.0, bytes: $0.1) }, limit: limit)
        }
        XCTAssertEqual(size([(10_000, 1 << 20), (10_000, 1 << 20), (10_000, 1 << 20)], buffered), 1)
        XCTAssertEqual(size([(5_000, 1 << 20), (10_000, 1 << 20), (1, 100)], buffered), 2)
        XCTAssertEqual(size([(100, 10 << 20), (100, 10 << 20)], buffered), 1, "cut by bytes")
        XCTAssertEqual(size([(100, 8 << 20), (100, 8 << 20), (1, 1)], buffered), 2)
        XCTAssertEqual(size([(10_000, 1 << 20), (10_000, 1 << 20), (10_000, 1 << 20)], mapped), 3)
        XCTAssertEqual(size([(70_000, 1 << 20), (1, 1)], mapped), 1, "a larger request goes alone")
        XCTAssertEqual(size([], buffered), 0)
    }
}

extension HTTPAnswer {
    func assertOK(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(status, 200, text, file: file, line: line)
    }
}
