import Foundation
import XCTest

/// SPEC.md section 3, durability: a `kill -9` before `import` reports success leaves the ledger as
/// it was; after it, loses nothing.
final class CrashTests: XCTestCase {
    func testAnImportKilledAtAnyMomentLeavesTheOldOrTheNewLedgerNeverBetween() throws {
        let dir = try temporaryDirectory(self)
        let base = dir + "/base.ndjson", big = dir + "/big.ndjson"
        try writeGeneratedLog(to: base, count: 1_000, idPrefix: "base-")
        try writeGeneratedLog(to: big, count: 60_000, idPrefix: "big-")
        let delays: [UInt32] = [30_000, 120_000, 250_000, 500_000, 900_000, 1_500_000, 4_000_000]
        var killedMidway = 0
        for (round, delay) in delays.enumerated() {
            let ledger = dir + "/ledger\(round)"
            XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, base]).status, 0)
            let writer = try Sledger.start(["import", "--ledger", ledger, big])
            usleep(delay)
            let finishedFirst = !writer.isRunning
            kill(writer.processIdentifier, SIGKILL)
            writer.waitUntilExit()

            let check = try Sledger.run(["check", "--ledger", ledger])
            XCTAssertEqual(check.status, 0, "round \(round): \(check.stdout)\(check.stderr)")
            let count = try Sledger.eventCount(ledger)
            XCTAssertTrue(count == 1_000 || count == 61_000, "round \(round): \(count) events after the kill")
            if count == 1_000 { killedMidway += 1 }
            if finishedFirst { XCTAssertEqual(count, 61_000, "a reported success must survive") }

            // The same import run again converges on the same ledger.
            let rerun = try Sledger.run(["import", "--ledger", ledger, big])
            XCTAssertEqual(rerun.status, 0, rerun.stderr)
            XCTAssertEqual(try Sledger.eventCount(ledger), 61_000)
        }
        XCTAssertGreaterThan(killedMidway, 0, "at least one kill landed while the import was running")
    }

    func testAReaderKilledInsideATransactionDoesNotStopTheWriter() throws {
        let dir = try temporaryDirectory(self)
        let ledger = dir + "/ledger", log = dir + "/log.ndjson"
        try writeGeneratedLog(to: log, count: 5_000)
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, log]).status, 0)
        // `log --follow` holds read transactions over and over; kill it while it does.
        let reader = try Sledger.start(["log", "--ledger", ledger, "--follow", "--format", "ndjson"])
        usleep(300_000)
        kill(reader.processIdentifier, SIGKILL)
        reader.waitUntilExit()
        for round in 0..<3 {
            let more = dir + "/more\(round).ndjson"
            try writeGeneratedLog(to: more, count: 5_000, idPrefix: "more\(round)-")
            let result = try Sledger.run(["import", "--ledger", ledger, more])
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        XCTAssertEqual(try Sledger.eventCount(ledger), 20_000)
        XCTAssertEqual(try Sledger.run(["check", "--ledger", ledger]).status, 0)
    }
}
