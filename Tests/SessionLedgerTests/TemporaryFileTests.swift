import Foundation
import XCTest
@testable import SessionLedger

/// Runs `body` with TMPDIR set to `directory`, then puts it back.
func withTemporaryDirectory<T>(_ directory: String, _ body: () throws -> T) rethrows -> T {
    let before = getenv("TMPDIR").map { String(cString: $0) }
    setenv("TMPDIR", directory, 1)
    defer { if let before { setenv("TMPDIR", before, 1) } else { unsetenv("TMPDIR") } }
    return try body()
}

final class TemporaryFileTests: XCTestCase {
    func testBytesComeBackByReadAndByMapFromAFileWithNoNameThatClosesOnExec() throws {
        let directory = try temporaryDirectory(self)
        var generator = SystemRandomNumberGenerator()
        let pieces = [0, 1, 4096, 70_000, 3].map { n in (0..<n).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        let all = pieces.flatMap { $0 }
        var descriptor: Int32 = -1
        try withTemporaryDirectory(directory) {
            let file = try TemporaryFile(for: "a test")
            descriptor = file.descriptor
            for piece in pieces { try file.append(piece) }
            XCTAssertEqual(file.count, all.count)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [], "unlinked as soon as it is made")
            XCTAssertNotEqual(fcntl(file.descriptor, F_GETFD) & FD_CLOEXEC, 0, "close-on-exec")
            // Read back at offsets that cross the pieces, and past the end.
            for (offset, size) in [(0, 10), (4000, 200), (all.count - 5, 100), (all.count, 10), (all.count + 7, 10)] {
                var buffer = [UInt8](repeating: 0, count: size)
                let n = try buffer.withUnsafeMutableBytes { try file.read(at: offset, into: $0) }
                let expected = offset < all.count ? Array(all[offset..<min(offset + size, all.count)]) : []
                XCTAssertEqual(Array(buffer[..<n]), expected, "at \(offset)")
            }
            XCTAssertEqual(Array(try file.map()), all)
            XCTAssertEqual(Array(try file.map()), all, "mapped once, the same map again")
        }
        XCTAssertEqual(fcntl(descriptor, F_GETFD), -1, "closed with the file")
    }

    func testADirectoryThatCannotHoldItIsNamedWithTMPDIR() throws {
        let missing = try temporaryDirectory(self) + "/not-there"
        try withTemporaryDirectory(missing) {
            XCTAssertThrowsError(try TemporaryFile(for: "this answer")) { error in
                let message = (error as? TemporaryFile.Failure)?.message ?? "\(error)"
                XCTAssertTrue(message.hasPrefix("cannot create a temporary file in \(missing) for this answer: "), message)
                XCTAssertTrue(message.hasSuffix("(TMPDIR chooses the directory)"), message)
            }
        }
    }
}
