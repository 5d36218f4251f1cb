import Foundation
import XCTest

final class CommandLineTests: XCTestCase {
    let login = #"{"type":"login","at":"2026-03-01T09:00:00Z","user":"alice","session":"s1","client":"web","method":"google","id":"e1"}"# + "\n"

    func testTheLedgerIsTheOwnersAloneWhateverTheUmask() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        let old = umask(0)
        defer { umask(old) }
        XCTAssertEqual(try Sledger.run(["append", "--ledger", ledger], stdin: Data(login.utf8)).status, 0)
        for (path, mode) in [(ledger, 0o700), (ledger + "/data.mdb", 0o600), (ledger + "/lock.mdb", 0o600)] {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            XCTAssertEqual((attributes[.posixPermissions] as! NSNumber).intValue, mode, path)
        }
    }

    /// On Linux the executable allocates through mimalloc (decision 0013): the dynamic loader
    /// loads it for every run. Without it, glibc's allocator would serve, slower and without
    /// the settings it used to need to keep a large import under 500 MiB.
    func testTheExecutableLoadsMimalloc() throws {
        #if os(Linux)
        let run = try Sledger.run(["policy"], environment: ["LD_DEBUG": "libs"])
        XCTAssertEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("libmimalloc.so"), "loaded: \(run.stderr.split(separator: "\n").filter { $0.contains("init:") })")
        #endif
    }

    func testSledgerLedgerNamesTheDefaultLedger() throws {
        let ledger = try temporaryDirectory(self) + "/from-env"
        let result = try Sledger.run(["append"], stdin: Data(login.utf8), environment: ["SLEDGER_LEDGER": ledger])
        XCTAssertEqual(result.stdout, "imported 1, duplicates 0\n")
        XCTAssertEqual(try Sledger.eventCount(ledger), 1)
    }

    func testBadArgumentsGetOneLineAndStatusTwo() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        XCTAssertEqual(try Sledger.run(["append", "--ledger", ledger], stdin: Data(login.utf8)).status, 0)
        for arguments in [["export", "--ledger", ledger, "--from", "yesterday"], ["log", "--ledger", ledger, "--format", "xml"],
                          ["check", "--ledger", ledger, "--digest", "12"], ["frobnicate"]] {
            let result = try Sledger.run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stdout, "")
        }
    }

    func testAQueryOnAMissingLedgerSaysSoAndCreatesNothing() throws {
        let ledger = try temporaryDirectory(self) + "/missing"
        let result = try Sledger.run(["export", "--ledger", ledger])
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.stderr.hasPrefix("no ledger at \(ledger)"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ledger))
    }

    func testCheckAndQueriesReportADamagedRecord() throws {
        let dir = try temporaryDirectory(self)
        let ledger = dir + "/ledger"
        let input = (0..<50).map { i in
            #"{"type":"logout","at":"2026-03-01T09:00:\#(String(format: "%02d", i))Z","user":"u","session":"s","agent":"agent-\#(i)-zzzzzz"}"#
        }.joined(separator: "\n")
        XCTAssertEqual(try Sledger.run(["append", "--ledger", ledger], stdin: Data(input.utf8)).status, 0)
        let file = URL(fileURLWithPath: ledger + "/data.mdb")
        var bytes = [UInt8](try Data(contentsOf: file))
        let marker = Array("agent-31-zzzzzz".utf8)
        let at = (0...(bytes.count - marker.count)).first { Array(bytes[$0..<($0 + marker.count)]) == marker }!
        bytes[at + 9] = UInt8(ascii: "Z")
        try Data(bytes).write(to: file)

        let check = try Sledger.run(["check", "--ledger", ledger])
        XCTAssertEqual(check.status, 1)
        XCTAssertTrue(check.stdout.hasPrefix("damaged: first damaged seq 32\n"), check.stdout)
        let export = try Sledger.run(["export", "--ledger", ledger])
        XCTAssertEqual(export.status, 3)
        XCTAssertTrue(export.stderr.contains("seq 32") && export.stderr.contains("sledger check"), export.stderr)
    }

    func testCSVCellsCannotStartAFormula() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        let event = #"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"=HYPERLINK(\"x\")","session":"@s","agent":"+1, -2"}"#
        XCTAssertEqual(try Sledger.run(["append", "--ledger", ledger], stdin: Data(event.utf8)).status, 0)
        let csv = try Sledger.run(["log", "--ledger", ledger, "--format", "csv"]).stdout
        let row = csv.split(separator: "\n")[1]
        XCTAssertTrue(row.contains(#""'=HYPERLINK(""x"")""#), String(row))
        XCTAssertTrue(row.contains(",'@s,"), String(row))
        XCTAssertTrue(row.contains(#""'+1, -2""#), String(row))
    }

    /// A comma followed by a combining mark is one character to Swift but still a comma to a
    /// CSV reader: the cell must be quoted, or the row gains a column.
    func testCSVQuotesACommaThatStartsACombinedCharacter() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        let event = "{\"type\":\"logout\",\"at\":\"2026-03-01T09:00:00Z\",\"user\":\"u\",\"session\":\"s\",\"agent\":\"a,\u{301}b\"}"
        XCTAssertEqual(try Sledger.run(["append", "--ledger", ledger], stdin: Data(event.utf8)).status, 0)
        let csv = try Sledger.run(["log", "--ledger", ledger, "--format", "csv"]).stdout
        let row = csv.split(separator: "\n")[1]
        XCTAssertTrue(row.contains("\"a,\u{301}b\""), String(row))
        XCTAssertEqual(row.unicodeScalars.filter { $0 == "," }.count, csv.split(separator: "\n")[0].filter { $0 == "," }.count + 1,
                       "one comma inside the quoted agent, the rest between columns: \(row)")
    }

    /// Table columns are as wide as their widest cell in the first 1,000 rows, counted in
    /// characters: "b" and twelve "é" is thirteen wide in 25 bytes, "ze\u{301}d" three in five,
    /// and rows past the first 1,000 keep the same widths.
    func testTablesPadByCharactersPastTheRowsTheyAreSizedOn() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        let wide = "b" + String(repeating: "\u{E9}", count: 12)
        let users = ["alexandra", "alexandra", "bo", wide, "ze\u{301}d", "zo\u{E9}"] + (0..<1000).map { "u" + String(format: "%04d", $0) }
        let events = users.enumerated().map { i, user in
            #"{"type":"login","at":"2026-03-01T09:00:00Z","user":"\#(user)","session":"s\#(i)","client":"web","method":"google","id":"e\#(i)"}"#
        }.joined(separator: "\n")
        XCTAssertEqual(try Sledger.run(["append", "--ledger", ledger], stdin: Data(events.utf8)).status, 0)
        let lines = try Sledger.run(["who", "--ledger", ledger, "--at", "2026-03-01T10:00:00Z"]).stdout.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 1 + 1005 + 1, "a title line, 1,005 users and the last newline")
        XCTAssertEqual(lines[0], "user" + String(repeating: " ", count: 9 + 2) + "sessions")
        XCTAssertEqual(lines[1], "alexandra" + String(repeating: " ", count: 4 + 2) + "2")
        XCTAssertEqual(lines[2], "bo" + String(repeating: " ", count: 11 + 2) + "1")
        XCTAssertEqual(lines[3], wide + "  1")
        XCTAssertEqual(lines[1003], "u0999" + String(repeating: " ", count: 8 + 2) + "1")
        XCTAssertEqual(lines[1004], "ze\u{301}d" + String(repeating: " ", count: 10 + 2) + "1")
        XCTAssertEqual(lines[1005], "zo\u{E9}" + String(repeating: " ", count: 10 + 2) + "1")
        XCTAssertEqual(lines[1006], "")
    }
}

