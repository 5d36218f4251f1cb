import Foundation
import XCTest

/// `sledger upgrade`, end to end: a ledger made format 7 by Tools/downgrade_to_format7.py
/// (Python's lmdb module, from what docs/FORMAT.md says format 7 was: `lags` values of 16
/// bytes, no `meta/lagged`), upgraded in place; the digest kept before still passes
/// `check --digest`, and every answer is the same.
final class UpgradeCommandTests: XCTestCase {
    /// A format 8 ledger of `count` generated events, the second half appended first: the first
    /// half then comes lagged (seqs `count / 2 + 1` on), and `lags` lists it.
    private func laggedLedger(_ dir: String, count: Int) throws -> String {
        let ledger = dir + "/ledger"
        let all = dir + "/all.ndjson"
        try writeGeneratedLog(to: all, count: count)
        let lines = try String(contentsOfFile: all, encoding: .utf8).split(separator: "\n")
        for part in [lines[(count / 2)...], lines[..<(count / 2)]] {
            XCTAssertEqual(try Sledger.run(["append", "--ledger", ledger], stdin: Data((part.joined(separator: "\n") + "\n").utf8)).status, 0)
        }
        return ledger
    }

    func testAFormatSevenLedgerUpgradedInPlaceKeepsItsDigestAndAnswers() throws {
        let dir = try temporaryDirectory(self)
        let ledger = try laggedLedger(dir, count: 3_000)
        let digest = try Sledger.digest(ledger).trimmingCharacters(in: .newlines)
        let questions = [["export", "--with-seq"], ["sessions", "--at", "2026-01-02T12:00:00Z", "--format", "csv"],
                         ["replay", "--format", "json", "--policy", dir + "/skew.json"]]
        // The default policy with a max_skew of 1 s, so that every lagged event is a finding.
        let policy = try Sledger.run(["policy"]).stdout
        XCTAssertTrue(policy.contains(#""max_skew": "5m""#), policy)
        try policy.replacingOccurrences(of: #""max_skew": "5m""#, with: #""max_skew": "1s""#)
            .replacingOccurrences(of: #""name": "web-28d""#, with: #""name": "skew-1s""#)
            .write(toFile: dir + "/skew.json", atomically: true, encoding: .utf8)
        let answers = try questions.map { try Sledger.run($0 + ["--ledger", ledger]) }
        for (question, answer) in zip(questions, answers) { XCTAssertFalse(answer.stdout.isEmpty, "\(question): \(answer.stderr)") }
        XCTAssertTrue(answers[2].stdout.contains("late-event"), "the replay reads lateness from lags")

        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        python.arguments = [repositoryDirectory + "/Tools/downgrade_to_format7.py", ledger]
        let out = Pipe()
        python.standardOutput = out
        try python.run()
        let lagged = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        python.waitUntilExit()
        XCTAssertEqual(python.terminationStatus, 0)
        XCTAssertEqual(Int(lagged), 1_500, "every event of the first half is lagged")

        let refused = try Sledger.run(["export", "--ledger", ledger])
        XCTAssertEqual(refused.status, 3)
        XCTAssertTrue(refused.stderr.contains("`sledger upgrade` makes it format 8 in place"), refused.stderr)

        let upgrade = try Sledger.run(["upgrade", "--ledger", ledger])
        XCTAssertEqual(upgrade.status, 0, upgrade.stderr)
        XCTAssertEqual(upgrade.stdout, "upgraded \(ledger) from sledger-7 to sledger-8: 3000 events, \(lagged) lagged; head \(digest), unchanged\n")
        let check = try Sledger.run(["check", "--ledger", ledger, "--digest", digest])
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        for (question, answer) in zip(questions, answers) {
            XCTAssertEqual(try Sledger.run(question + ["--ledger", ledger]).stdout, answer.stdout, "\(question)")
        }
        let again = try Sledger.run(["upgrade", "--ledger", ledger])
        XCTAssertEqual(again.status, 0)
        XCTAssertEqual(again.stdout, "\(ledger) is sledger-8 already: nothing to do\n")
    }

    /// A format 7 `lags` entry the log does not bear out (the first lagged event, seq 201, its
    /// lag one nanosecond off): exit 3, one line saying nothing was changed, and `data.mdb`
    /// byte for byte as it was.
    func testARefusedUpgradeExitsThreeAndLeavesTheFileAsItWas() throws {
        let ledger = try laggedLedger(try temporaryDirectory(self), count: 400)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        python.arguments = ["-c", """
            import subprocess, sys, lmdb
            subprocess.run([sys.executable, sys.argv[1], sys.argv[2]], check=True, stdout=subprocess.DEVNULL)
            env = lmdb.open(sys.argv[2], max_dbs=16, subdir=True, create=False)
            lags = env.open_db(b'lags', create=False)
            with env.begin(write=True) as txn:
                key, value = next(txn.cursor(db=lags).iternext())
                txn.put(key, bytes([value[0] ^ 1]) + value[1:], db=lags)
            """, repositoryDirectory + "/Tools/downgrade_to_format7.py", ledger]
        try python.run()
        python.waitUntilExit()
        XCTAssertEqual(python.terminationStatus, 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: ledger + "/data.mdb"))
        let refused = try Sledger.run(["upgrade", "--ledger", ledger])
        XCTAssertEqual(refused.status, 3)
        XCTAssertEqual(refused.stdout, "")
        XCTAssertTrue(refused.stderr.hasPrefix("no upgrade of \(ledger): damage at seq 201: the lags entry of this event is not the one the log implies; nothing was changed."), refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: ledger + "/data.mdb")), before)
    }
}
