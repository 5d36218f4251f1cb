import Foundation
import XCTest
import LMDB
@testable import SessionLedger

/// Records name their user and session by number; the first record naming each carries the
/// string, and `user_names`/`session_names` give it back (decision 0008, docs/FORMAT.md).
final class NameTableTests: XCTestCase {
    func line(_ text: String) -> [UInt8] { Array((text + "\n").utf8) }

    let firstCall = [
        #"{"type":"login","at":"2026-03-01T09:00:00Z","user":"alice","session":"s1","client":"web","method":"password"}"#,
        #"{"type":"refresh","at":"2026-03-01T10:00:00Z","user":"alice","session":"s1"}"#,
        #"{"type":"login","at":"2026-03-01T10:30:00Z","user":"bob","session":"s2","client":"web","method":"password"}"#,
        #"{"type":"logout_all","at":"2026-03-01T11:00:00Z","user":"alice"}"#,
        #"{"type":"login","at":"2026-03-01T12:00:00Z","user":"alice","session":"s3","client":"ios","method":"password"}"#,
    ]
    let secondCall = [
        #"{"type":"refresh","at":"2026-03-01T13:00:00Z","user":"alice","session":"s3"}"#,
        #"{"type":"logout","at":"2026-03-01T14:00:00Z","user":"carol","session":"s2"}"#,
    ]

    func ledger() throws -> Ledger {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append([InputSource(bytes: firstCall.flatMap(line))])
        _ = try ledger.append([InputSource(bytes: secondCall.flatMap(line))])
        return ledger
    }

    func testTheFirstRecordNamingAUserOrSessionCarriesItsNameAndNoOtherDoes() throws {
        let ledger = try ledger()
        // Worked out by hand from the events above: alice and s1 are new at seq 1, bob and s2 at
        // seq 3, s3 at seq 5 (alice is not), carol at seq 7 (s2 is not); nothing new elsewhere.
        let expected: [Record.Carried] = [[.user, .session], [], [.user, .session], [], [.session], [], [.user]]
        let carried = try ledger.read { snapshot in
            try (1...7).map { seq in Record.carried(try XCTUnwrap(snapshot.txn.get(snapshot.db.log, Key.seq(UInt64(seq))))) }
        }
        XCTAssertEqual(carried, expected)
        // Every event reads back as it was written, names included.
        var parser = EventParser()
        let written = try (firstCall + secondCall).map { text in
            try XCTUnwrap(Array(text.utf8).withUnsafeBytes { try parser.parse($0, lineNumber: 1) })
        }
        let read = try ledger.read { snapshot in try (1...7).map { try XCTUnwrap(snapshot.event(seq: UInt64($0))).event } }
        XCTAssertEqual(read, written)
        XCTAssertTrue(try ledger.check().isIntact)
    }

