import Foundation
import Hummingbird
import NIOCore
import XCTest
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
        var generator = SystemRandomNumberGenerator()
        for memoryBytes in [0, 100, 100_000] {  // the output hands over 64 KiB at a time: 100,000 keeps a first part in memory
            for size in [0, 50, 150, 2 * AnswerSpool.chunkBytes + 12_345] {
                let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let spool = AnswerSpool(memoryBytes: memoryBytes)
                var at = 0
                for piece in [1, 49, 70_000, Int.max] where at < size {  // pieces of several sizes
                    let end = min(size, at + min(piece, size))
                    spool.output.write(Array(bytes[at..<end]))
                    at = end
                }
                try spool.finish()
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
}
