import XCTest
@testable import SessionLedger

final class RecordTests: XCTestCase {
    func testCRC32IsTheIEEEChecksumZlibComputes() {
        // The standard check value of CRC-32/ISO-HDLC: crc32(b"123456789") == 0xCBF43926.
        let bytes = Array("123456789".utf8)
        XCTAssertEqual(bytes.withUnsafeBytes { CRC32.checksum($0) }, 0xCBF4_3926)
    }

    func testARecordDecodesToTheEventItEncoded() throws {
        let event = Event(kind: .login, at: Instant(nanoseconds: -5), user: "alice", session: "s1", client: "web",
                          method: "google", id: "e1", ip: "::1", agent: "agent", meta: [.init(key: "k", value: "v")])
        var bytes: [UInt8] = []
        Record.encode(event, recorded: Instant(nanoseconds: 42), userNumber: 3, sessionNumber: 9, into: &bytes)
        let (header, decoded) = try bytes.withUnsafeBytes { try Record.decode($0) }
        XCTAssertEqual(decoded, event)
        XCTAssertEqual(header.recorded.nanoseconds, 42)
        XCTAssertEqual(header.userNumber, 3)
        XCTAssertEqual(header.sessionNumber, 9)
        // The layout of docs/FORMAT.md: version, type, flags (all seven), reserved.
        XCTAssertEqual(Array(bytes[0..<4]), [1, 1, 0x7F, 0])
    }

    func testEveryFlippedBitIsCaught() throws {
        let event = Event(kind: .logoutAll, at: Instant(nanoseconds: 1), user: "bob")
        var bytes: [UInt8] = []
        Record.encode(event, recorded: Instant(nanoseconds: 2), userNumber: 1, sessionNumber: 0, into: &bytes)
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x10
            XCTAssertThrowsError(try damaged.withUnsafeBytes { try Record.decode($0) }, "byte \(index)")
        }
    }
}