final class DamagedLedgerCommandTests: XCTestCase {
    func testEveryQueryOnATruncatedLedgerFailsWithAPointerToCheck() throws {
        let dir = try temporaryDirectory(self)
        let ledger = dir + "/ledger", log = dir + "/log.ndjson"
        try writeGeneratedLog(to: log, count: 20_000)
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, log]).status, 0)
        let stats = try JSONSerialization.jsonObject(with: Data(try Sledger.run(["stats", "--ledger", ledger, "--format", "json"]).stdout.utf8)) as! [[String: Any]]
        let used = stats[0]["used_bytes"] as! Int
        XCTAssertEqual(truncate(ledger + "/data.mdb", off_t(used / 2)), 0)
        for arguments in [["export"], ["log"], ["stats"], ["replay"], ["sessions", "--at", "2026-01-02T00:00:00Z"],
                          ["who", "--at", "2026-01-02T00:00:00Z"], ["digest"]] {
            let result = try Sledger.run(arguments + ["--ledger", ledger])
            XCTAssertEqual(result.status, 3, "\(arguments): \(result.stdout)")
            XCTAssertTrue(result.stderr.contains("sledger check"), "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stdout, "", "\(arguments)")
        }
        let check = try Sledger.run(["check", "--ledger", ledger])
        XCTAssertEqual(check.status, 1)
        XCTAssertTrue(check.stdout.hasPrefix("damaged"), check.stdout)
    }
}

final class StandardInputTests: XCTestCase {
    func testAppendReadsStandardInputFromWhereItStandsNotFromTheStartOfTheFile() throws {
        let dir = try temporaryDirectory(self)
        let first = #"{"type":"logout_all","at":"2026-03-01T09:00:00Z","user":"read-by-someone-else"}"# + "\n"
        let second = #"{"type":"logout_all","at":"2026-03-01T09:00:01Z","user":"ours"}"# + "\n"
        let file = dir + "/two.ndjson"
        try (first + second).write(toFile: file, atomically: false, encoding: .utf8)
        let handle = try XCTUnwrap(FileHandle(forReadingAtPath: file))
        try handle.seek(toOffset: UInt64(first.utf8.count))
        let process = Process()
        process.executableURL = Sledger.executable
        process.arguments = ["append", "--ledger", dir + "/ledger"]
        process.standardInput = handle
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertEqual(try Sledger.run(["export", "--ledger", dir + "/ledger"]).stdout, second)
    }
}
