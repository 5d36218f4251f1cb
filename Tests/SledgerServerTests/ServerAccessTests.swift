import Foundation
import XCTest

/// Bearer tokens: 401 without a valid one, 403 for a read token writing; /healthz is open.
final class ServerAccessTests: XCTestCase {
    let readToken = "read-0123456789abcdef"
    let writeToken = "write-0123456789abcdef"

    func tokenFile() throws -> String {
        let path = try temporaryLedger(self) + ".tokens"
        try "# sledger tokens\nread \(readToken)\n\nwrite \(writeToken)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testEveryRouteButHealthNeedsAValidTokenAndAReadTokenCannotWrite() async throws {
        let server = try ServerProcess(self, arguments: ["--token-file", try tokenFile()])
        let event = login("a") + "\n"
        let health = try await server.get("/healthz")
        XCTAssertEqual(health.status, 200)
        let none = try await server.get("/v1/stats")
        XCTAssertEqual(none.status, 401)
        let wrong = try await server.get("/v1/stats", headers: ["Authorization": "Bearer read-0123456789abcdeX"])
        XCTAssertEqual(wrong.status, 401)
        let notBearer = try await server.get("/v1/stats", headers: ["Authorization": "Basic \(readToken)"])
        XCTAssertEqual(notBearer.status, 401)
        let page = try await server.get("/")
        XCTAssertEqual(page.status, 401)
        let readWrites = try await server.post(event, headers: ["Authorization": "Bearer \(readToken)"])
        XCTAssertEqual(readWrites.status, 403)
        let anonymousWrites = try await server.post(event)
        XCTAssertEqual(anonymousWrites.status, 401)
        let writes = try await server.post(event, headers: ["Authorization": "Bearer \(writeToken)"])
        XCTAssertEqual(writes.status, 200)
        let reads = try await server.get("/v1/stats", headers: ["Authorization": "Bearer \(readToken)"])
        XCTAssertEqual(reads.status, 200)
        XCTAssertEqual(reads.records.first?["events"] as? Int, 1, "only the write token's event is stored")
        let writerReads = try await server.get("/v1/who", headers: ["Authorization": "Bearer \(writeToken)"])
        XCTAssertEqual(writerReads.status, 200)
    }

    func testANonLoopbackAddressWithoutATokenFileIsRefusedAtStart() throws {
        let (status, stderr) = try serveRefused(["--listen", "0.0.0.0:0"])
        XCTAssertEqual(status, 2)
        XCTAssertEqual(stderr, "--listen 0.0.0.0:0 is not a loopback address: give --token-file too\n")
    }

    func testABadTokenFileIsRefusedNamingTheLine() throws {
        let path = try temporaryLedger(self) + ".tokens"
        try "read \(readToken)\nadmin \(writeToken)\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (status, stderr) = try serveRefused(["--listen", "127.0.0.1:0", "--token-file", path])
        XCTAssertEqual(status, 2)
        XCTAssertEqual(stderr, "\(path): line 2: expected `read TOKEN` or `write TOKEN`\n")
    }

    func testLongQueriesOutsideOneTo64AreRefusedAtStartInOneLine() throws {
        for n in ["0", "65"] {
            let (status, stderr) = try serveRefused(["--long-queries", n])
            XCTAssertNotEqual(status, 0, n)
            XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
            XCTAssertTrue(stderr.contains("--long-queries must be from 1 to 64"), stderr)
        }
    }

    /// Runs `sledger serve ARGUMENTS`, which should refuse to start: its status and standard error.
    func serveRefused(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = ServerProcess.executable
        process.arguments = ["serve", "--ledger", try temporaryLedger(self)] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}
