import Foundation
import XCTest

/// Issue 5, item 5: file modes, read-only queries, CSV formulas, secrets in errors, and
/// `check --digest` as the guard against a rewritten history.
final class ReliabilitySecurityTests: XCTestCase {
    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
    }

    func testImportAndAppendMakeOwnerOnlyFilesWhateverTheUmask() throws {
        let dir = try temporaryDirectory(self)
        let log = dir + "/log.ndjson"
        try writeGeneratedLog(to: log, count: 100)
        for (i, mask) in [mode_t(0), 0o002, 0o022, 0o027].enumerated() {
            let old = umask(mask)
            defer { umask(old) }
            let viaImport = dir + "/import\(i)", viaAppend = dir + "/append\(i)"
            XCTAssertEqual(try Sledger.run(["import", "--ledger", viaImport, log]).status, 0)
            XCTAssertEqual(try Sledger.run(["append", "--ledger", viaAppend], stdin: try Data(contentsOf: URL(fileURLWithPath: log))).status, 0)
            for ledger in [viaImport, viaAppend] {
                XCTAssertEqual(try mode(ledger), 0o700, "umask \(String(mask, radix: 8)): \(ledger)")
                XCTAssertEqual(try mode(ledger + "/data.mdb"), 0o600, "umask \(String(mask, radix: 8))")
                XCTAssertEqual(try mode(ledger + "/lock.mdb"), 0o600, "umask \(String(mask, radix: 8))")
            }
        }
    }

    /// Every query leaves data.mdb byte for byte as it was (only LMDB's reader table in lock.mdb
    /// may change), and a query on a missing ledger creates nothing.
    func testQueriesNeverWriteTheLedger() throws {
        let dir = try temporaryDirectory(self)
        let ledger = dir + "/ledger", log = dir + "/log.ndjson"
        try writeGeneratedLog(to: log, count: 2_000)
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, log]).status, 0)
        let data = URL(fileURLWithPath: ledger + "/data.mdb")
        let before = try Data(contentsOf: data)
        let modified = try FileManager.default.attributesOfItem(atPath: data.path)[.modificationDate] as! Date
        let at = "2026-01-10T00:00:00Z"
        let queries: [[String]] = [
            ["export"], ["log", "--format", "csv"], ["stats", "--format", "json"], ["check"], ["digest"], ["replay"],
            ["sessions", "--at", at], ["who", "--at", at], ["session", "s10"], ["user", "u5", "--at", at],
        ]
        for query in queries {
            let result = try Sledger.run(query + ["--ledger", ledger])
            XCTAssertTrue(result.status == 0 || result.status == 1, "\(query): \(result.stderr)")
        }
        XCTAssertEqual(try Data(contentsOf: data), before, "a query changed data.mdb")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: data.path)[.modificationDate] as? Date, modified)
        for query in queries {
            let missing = dir + "/missing"
            XCTAssertEqual(try Sledger.run(query + ["--ledger", missing]).status, 3, "\(query)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: missing), "\(query) created a ledger")
        }
    }

    /// CSV from log, sessions and who: no cell starts with a formula character.
    func testCSVFromEveryRecordCommandIsSafeAgainstFormulas() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        let hostile = [#"=HYPERLINK(\"http://x\",\"y\")"#, "+SUM(A1)", "-2+3", "@cmd", #"\tx"#]
        var lines: [String] = []
        for (i, value) in hostile.enumerated() {
            lines.append(#"{"type":"login","at":"2026-03-01T09:00:0\#(i)Z","user":"\#(value)","session":"\#(value)-s","client":"web","method":"google","agent":"\#(value)"}"#)
        }
        let input = lines.joined(separator: "\n")
        let stored = try Sledger.run(["append", "--ledger", ledger], stdin: Data(input.utf8))
        // A tab is a control character: that line is refused (exit 2); store the rest.
        if stored.status != 0 {
            XCTAssertEqual(stored.status, 2, stored.stderr)
            XCTAssertEqual(try Sledger.run(["append", "--ledger", ledger], stdin: Data(lines.dropLast().joined(separator: "\n").utf8)).status, 0)
        }
        for query in [["log"], ["sessions", "--at", "2026-03-02T00:00:00Z"], ["who", "--at", "2026-03-02T00:00:00Z"]] {
            let csv = try Sledger.run(query + ["--ledger", ledger, "--format", "csv"])
            XCTAssertEqual(csv.status, 0, csv.stderr)
            let rows = csv.stdout.split(separator: "\n").dropFirst()
            XCTAssertFalse(rows.isEmpty, "\(query)")
            for row in rows {
                for cell in cells(String(row)) {
                    XCTAssertFalse(cell.first.map { "=+-@\t\r".contains($0) } ?? false, "\(query): cell \(cell) in \(row)")
                }
            }
        }
    }

    /// Errors name the key, never echo the value.
    func testErrorsDoNotPrintTheValuesOfBadInput() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        let head = #"{"type":"login","at":"2026-03-01T09:00:00Z","user":"alice","session":"s1","client":"web","method":"google""#
        let bad = [
            head + #","password":"hunter2-SECRET"}"#,
            head + #","meta":{"api_key":"sk_live_SECRET","n":1}}"#,
            head + #","agent":"SECRET\u0001"}"#,
            head + #","ip":"SECRET.0.0.1"}"#,
            #"{"type":"SECRET","at":"2026-03-01T09:00:00Z","user":"alice"}"#,
            #"{"type":"login","at":"SECRET","user":"alice"}"#,
            head + #","meta":{"token":{"SECRET":"x"}}}"#,
            #"SECRET not json"#,
            head + #","id":"dup"}"# + "\n" + head + #","id":"dup","agent":"SECRET-conflict"}"#,
        ]
        for input in bad {
            let result = try Sledger.run(["append", "--ledger", ledger], stdin: Data(input.utf8))
            XCTAssertEqual(result.status, 2, input)
            XCTAssertFalse(result.stderr.contains("SECRET") || result.stdout.contains("SECRET"), "\(input) -> \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
    }

    /// A history rewritten consistently (checksums and chain recomputed, so plain `check`
    /// passes) is caught by `check --digest` with a digest kept from before; `check --help`
    /// says so.
    func testCheckDigestDetectsARewrittenHistory() throws {
        let dir = try temporaryDirectory(self)
        let ledger = dir + "/ledger", log = dir + "/log.ndjson"
        try writeGeneratedLog(to: log, count: 500)
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, log]).status, 0)
        let kept = try Sledger.digest(ledger).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(try Sledger.run(["check", "--ledger", ledger, "--digest", kept]).status, 0)

        // Rewrite: the same history with one event changed, written by sledger itself.
        var text = try String(contentsOfFile: log, encoding: .utf8)
        text = text.replacingOccurrences(of: #""user":"u"#, with: #""user":"x"#, options: [], range: text.range(of: #""user":"u"#))
        let forged = dir + "/forged.ndjson"
        try text.write(toFile: forged, atomically: false, encoding: .utf8)
        let rewritten = dir + "/rewritten"
        XCTAssertEqual(try Sledger.run(["import", "--ledger", rewritten, forged]).status, 0)
        try FileManager.default.removeItem(atPath: ledger)
        try FileManager.default.moveItem(atPath: rewritten, toPath: ledger)

        XCTAssertEqual(try Sledger.run(["check", "--ledger", ledger]).status, 0, "the forgery is self-consistent")
        let proof = try Sledger.run(["check", "--ledger", ledger, "--digest", kept])
        XCTAssertEqual(proof.status, 1, proof.stdout)
        let help = try Sledger.run(["check", "--help"])
        XCTAssertTrue(help.stdout.contains("--digest"), help.stdout)
        XCTAssertTrue(help.stdout.contains("rewritten"), help.stdout)
    }

    /// Splits one CSV row (RFC 4180) into its cells, unquoted.
    private func cells(_ row: String) -> [String] {
        var out: [String] = [], cell = "", quoted = false
        var chars = Array(row)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { cell.append("\""); chars.removeFirst() } else { quoted = false }
                } else { cell.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { out.append(cell); cell = "" }
            else { cell.append(c) }
        }
        out.append(cell)
        return out
    }
}
