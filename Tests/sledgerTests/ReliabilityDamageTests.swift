import Foundation
import XCTest

/// Short versions of Tools/reliability/damage_campaign.sh and full_disk.sh: `check` names the
/// first damaged seq, and no query prints a wrong answer from a damaged ledger: it refuses
/// (exit 3, pointing to `sledger check`) or prints exactly what the intact ledger gives.
final class ReliabilityDamageTests: XCTestCase {
    let end = "2026-03-01T00:00:00Z"  // after every event of writeGeneratedLog(count: 3000)

    /// The user of the event at seq 1500 (the one test (b) unindexes): their slice is read
    /// through `by_user` and `by_session`.
    var user = ""

    var queries: [[String]] {
        [["sessions", "--at", end, "--format", "ndjson"], ["who", "--at", end, "--format", "ndjson"],
         ["export"], ["log", "--format", "ndjson"], ["replay"],
         ["user", user, "--at", end, "--format", "ndjson"], ["sessions", "--at", end, "--user", user, "--format", "ndjson"],
         ["sessions", "--from", "2000-01-01T00:00:00Z", "--to", end, "--format", "json"],
         ["who", "--from", "2000-01-01T00:00:00Z", "--to", end, "--format", "csv"]]
    }

    /// A 3,000-event ledger, a damaged copy of it, and what each query prints on the intact one.
    func damagedLedger(_ damage: [String]) throws -> (ledger: String, namedSeq: String, intact: [CommandResult]) {
        let dir = try temporaryDirectory(self)
        let intact = dir + "/intact", log = dir + "/log.ndjson"
        try writeGeneratedLog(to: log, count: 3_000)
        let line1500 = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")[1499]
        user = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line1500.utf8)) as? [String: Any])["user"] as! String
        XCTAssertEqual(try Sledger.run(["import", "--ledger", intact, log]).status, 0)
        let answers = try queries.map { try Sledger.run($0 + ["--ledger", intact]) }
        // replay exits 1 here: the generated log has error findings (sessions reused across users)
        for answer in answers { XCTAssertTrue(answer.status == 0 || answer.status == 1, answer.stderr) }
        let damaged = dir + "/damaged"
        try FileManager.default.copyItem(atPath: intact, toPath: damaged)
        let seq = try Campaign.auditTool(["damage", damaged] + damage)
        return (damaged, seq, answers)
    }

    func assertCheckNames(_ ledger: String, seq: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let check = try Sledger.run(["check", "--ledger", ledger], environment: ["SWIFT_BACKTRACE": "enable=no"])
        XCTAssertEqual(check.status, 1, check.stdout + check.stderr, file: file, line: line)
        XCTAssertTrue(check.stdout.hasPrefix("damaged: first damaged seq \(seq)\n"), check.stdout, file: file, line: line)
    }

    func assertNoQueryAnswersWrongly(_ ledger: String, intact: [CommandResult], file: StaticString = #filePath, line: UInt = #line) throws {
        for (query, expected) in zip(queries, intact) {
            let result = try Sledger.run(query + ["--ledger", ledger], environment: ["SWIFT_BACKTRACE": "enable=no"])
            let refused = result.status == 3 && result.stderr.contains("sledger check")
            let sameAnswer = result.status == expected.status && result.stdout == expected.stdout
            XCTAssertTrue(refused || sameAnswer,
                          "\(query[0]) on a damaged ledger: status \(result.status) (exit code, or signal number if it crashed), \(sameAnswer ? "same" : "different") output, stderr \(result.stderr.prefix(200))",
                          file: file, line: line)
            // `sessions` and `who` find their whole answer first: refused, they print nothing
            // (not a CSV header or a lone "[").
            if refused, ["sessions", "who"].contains(query[0]) {
                XCTAssertEqual(result.stdout, "", "\(query)", file: file, line: line)
            }
        }
    }

    /// (a) One bit flipped in a record, in data.mdb itself.
    func testAFlippedByteInARecord() throws {
        let (ledger, seq, intact) = try damagedLedger(["flip", "1234", "40"])
        try assertCheckNames(ledger, seq: seq)
        try assertNoQueryAnswersWrongly(ledger, intact: intact)
    }

    /// (b) An event's by_user entry removed: a query of that user's slice would miss it.
    func testARemovedByUserEntry() throws {
        let (ledger, seq, intact) = try damagedLedger(["unindex", "1500", "by_user"])
        try assertCheckNames(ledger, seq: seq)
        try assertNoQueryAnswersWrongly(ledger, intact: intact)
    }

    /// (c) Two records swapped (each is intact on its own; their places are not).
    func testTwoSwappedRecords() throws {
        let (ledger, seq, intact) = try damagedLedger(["swap", "700", "2100"])
        try assertCheckNames(ledger, seq: seq)
        try assertNoQueryAnswersWrongly(ledger, intact: intact)
    }

    /// (d) data.mdb truncated to half the pages in use: `check` reports damage (it cannot know
    /// the seq of pages that are gone), and no command crashes or answers.
    func testATruncatedDataFile() throws {
        let (ledger, _, intact) = try damagedLedger(["truncate", "0.5"])
        let check = try Sledger.run(["check", "--ledger", ledger], environment: ["SWIFT_BACKTRACE": "enable=no"])
        XCTAssertTrue((check.status == 1 && check.stdout.hasPrefix("damaged")) || (check.status == 3 && check.stderr.contains("sledger check")),
                      "check on a truncated ledger: exit \(check.status) \(check.stdout)\(check.stderr.prefix(200))")
        try assertNoQueryAnswersWrongly(ledger, intact: intact)
    }

    /// A full disk mid-import (a 24 MiB tmpfs; needs root, skipped otherwise): a clear error
    /// (exit 3, "full") and the ledger exactly as it was before the call.
    func testAFullDiskMidImportLeavesTheLedgerAsItWas() throws {
        let dir = try temporaryDirectory(self)
        let mount = dir + "/mnt"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        guard shell("/bin/mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", mount]) == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (not root?)")
        }
        defer { _ = shell("/bin/umount", [mount]) }
        let ledger = mount + "/ledger", base = dir + "/base.ndjson", more = dir + "/more.ndjson"
        try writeGeneratedLog(to: base, count: 20_000, idPrefix: "base-")
        try writeGeneratedLog(to: more, count: 300_000, idPrefix: "more-")
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, base]).status, 0)
        let before = try Sledger.digest(ledger)
        let result = try Sledger.run(["import", "--ledger", ledger, more], environment: ["SWIFT_BACKTRACE": "enable=no"])
        XCTAssertEqual(result.status, 3, "status \(result.status) (exit code, or signal number if it crashed; 7 is SIGBUS): \(result.stderr.prefix(300))")
        XCTAssertTrue(result.stderr.contains("full"), result.stderr.prefix(300).description)
        XCTAssertEqual(try Sledger.digest(ledger), before)
        XCTAssertEqual(try Sledger.run(["check", "--ledger", ledger]).status, 0)
    }

    @discardableResult
    private func shell(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
