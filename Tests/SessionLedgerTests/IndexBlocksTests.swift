import LMDB
import XCTest
@testable import SessionLedger

#if canImport(Glibc)
import Glibc
#endif

/// Format 6 (decision 0014): `by_user` and `by_session` file each event under its block of
/// the log and then the number. With blocks of 8 events (`SLEDGER_INDEX_BLOCK_BITS=3`), a few
/// calls of a generated log cross dozens of them, mid-call and between calls.
final class IndexBlocksTests: XCTestCase {
    /// A generated log stored in calls of 37 events into a ledger with blocks of 2^bits.
    private func ledger(bits: String, seed: UInt64) throws -> (Ledger, [Event]) {
        var generator = TestLogGenerator(seed: seed)
        let events = generator.events()
        let ledger = try withIndexBlockBits(bits) { try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite) }
        for start in stride(from: 0, to: events.count, by: 37) {
            _ = try ledger.append(events: Array(events[start..<min(start + 37, events.count)]))
        }
        return (ledger, events)
    }

    /// Every user's and session's `seq`s read through the indexes are the ones a scan of the
    /// log gives (by_session: all but the refreshes by the user that first named the session),
    /// in order; every entry lies under its own `seq`'s block; `check` finds nothing wrong.
    func testEntriesAreFiledUnderTheirBlockAndReadBackInOrder() throws {
        for seed in UInt64(1)...4 {
            let (ledger, events) = try ledger(bits: "3", seed: seed)
            XCTAssertEqual(ledger.db.blocks.bits, 3)
            try ledger.read { snapshot in
                var byUser: [UInt32: [UInt64]] = [:]
                var bySession: [UInt32: [UInt64]] = [:]
                var home: [UInt32: UInt32] = [:]
                for seq in UInt64(1)...UInt64(events.count) {
                    let stored = try XCTUnwrap(try snapshot.event(seq: seq))
                    byUser[stored.userNumber, default: []].append(seq)
                    guard stored.event.session != nil else { continue }
                    let owner = home[stored.sessionNumber] ?? stored.userNumber
                    home[stored.sessionNumber] = owner
                    if stored.event.kind != .refresh || stored.userNumber != owner {
                        bySession[stored.sessionNumber, default: []].append(seq)
                    }
                }
                XCTAssertGreaterThanOrEqual(byUser.count, 3, "seed \(seed)")
                for (user, seqs) in byUser {
                    XCTAssertEqual(try snapshot.seqs(ofUser: user), seqs, "seed \(seed), user number \(user)")
                }
                for (session, seqs) in bySession {
                    XCTAssertEqual(try snapshot.seqs(ofSession: session), seqs, "seed \(seed), session number \(session)")
                }
                var blocksSeen = Set<UInt32>()
                for database in [snapshot.db.byUser, snapshot.db.bySession] {
                    try snapshot.txn.withCursor(database) { cursor in
                        var entry = try cursor.first()
                        while let current = entry {
                            XCTAssertEqual(current.key.count, 8)
                            let seq: UInt64 = readBE(current.value, 0, 8)
                            XCTAssertEqual(UInt32(readBE(current.key, 0, 4)), UInt32(seq >> 3), "seq \(seq)")
                            blocksSeen.insert(UInt32(readBE(current.key, 0, 4)))
                            entry = try cursor.next()
                        }
                    }
                }
                XCTAssertEqual(blocksSeen.count, (events.count >> 3) + 1, "every block holds entries")
            }
            XCTAssertEqual(try ledger.check().problems.map(\.description), [], "seed \(seed)")
        }
    }

    /// An entry moved to another block's key is missing where it belongs: `check` says so.
    func testAnEntryUnderAnotherBlockIsReportedMissing() throws {
        let (ledger, _) = try ledger(bits: "3", seed: 2)
        let seq: UInt64 = 77
        try ledger.env.write { txn in
            let stored = try XCTUnwrap(try LedgerSnapshot(txn: txn, db: ledger.db).event(seq: seq))
            let right = ledger.db.blocks.key(number: stored.userNumber, seq: seq)
            let wrong = ledger.db.blocks.key(number: stored.userNumber, seq: seq + 8)
            XCTAssertTrue(try txn.delete(ledger.db.byUser, right, value: Key.seq(seq)))
            try txn.put(ledger.db.byUser, wrong, Key.seq(seq))
        }
        XCTAssertEqual(try ledger.check().problems.map(\.description), ["seq 77: missing from the by_user index"])
    }

    /// A key past the log's last block (a flipped bit in its block number) is refused as damage
    /// at once, not walked to: the lookups stop at the last event's block.
    func testAKeyPastTheLastBlockIsDamage() throws {
        let (ledger, _) = try ledger(bits: "3", seed: 2)
        try ledger.env.write { txn in
            var key: [UInt8] = []
            IndexBlocks.key(block: 0xFFFF_FF00, number: 1, into: &key)
            try txn.put(ledger.db.byUser, key, Key.seq(5))
        }
        XCTAssertThrowsError(try ledger.read { try $0.seqs(ofUser: 1) }) { error in
            guard case LedgerError.damaged = error else { return XCTFail("\(error)") }
        }
    }

    /// The block size is the ledger's own, kept in `meta` when it is made: a later open under
    /// another `SLEDGER_INDEX_BLOCK_BITS` reads it with its own size.
    func testTheBlockSizeIsKeptInTheLedger() throws {
        let path: String, user: String, expected: Int
        do {  // the writer's environment is closed before the ledger is opened again
            let (ledger, events) = try ledger(bits: "3", seed: 3)
            (path, user) = (ledger.path, try XCTUnwrap(events.first).user)
            expected = events.filter { $0.user == user }.count
        }
        try withIndexBlockBits("9") {
            let again = try Ledger(path: path, access: .readOnly)
            XCTAssertEqual(again.db.blocks.bits, 3)
            let number = try XCTUnwrap(try again.read { try $0.userNumber(user) })
            XCTAssertEqual(try again.read { try $0.seqs(ofUser: number) }.count, expected)
            let fresh = try Ledger(path: try temporaryDirectory(self) + "/nine", access: .readWrite)
            XCTAssertEqual(fresh.db.blocks.bits, 9)
        }
        try withIndexBlockBits(nil) {
            let standard = try Ledger(path: try temporaryDirectory(self) + "/standard", access: .readWrite)
            XCTAssertEqual(standard.db.blocks.bits, IndexBlocks.defaultBits)
        }
    }

    /// A setting out of range is refused before anything is made: no directory is left.
    func testABlockSizeOutOfRangeMakesNothing() throws {
        let parent = try temporaryDirectory(self)
        for bad in ["0", "41", "abc", ""] {
            let path = parent + "/l"
            try withIndexBlockBits(bad) {
                XCTAssertThrowsError(try Ledger(path: path, access: .readWrite), bad) { error in
                    XCTAssertEqual("\(error)", "no ledger made at \(path): SLEDGER_INDEX_BLOCK_BITS is \"\(bad)\"; give a whole number from 1 to 40")
                }
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: path), bad)
        }
    }
}
