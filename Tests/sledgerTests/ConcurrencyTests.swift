import Foundation
import XCTest

/// SPEC.md section 3, concurrency: readers query while one process writes; writers take turns.
final class ConcurrencyTests: XCTestCase {
    func testReadersQueryWhileAWriterImports() throws {
        let dir = try temporaryDirectory(self)
        let ledger = dir + "/ledger", base = dir + "/base.ndjson", big = dir + "/big.ndjson"
        try writeGeneratedLog(to: base, count: 2_000, idPrefix: "base-")
        try writeGeneratedLog(to: big, count: 40_000, idPrefix: "big-")
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, base]).status, 0)
        let writer = try Sledger.start(["import", "--ledger", ledger, big])
        var reads = 0
        var counts: [Int] = []
        repeat {
            counts.append(try Sledger.eventCount(ledger))
            let check = try Sledger.run(["check", "--ledger", ledger])
            XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
            reads += 1
        } while writer.isRunning
        writer.waitUntilExit()
        XCTAssertEqual(writer.terminationStatus, 0)
        XCTAssertGreaterThan(reads, 0)
        for count in counts { XCTAssertTrue(count == 2_000 || count == 42_000, "a reader saw \(count) events") }
        XCTAssertEqual(try Sledger.eventCount(ledger), 42_000)
    }

    func testWritersInSeveralProcessesTakeTurns() throws {
        let dir = try temporaryDirectory(self)
        let ledger = dir + "/ledger"
        var writers: [Process] = []
        for w in 0..<4 {
            let file = dir + "/w\(w).ndjson"
            try writeGeneratedLog(to: file, count: 3_000, idPrefix: "w\(w)-")
            writers.append(try Sledger.start(["import", "--ledger", ledger, file]))
        }
        for writer in writers {
            writer.waitUntilExit()
            XCTAssertEqual(writer.terminationStatus, 0)
        }
        XCTAssertEqual(try Sledger.eventCount(ledger), 12_000)
        let check = try Sledger.run(["check", "--ledger", ledger])
        XCTAssertEqual(check.status, 0, check.stdout)
        // Each writer's events are contiguous: a call is one transaction.
        let log = try Sledger.run(["log", "--ledger", ledger, "--format", "ndjson"]).stdout
        let prefixes = log.split(separator: "\n").map { line -> String in
            let id = line.range(of: #""id":"w"#)!
            return String(line[id.upperBound...].prefix(1))
        }
        var runs = 1
        for i in 1..<prefixes.count where prefixes[i] != prefixes[i - 1] { runs += 1 }
        XCTAssertEqual(runs, 4)
    }
}
