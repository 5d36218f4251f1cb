import Foundation
import XCTest
@testable import SessionLedger

/// Calls of at most `Ledger.Writes.bufferedCallBytes` and `bufferedCallLines` write through
/// LMDB's buffers, larger ones through the map (decision 0012): the choice, the read-ahead of a
/// pipe it needs, and that the two ways leave the same ledger.
final class BufferedWritesTests: XCTestCase {
    func testACallIsBufferedWhenItsFilesHoldAtMostTheLimitsTogether() throws {
        let dir = try temporaryDirectory(self)
        let bytes = Ledger.Writes.bufferedCallBytes, lines = Ledger.Writes.bufferedCallLines
        func file(_ name: String, bytes: Int, lines: Int) throws -> InputSource {
            // `lines` lines in `bytes` bytes: spaces, a newline ending each line.
            var data = [UInt8](repeating: 0x20, count: bytes)
            for k in 1...lines { data[k * bytes / lines - 1] = 0x0A }
            try Data(data).write(to: URL(fileURLWithPath: dir + "/" + name))
            return try InputSource(path: dir + "/" + name)
        }
        XCTAssertEqual(try Ledger.Writes.forCall([try file("a", bytes: bytes, lines: 100)]), .buffered)
        XCTAssertEqual(try Ledger.Writes.forCall([try file("b", bytes: bytes + 1, lines: 100)]), .mapped)
        XCTAssertEqual(try Ledger.Writes.forCall([try file("c", bytes: bytes / 2, lines: 10), try file("d", bytes: bytes / 2, lines: 10)]), .buffered)
        XCTAssertEqual(try Ledger.Writes.forCall([try file("e", bytes: bytes / 2, lines: 10), try file("f", bytes: bytes / 2 + 1, lines: 10)]), .mapped)
        XCTAssertEqual(try Ledger.Writes.forCall([try file("g", bytes: 100_000, lines: lines)]), .buffered)
        XCTAssertEqual(try Ledger.Writes.forCall([try file("h", bytes: 100_000, lines: lines + 1)]), .mapped, "many short events")
        XCTAssertEqual(try Ledger.Writes.forCall([try file("i", bytes: 10_000, lines: lines / 2), try file("j", bytes: 10_000, lines: lines / 2 + 1)]), .mapped)
        // A last line without a newline counts.
        try Data(repeating: 0x20, count: 10).write(to: URL(fileURLWithPath: dir + "/k"))
        XCTAssertEqual(try InputSource(path: dir + "/k").extent(atMost: 10)?.lines, 1)
    }

    /// A pipe is read ahead to tell its size, at the limit and one byte past it, alone or after
    /// a file; every byte read ahead is still read.
    func testAPipeIsReadAheadToTheLimitAndReadAgainFromItsFirstByte() throws {
        let limit = Ledger.Writes.bufferedCallBytes
        let atLimit = [UInt8](repeating: 0x20, count: limit - 1) + [0x0A]
        for (input, expected) in [(atLimit, Ledger.Writes.buffered), (atLimit + [0x0A], .mapped)] {
            let source = try pipeSource(input)
            XCTAssertEqual(try Ledger.Writes.forCall([source]), expected)
            XCTAssertEqual(try readAll(source), input)
        }
        let dir = try temporaryDirectory(self)
        try Data(repeating: 0x0A, count: 1000).write(to: URL(fileURLWithPath: dir + "/first"))
        let pipe = try pipeSource([UInt8](repeating: 0x20, count: limit - 1000) + [0x0A])
        XCTAssertEqual(try Ledger.Writes.forCall([try InputSource(path: dir + "/first"), pipe]), .mapped,
                       "the file's 1,000 bytes and the pipe's are over the limit together")
    }

    /// Once a FIFO (or a terminal) has said end of input, it is not read again: a new writer's
    /// lines are not part of the call, and a terminal needs one end of input, not two.
    func testAnEndedFIFOIsNotReadAgainAfterTheReadAhead() throws {
        let dir = try temporaryDirectory(self)
        let path = dir + "/fifo"
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        let first = Thread {
            let fd = open(path, O_WRONLY)
            _ = write(fd, "a\n", 2)
            close(fd)
        }
        first.start()
        let source = try InputSource(path: path)
        XCTAssertEqual(try source.extent(atMost: 100)?.bytes, 2)
        // Another writer now: the FIFO is still open for reading, so its open does not wait.
        let fd = open(path, O_WRONLY | O_NONBLOCK)
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(write(fd, "b\n", 2), 2)
        close(fd)
        XCTAssertEqual(try readAll(source), Array("a\n".utf8))
    }

    /// A pipe's events are all stored once, buffered or mapped.
    func testAPipeIsStoredWhole() throws {
        let small = generatedLines(count: 2_000)
        let large = generatedLines(count: 30_000, idPrefix: "big-")
        for (input, expected) in [(small, Ledger.Writes.buffered), (large, .mapped)] {
            let source = try pipeSource(input)
            XCTAssertEqual(try Ledger.Writes.forCall([source]), expected)
            let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite, writes: expected)
            let summary = try ledger.append([source])
            XCTAssertEqual(summary.imported, input.filter { $0 == 0x0A }.count)
            XCTAssertEqual(summary.duplicates, 0)
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

    /// Every byte `source` gives from where it stands.
    private func readAll(_ source: InputSource) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0.baseAddress!, count: $0.count) }
            if n == 0 { return out }
            out += buffer[..<n]
        }
    }
}
