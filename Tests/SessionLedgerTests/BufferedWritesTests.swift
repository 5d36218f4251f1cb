import Foundation
import XCTest
@testable import SessionLedger

/// Calls of at most `Ledger.Writes.bufferedCallBytes` write through LMDB's buffers, larger ones
/// through the map (decision 0012): the choice, the read-ahead of a pipe it needs, and that the
/// two ways leave the same ledger.
final class BufferedWritesTests: XCTestCase {
    func testACallIsBufferedWhenItsFilesHoldAtMostTheLimitTogether() throws {
        let dir = try temporaryDirectory(self)
        let limit = Ledger.Writes.bufferedCallBytes
        func file(_ name: String, bytes: Int) throws -> InputSource {
            try Data(repeating: 0x0A, count: bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
            return try InputSource(path: dir + "/" + name)
        }
        XCTAssertEqual(try Ledger.Writes.forCall([try file("a", bytes: limit)]), .buffered)
        XCTAssertEqual(try Ledger.Writes.forCall([try file("b", bytes: limit + 1)]), .mapped)
        XCTAssertEqual(try Ledger.Writes.forCall([try file("c", bytes: limit / 2), try file("d", bytes: limit / 2)]), .buffered)
        XCTAssertEqual(try Ledger.Writes.forCall([try file("e", bytes: limit / 2), try file("f", bytes: limit / 2 + 1)]), .mapped)
    }

    /// A pipe is read ahead to tell its size; every byte read ahead is still stored.
    func testAPipeIsReadAheadToChooseAndLosesNoByte() throws {
        let limit = Ledger.Writes.bufferedCallBytes
        let small = generatedLines(count: 2_000)
        let large = generatedLines(count: 30_000, idPrefix: "big-")
        XCTAssertLessThan(small.count, limit)
        XCTAssertGreaterThan(large.count, limit + (1 << 16), "more than the limit and one read past it")
        for (input, expected) in [(small, Ledger.Writes.buffered), (large, .mapped)] {
            let source = try pipeSource(input)
            XCTAssertEqual(try Ledger.Writes.forCall([source]), expected)
            let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite, writes: expected)
            let summary = try ledger.append([source])
            XCTAssertEqual(summary.imported, input.filter { $0 == 0x0A }.count)
            XCTAssertEqual(try exported(ledger), try exported(events: input), "the same events in the same order")
        }
    }

    /// The same calls, buffered, mapped, or each way in turn on one ledger, store the same
    /// events and leave an intact ledger; a buffered call also cuts the file to the pages
    /// in use (LMDB does that itself only through the map).
    func testBufferedMappedAndMixedCallsLeaveTheSameLedgerAndAFileOfThePagesInUse() throws {
        let calls = (0..<4).map { generatedLines(count: 3_000, seed: UInt64($0 + 1), idPrefix: "c\($0)-") }
        var exports: [[UInt8]] = []
        for ways in [[Ledger.Writes.mapped], [.buffered], [.mapped, .buffered]] {
            let path = try temporaryDirectory(self) + "/l"
            for (k, call) in calls.enumerated() {
                // One open per call, as the CLI does, so a mixed ledger changes way between calls.
                let ledger = try Ledger(path: path, access: .readWrite, initialMapSize: 1 << 20, writes: ways[k % ways.count])
                XCTAssertEqual(try ledger.append([InputSource(bytes: call)]).imported, 3_000)
                let usage = try ledger.diskUsage()
                XCTAssertLessThanOrEqual(usage.fileBytes, (usage.usedBytes + (1 << 20) - 1) & ~((1 << 20) - 1),
                                         "\(ways[k % ways.count]) call \(k): the file is cut to the pages in use, rounded up to a MiB")
            }
            let ledger = try Ledger(path: path, access: .readOnly)
            let report = try ledger.check()
            XCTAssertTrue(report.isIntact, "\(ways): \(report.problems)")
            XCTAssertEqual(report.events, 12_000)
            exports.append(try exported(ledger))
        }
        XCTAssertEqual(exports[0], try exported(events: calls.reduce([], +)))
        XCTAssertEqual(Set(exports).count, 1, "every way stores the same events in the same order")
    }

    /// The stored events in `seq` order, as canonical NDJSON (what `export` prints).
    private func exported(_ ledger: Ledger) throws -> [UInt8] {
        var out: [UInt8] = []
        try ledger.read { snapshot in
            try snapshot.forEachEvent { stored in
                CanonicalWriter.write(stored.event, into: &out)
                out.append(0x0A)
                return true
            }
        }
        return out
    }

    /// The same for NDJSON lines, parsed and written canonically.
    private func exported(events input: [UInt8]) throws -> [UInt8] {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/reference", access: .readWrite)
        _ = try ledger.append([InputSource(bytes: input)])
        return try exported(ledger)
    }

    /// `input` through a pipe written by another thread.
    private func pipeSource(_ input: [UInt8]) throws -> InputSource {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let writer = Thread {
            input.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(fds[1], raw.baseAddress! + offset, raw.count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
            close(fds[1])
        }
        writer.start()
        return InputSource(fileDescriptor: fds[0], name: nil)
    }
}
