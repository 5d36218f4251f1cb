import XCTest
@testable import SessionLedger

final class RecordTests: XCTestCase {
    func testCRC32IsTheIEEEChecksumZlibComputes() {
        // The standard check value of CRC-32/ISO-HDLC: crc32(b"123456789") == 0xCBF43926.
        let bytes = Array("123456789".utf8)
        XCTAssertEqual(bytes.withUnsafeBytes { CRC32.checksum($0) }, 0xCBF4_3926)
    }

    /// From 64 bytes on the bulk is folded by carry-less multiplies where the CPU has them:
    /// values Python's `zlib.crc32` gave for these bytes, and the table-driven CRC for every
    /// length to 300 at every offset within 16 bytes.
    func testCRC32OfLongerBytesIsZlibsAndTheTablesAtEveryLengthAndOffset() {
        let pattern = (0..<100_003).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
        // zlib.crc32(bytes(1 << 20)), of bytes((i * 7 + 3) & 0xFF for i in range(100003)),
        // and of its slices [5:69] and [1:80].
        XCTAssertEqual([UInt8](repeating: 0, count: 1 << 20).withUnsafeBytes { CRC32.checksum($0) }, 0xA738_EA1C)
        pattern.withUnsafeBytes { bytes in
            XCTAssertEqual(CRC32.checksum(bytes), 0xCD67_6DAB)
            XCTAssertEqual(CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[5..<69])), 0xFA00_FA26)
            XCTAssertEqual(CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[1..<80])), 0x0794_0E61)
            for offset in 0..<16 {
                for count in 0...300 {
                    let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
                    XCTAssertEqual(CRC32.checksum(slice), CRC32.bySlicing(slice), "offset \(offset), \(count) bytes")
                }
            }
        }
        // Where the kernel lists the instruction, it is used (else the test above checks only the tables).
        if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8), cpu.contains(" pclmulqdq"), cpu.contains(" sse4_1") {
            XCTAssertTrue(CRC32.pclmul)
        }
    }

    /// Names by number, for records that do not carry them; a test fails if asked for any other.
    private struct Names: NameSource {
        var users: [UInt32: String] = [:]
        var sessions: [UInt32: String] = [:]
        func user(_ number: UInt32) throws -> String {
            guard let name = users[number] else { throw Record.Damage(problem: "no user \(number)") }
            return name
        }
        func session(_ number: UInt32) throws -> String {
            guard let name = sessions[number] else { throw Record.Damage(problem: "no session \(number)") }
            return name
        }
    }

    func testARecordDecodesToTheEventItEncoded() throws {
        let event = Event(kind: .login, at: Instant(nanoseconds: -5), user: "alice", session: "s1", client: "web",
                          method: "google", id: "e1", ip: "::1", agent: "agent", meta: [.init(key: "k", value: "v")])
        var bytes: [UInt8] = []
        Record.encode(event, recorded: Instant(nanoseconds: 42), userNumber: 3, sessionNumber: 9, carrying: [.user, .session],
                      into: &bytes)
        // Both names carried: the name source is never asked.
        let (header, decoded) = try bytes.withUnsafeBytes { try Record.decode($0, names: Names()) }
        XCTAssertEqual(decoded, event)
        XCTAssertEqual(header.recorded.nanoseconds, 42)
        XCTAssertEqual(header.userNumber, 3)
        XCTAssertEqual(header.sessionNumber, 9)
        // The layout of docs/FORMAT.md: version 2, type, flags (all seven), names carried (both).
        XCTAssertEqual(Array(bytes[0..<4]), [2, 1, 0x7F, 0x03])
        // Then `user` and `session` as u16 LE length + bytes, right after the 28-byte header.
        XCTAssertEqual(Array(bytes[28..<37]), [5, 0, 97, 108, 105, 99, 101, 2, 0])
    }

    func testARecordWithoutItsNamesTakesThemFromTheNameSource() throws {
        let event = Event(kind: .refresh, at: Instant(nanoseconds: 7), user: "alice", session: "s1", id: "e2")
        var carried: [UInt8] = [], bare: [UInt8] = []
        Record.encode(event, recorded: Instant(nanoseconds: 8), userNumber: 3, sessionNumber: 9, carrying: [.user, .session],
                      into: &carried)
        Record.encode(event, recorded: Instant(nanoseconds: 8), userNumber: 3, sessionNumber: 9, carrying: [], into: &bare)
        // Without them the record is shorter by both strings: 2 + 5 and 2 + 2 bytes.
        XCTAssertEqual(carried.count - bare.count, 11)
        XCTAssertEqual(bare[3], 0)
        XCTAssertThrowsError(try bare.withUnsafeBytes { try Record.decode($0, names: Names()) })
        let names = Names(users: [3: "alice"], sessions: [9: "s1"])
        XCTAssertEqual(try bare.withUnsafeBytes { try Record.decode($0, names: names) }.event, event)
        // Only the session carried: the user comes from the source.
        var half: [UInt8] = []
        Record.encode(event, recorded: Instant(nanoseconds: 8), userNumber: 3, sessionNumber: 9, carrying: [.session], into: &half)
        XCTAssertEqual(try half.withUnsafeBytes { try Record.decode($0, names: Names(users: [3: "alice"])) }.event, event)
    }

    func testAnEventWithoutASessionNeverCarriesOne() throws {
        let event = Event(kind: .logoutAll, at: Instant(nanoseconds: 1), user: "bob")
        var bytes: [UInt8] = []
        Record.encode(event, recorded: Instant(nanoseconds: 2), userNumber: 1, sessionNumber: 0, carrying: [.user, .session],
                      into: &bytes)
        XCTAssertEqual(bytes[3], 0x01)
        XCTAssertEqual(try bytes.withUnsafeBytes { try Record.decode($0, names: Names()) }.event, event)
        // A session number on an event without a session does not decode.
        var numbered: [UInt8] = []
        Record.encode(event, recorded: Instant(nanoseconds: 2), userNumber: 1, sessionNumber: 4, carrying: [.user], into: &numbered)
        XCTAssertThrowsError(try numbered.withUnsafeBytes { try Record.decode($0, names: Names(sessions: [4: "s"])) })
    }

    func testEveryFlippedBitIsCaught() throws {
        let event = Event(kind: .logoutAll, at: Instant(nanoseconds: 1), user: "bob")
        for carrying: Record.Carried in [[.user], []] {
            var bytes: [UInt8] = []
            Record.encode(event, recorded: Instant(nanoseconds: 2), userNumber: 1, sessionNumber: 0, carrying: carrying, into: &bytes)
            for index in bytes.indices {
                var damaged = bytes
                damaged[index] ^= 0x10
                XCTAssertThrowsError(try damaged.withUnsafeBytes { try Record.decode($0, names: Names(users: [1: "bob"])) },
                                     "byte \(index)")
            }
        }
    }
}
