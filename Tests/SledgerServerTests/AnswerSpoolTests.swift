import Foundation
import Hummingbird
import NIOCore
import XCTest
@testable import SessionLedger
@testable import SledgerServer

final class AnswerSpoolTests: XCTestCase {
    /// Collects what a response body writes.
    final class Collected: @unchecked Sendable {
        var bytes: [UInt8] = []
        var writes = 0
        var finished = false
    }

    struct CollectingWriter: ResponseBodyWriter {
        let into: Collected
        mutating func write(_ buffer: ByteBuffer) async throws {
            into.bytes += buffer.readableBytesView
            into.writes += 1
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws { into.finished = true }
    }

    /// Every answer comes back whole and in order, in memory or spilled, across the file's
    /// chunks; the body says its length.
    func testAnAnswerComesBackWholeFromMemoryAndFromItsFile() async throws {
        let directory = URL(fileURLWithPath: try temporaryLedger(self)).deletingLastPathComponent().path
        var generator = SystemRandomNumberGenerator()
        for memoryBytes in [0, 100, 100_000] {  // the output hands over 64 KiB at a time: 100,000 keeps a first part in memory
            for size in [0, 50, 150, 2 * AnswerSpool.chunkBytes + 12_345] {
                let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let spool = AnswerSpool(memoryBytes: memoryBytes)
                try withTemporaryDirectory(directory) {
                    var at = 0
                    for piece in [1, 49, 70_000, Int.max] where at < size {  // pieces of several sizes
                        let end = min(size, at + min(piece, size))
                        spool.output.write(Array(bytes[at..<end]))
                        at = end
                    }
                    try spool.finish()
                }
                let label = "\(size) bytes, \(memoryBytes) in memory"
                XCTAssertEqual(spool.spilled, size > memoryBytes, label)
                let body = spool.body()
                XCTAssertEqual(body.contentLength, size, label)
                let collected = Collected()
                try await body.write(CollectingWriter(into: collected))
                XCTAssertEqual(collected.bytes, bytes, label)
                XCTAssertTrue(collected.finished, label)
                if size > memoryBytes + AnswerSpool.chunkBytes { XCTAssertGreaterThan(collected.writes, 2, label) }
            }
        }
    }

    /// A file that cannot be made fails the answer (the route then answers with an error),
    /// naming TMPDIR; an answer that fits in memory needs none.
    func testAnAnswerThatCannotSpillFailsNamingTMPDIR() throws {
        let missing = try temporaryLedger(self) + "-not-there"
        try withTemporaryDirectory(missing) {
            let small = AnswerSpool(memoryBytes: 100)
            small.output.write([UInt8](repeating: 65, count: 100))
            XCTAssertNoThrow(try small.finish())
            let large = AnswerSpool(memoryBytes: 100)
            large.output.write([UInt8](repeating: 65, count: 101))
            XCTAssertThrowsError(try large.finish()) { error in
                XCTAssertTrue("\(error)".contains("(TMPDIR chooses the directory)"), "\(error)")
                XCTAssertTrue("\(error)".contains(missing), "\(error)")
            }
        }
    }
}

/// Runs `body` with TMPDIR set to `directory`, then puts it back.
private func withTemporaryDirectory<T>(_ directory: String, _ body: () throws -> T) rethrows -> T {
    let before = getenv("TMPDIR").map { String(cString: $0) }
    setenv("TMPDIR", directory, 1)
    defer { if let before { setenv("TMPDIR", before, 1) } else { unsetenv("TMPDIR") } }
    return try body()
}
