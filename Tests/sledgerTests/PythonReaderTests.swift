import Foundation
import XCTest

/// docs/FORMAT.md is enough to read a ledger: Tools/user_events.py does it with Python's lmdb
/// module alone, and must print exactly what `sledger log` prints.
final class PythonReaderTests: XCTestCase {
    let python = "/usr/bin/python3"

    func runPython(_ arguments: [String]) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repositoryDirectory + "/Tools/user_events.py"] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                             stderr: String(decoding: stderr, as: UTF8.self))
    }

    func testAPythonScriptReadsOneUsersEventsAndTheChainHeadFromTheFormatAlone() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        // Blocks of 64 events (format 6): the user's by_user entries lie under many of them.
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, fixturesDirectory + "/team-quarter/events.ndjson"],
                                       environment: ["SLEDGER_INDEX_BLOCK_BITS": "6"]).status, 0)
        let log = try Sledger.run(["log", "--ledger", ledger, "--format", "ndjson"]).stdout.split(separator: "\n")
        // Pick a user with many events, and one with a non-ASCII name if the fixture has one.
        var counts: [String: Int] = [:]
        for line in log {
            let user = line.components(separatedBy: "\"user\":\"")[1].components(separatedBy: "\"")[0]
            counts[user, default: 0] += 1
        }
        let user = counts.max { $0.value < $1.value }!.key
        let python = try runPython(["--ledger", ledger, "--user", user])
        XCTAssertEqual(python.status, 0, python.stderr)
        let expected = log.filter { $0.contains("\"user\":\"\(user)\"") }.map { $0 + "\n" }.joined()
        XCTAssertFalse(expected.isEmpty)
        XCTAssertEqual(python.stdout, expected)

        let chain = try runPython(["--ledger", ledger, "--verify-chain"])
        XCTAssertEqual(chain.status, 0, chain.stderr)
        XCTAssertEqual(chain.stdout, try Sledger.digest(ledger))
    }
}