    func testTheNameTablesHoldEachNameUnderItsNumberWithAChecksum() throws {
        let ledger = try ledger()
        let (users, sessions) = try ledger.read { snapshot in
            (try entries(snapshot, snapshot.db.userNames), try entries(snapshot, snapshot.db.sessionNames))
        }
        func entry(_ number: UInt32, _ name: String) -> [UInt8] {
            // The key's 4 bytes and the name, CRC-32 (the zlib function, tested in RecordTests).
            let covered = [0, 0, 0, UInt8(number)] + Array(name.utf8)
            let crc = covered.withUnsafeBytes { CRC32.checksum($0) }
            return Array(name.utf8) + [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)]
        }
        XCTAssertEqual(users.map(\.0), [1, 2, 3])
        XCTAssertEqual(users.map(\.1), [entry(1, "alice"), entry(2, "bob"), entry(3, "carol")])
        XCTAssertEqual(sessions.map(\.1), [entry(1, "s1"), entry(2, "s2"), entry(3, "s3")])
    }

    func testARewrittenNameIsFoundByCheckAtTheRecordThatCarriesIt() throws {
        let ledger = try ledger()
        try ledger.env.write { txn in
            try txn.put(ledger.db.userNames, Key.number(2), Array("mallory".utf8).withUnsafeBytes { NameEntry.value(2, $0) })
        }
        let report = try ledger.check()
        XCTAssertEqual(report.firstDamagedSeq, 3)
        XCTAssertEqual(report.problems.map(\.description),
                       ["seq 3: the user number does not match the users and user_names indexes"])
    }

    func testADamagedNameEntryIsRefusedNotPrinted() throws {
        let ledger = try ledger()
        try ledger.env.write { txn in
            var value = Array(try XCTUnwrap(txn.get(ledger.db.sessionNames, Key.number(1))))
            value[0] ^= 0x01  // "s1" becomes "r1"; the checksum no longer matches
            try txn.put(ledger.db.sessionNames, Key.number(1), value)
        }
        // seq 2 gives s1 by number: read on its own, it needs the damaged entry.
        XCTAssertThrowsError(try ledger.read { try $0.event(seq: 2) }) { error in
            guard case LedgerError.damaged(let seq, let problem) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(seq, 2)
            XCTAssertEqual(problem, "the name of session number 1 in session_names is damaged (checksum mismatch)")
        }
        // A scan in seq order meets seq 1 first, which carries "s1", and keeps that: right answers.
        var sessions: [String?] = []
        try ledger.read { try $0.forEachEvent { sessions.append($0.event.session); return true } }
        XCTAssertEqual(sessions, ["s1", "s1", "s2", nil, "s3", "s3", "s2"])
        XCTAssertEqual(try ledger.check().firstDamagedSeq, 1)
    }

    func testAMissingNameEntryIsDamage() throws {
        let ledger = try ledger()
        try ledger.env.write { txn in XCTAssertTrue(try txn.delete(ledger.db.userNames, Key.number(1))) }
        XCTAssertThrowsError(try ledger.read { try $0.event(seq: 2) }) { error in
            guard case LedgerError.damaged(let seq, let problem) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(seq, 2)
            XCTAssertEqual(problem, "user number 1 has no name in user_names")
        }
        // `check` names the record that carries the name, and counts the entries.
        XCTAssertEqual(try ledger.check().problems.map(\.description),
                       ["seq 1: the user number does not match the users and user_names indexes",
                        "the user_names index holds 2 entries, the log implies 3"])
    }

    func testNamesThatShareACacheSlotAreEachGivenRight() throws {
        // 80 sessions, each logged in (seq 2k - 1, carrying its name) and refreshed (seq 2k, by
        // number). The cache starts with 16 slots and grows to 64, then 256, as it misses: at
        // each size, sessions n and n + 16 (then n + 64) share a slot.
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        var input: [UInt8] = []
        for n in 1...80 {
            input += line(#"{"type":"login","at":"2026-03-01T09:00:\#(String(format: "%02d", n % 60))Z","user":"u\#(n % 7)","session":"s\#(n)","client":"web","method":"password"}"#)
            input += line(#"{"type":"refresh","at":"2026-03-01T10:00:00Z","user":"u\#(n % 7)","session":"s\#(n)"}"#)
        }
        _ = try ledger.append([InputSource(bytes: input)])
        // One snapshot reads only the refreshes, jumping between colliding numbers, twice over.
        let order = (0..<16).flatMap { slot in stride(from: slot + 1, through: 80, by: 16) }
        let read = try ledger.read { snapshot in
            try (order + order).map { n in try XCTUnwrap(snapshot.event(seq: UInt64(2 * n))).event }
        }
        XCTAssertEqual(read.map(\.session), (order + order).map { "s\($0)" })
        XCTAssertEqual(read.map(\.user), (order + order).map { "u\($0 % 7)" })
    }

    /// Rewrites the record at `seq` with the same event but other carried names, its checksum
    /// recomputed (what a careless or deliberate rewrite would store).
    private func rewrite(_ ledger: Ledger, seq: UInt64, carrying: Record.Carried) throws {
        let (header, stored) = try ledger.read { snapshot in
            (try snapshot.verifiedRecord(seq: seq).header, try XCTUnwrap(snapshot.event(seq: seq)))
        }
        var bytes: [UInt8] = []
        Record.encode(stored.event, recorded: header.recorded, userNumber: header.userNumber,
                      sessionNumber: header.sessionNumber, carrying: carrying, into: &bytes)
        try ledger.env.write { txn in try txn.put(ledger.db.log, Key.seq(seq), bytes) }
    }

    func testCheckNamesARecordThatCarriesANameItIsNotTheFirstToUse() throws {
        let ledger = try ledger()
        try rewrite(ledger, seq: 2, carrying: [.user])  // alice was first named at seq 1
        let report = try ledger.check()
        XCTAssertEqual(report.firstDamagedSeq, 2)
        XCTAssertTrue(report.problems.map(\.description).contains("seq 2: the user number does not match the users and user_names indexes"))
    }

    func testCheckNamesTheFirstRecordOfANameWhenItDoesNotCarryIt() throws {
        let ledger = try ledger()
        try rewrite(ledger, seq: 3, carrying: [.user])  // bob's first record, now without s2
        let report = try ledger.check()
        XCTAssertEqual(report.firstDamagedSeq, 3)
        XCTAssertTrue(report.problems.map(\.description).contains("seq 3: the session number does not match the sessions and session_names indexes"))
    }

    private func entries(_ snapshot: LedgerSnapshot, _ table: Database) throws -> [(UInt32, [UInt8])] {
        try snapshot.txn.withCursor(table) { cursor in
            var out: [(UInt32, [UInt8])] = []
            try cursor.forEach(from: cursor.first()) { entry in
                out.append((UInt32(readBE(entry.key, 0, 4)), Array(entry.value)))
                return true
            }
            return out
        }
    }
}
