import Foundation
import XCTest
@testable import SessionLedger

final class LedgerDamageTests: XCTestCase {
    /// Given a ledger whose event `seq` carries a unique agent string, returns the path and that marker.
    func ledgerWithMarker(at markedSeq: Int, count: Int) throws -> (path: String, marker: [UInt8]) {
        let path = try temporaryDirectory(self) + "/l"
        let ledger = try Ledger(path: path, access: .readWrite)
        var lines = generatedLines(count: count)
        // Put an agent on the chosen line: it is stored only in the record, nowhere in an index.
        var newlines = 0
        var index = 0
        while newlines < markedSeq { if lines[index] == 0x0A { newlines += 1 }; index += 1 }
        let closing = index - 2  // the '}' of line markedSeq
        lines.insert(contentsOf: Array(#","agent":"MARKER-abcdefgh""#.utf8), at: closing)
        _ = try ledger.append([InputSource(bytes: lines)])
        return (path, Array("MARKER-abcdefgh".utf8))
    }

    func flip(in path: String, marker: [UInt8]) throws {
        let file = path + "/data.mdb"
        var data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        var found: [Int] = []
        var i = 0
        while i + marker.count <= data.count {
            if data[i] == marker[0] && Array(data[i..<(i + marker.count)]) == marker { found.append(i) }
            i += 1
        }
        XCTAssertEqual(found.count, 1, "the marker is stored once")
        data[found[0] + 7] ^= 0x01
        try Data(data).write(to: URL(fileURLWithPath: file))
    }

    func testCheckNamesTheRecordWithAFlippedByte() throws {
        let (path, marker) = try ledgerWithMarker(at: 1234, count: 3000)
        try flip(in: path, marker: marker)
        let report = try Ledger(path: path, access: .readOnly).check()
        XCTAssertFalse(report.isIntact)
        XCTAssertEqual(report.firstDamagedSeq, 1234)
    }

    func testQueriesRefuseADamagedRecordInsteadOfAnsweringFromIt() throws {
        let (path, marker) = try ledgerWithMarker(at: 10, count: 20)
        try flip(in: path, marker: marker)
        let ledger = try Ledger(path: path, access: .readOnly)
        XCTAssertThrowsError(try ledger.read { try $0.forEachEvent { _ in true } }) { error in
            guard case LedgerError.damaged(let seq, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(seq, 10)
        }
    }

    func testCheckNamesTheEventWhoseIndexEntryWasRemoved() throws {
        let path = try temporaryDirectory(self) + "/l"
        let ledger = try Ledger(path: path, access: .readWrite)
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 300))])
        let header = try ledger.read { try $0.verifiedRecord(seq: 77).header }
        try ledger.env.write { txn in
            XCTAssertTrue(try txn.delete(ledger.db.byUser, ledger.db.blocks.key(number: header.userNumber, seq: 77), value: Key.seq(77)))
        }
        XCTAssertEqual(try ledger.check().firstDamagedSeq, 77)
    }

    func testCheckNamesTheEventWhoseIdEntryWasRemoved() throws {
        let path = try temporaryDirectory(self) + "/l"
        let ledger = try Ledger(path: path, access: .readWrite)
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 300))])
        let id = try XCTUnwrap(ledger.read { try $0.event(seq: 88) }?.event.id)
        try ledger.env.write { txn in
            let (key, value) = IDIndex.entry(id, seq: 88, blocks: ledger.db.blocks)
            XCTAssertTrue(try txn.delete(ledger.db.ids, key, value: value))
        }
        XCTAssertEqual(try ledger.check().firstDamagedSeq, 88)
    }

    func testCheckNamesTwoSwappedRecords() throws {
        let path = try temporaryDirectory(self) + "/l"
        let ledger = try Ledger(path: path, access: .readWrite)
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 300))])
        try ledger.env.write { txn in
            let a = Array(try XCTUnwrap(txn.get(ledger.db.log, Key.seq(100))))
            let b = Array(try XCTUnwrap(txn.get(ledger.db.log, Key.seq(200))))
            try txn.put(ledger.db.log, Key.seq(100), b)
            try txn.put(ledger.db.log, Key.seq(200), a)
        }
        XCTAssertEqual(try ledger.check().firstDamagedSeq, 100)
    }
}

/// SPEC.md section 3 and issue 5: no query answers silently from a damaged ledger.
final class QueryDamageTests: XCTestCase {
    func ledger(events: Int = 300) throws -> Ledger {
        let path = try temporaryDirectory(self) + "/l"
        let ledger = try Ledger(path: path, access: .readWrite)
        _ = try ledger.append([InputSource(bytes: generatedLines(count: events))])
        return ledger
    }

    func assertFoldRefuses(_ ledger: Ledger, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ledger.read { try LedgerFold(policy: .default).run($0) }, file: file, line: line) { error in
            guard case LedgerError.damaged = error else { return XCTFail("\(error)", file: file, line: line) }
        }
        XCTAssertThrowsError(try ledger.read { try LedgerFold(policy: .default, findings: .all).run($0) }, file: file, line: line)
    }

    func testAUserSliceRefusesAUserIndexWithAnEntryMissingWhileTheLogFoldIsUnaffected() throws {
        let ledger = try ledger()
        let intact = try ledger.read { try LedgerFold(policy: .default).run($0).derivation.sessions }
        let header = try ledger.read { try $0.verifiedRecord(seq: 150).header }
        try ledger.env.write { txn in
            XCTAssertTrue(try txn.delete(ledger.db.byUser, ledger.db.blocks.key(number: header.userNumber, seq: 150), value: Key.seq(150)))
        }
        // The whole fold reads the log, not by_user: the same answer; check names the damage.
        XCTAssertEqual(try ledger.read { try LedgerFold(policy: .default).run($0).derivation.sessions }, intact)
        XCTAssertEqual(try ledger.check().firstDamagedSeq, 150)
        let user = try XCTUnwrap(ledger.read { try $0.event(seq: 150) }).event.user
        XCTAssertThrowsError(try ledger.read { try LedgerFold(policy: .default).run(UserLog(snapshot: $0, user: user)) })
    }

    /// A flipped bit that moves a record's `at` past the horizon: a fold that stops there on the
    /// header alone would silently leave out that event and every later one in `seq` order.
    func testAFoldUpToAnInstantRefusesARecordWhoseInstantWasMovedPastIt() throws {
        let ledger = try ledger()
        let stored = try XCTUnwrap(ledger.read { try $0.event(seq: 150) })
        let last = try XCTUnwrap(ledger.read { try $0.event(seq: 300) }).event.at
        try ledger.env.write { txn in
            var record = Array(try XCTUnwrap(txn.get(ledger.db.log, Key.seq(150))))
            record[4 + 7] ^= 0x10  // the top byte of `at` (i64 LE at offset 4): years later; the CRC no longer matches
            try txn.put(ledger.db.log, Key.seq(150), record)
        }
        for fold in [LedgerFold(policy: .default, horizon: .through(last)), LedgerFold(policy: .default, horizon: .before(last))] {
            XCTAssertThrowsError(try ledger.read { try fold.run($0) }) { error in
                guard case LedgerError.damaged(let seq, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(seq, 150)
            }
            XCTAssertThrowsError(try ledger.read { try fold.run(UserLog(snapshot: $0, user: stored.event.user)) })
        }
        XCTAssertThrowsError(try ledger.read { try $0.forEachEventInTimeOrder(from: stored.event.at) { _ in true } })
    }

    func testAFoldRefusesTwoSwappedRecords() throws {
        let ledger = try ledger()
        try ledger.env.write { txn in
            let a = Array(try XCTUnwrap(txn.get(ledger.db.log, Key.seq(100))))
            let b = Array(try XCTUnwrap(txn.get(ledger.db.log, Key.seq(200))))
            try txn.put(ledger.db.log, Key.seq(100), b)
            try txn.put(ledger.db.log, Key.seq(200), a)
        }
        assertFoldRefuses(ledger)
    }

    func testALogScanRefusesAMissingRecord() throws {
        let ledger = try ledger()
        try ledger.env.write { txn in _ = try txn.delete(ledger.db.log, Key.seq(42)) }
        XCTAssertThrowsError(try ledger.read { try $0.forEachEvent { _ in true } }) { error in
            guard case LedgerError.damaged(let seq, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(seq, 42)
        }
    }

    /// A closed ledger of 20,000 events whose data file has been cut to half its pages in use.
    func truncatedLedger() throws -> (path: String, used: Int) {
        let path = try temporaryDirectory(self) + "/l"
        do {
            let ledger = try Ledger(path: path, access: .readWrite)
            _ = try ledger.append([InputSource(bytes: generatedLines(count: 20_000))])
        }
        let used = try Ledger(path: path, access: .readOnly).diskUsage().usedBytes
        XCTAssertEqual(truncate(path + "/data.mdb", off_t(used / 2)), 0)
        return (path, used)
    }

    func testATruncatedDataFileIsRefusedAtOpen() throws {
        let (path, _) = try truncatedLedger()
        XCTAssertThrowsError(try Ledger(path: path, access: .readOnly)) { error in
            guard case LedgerError.damaged = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("sledger check"))
        }
    }
}

extension QueryDamageTests {
    func testAWriterRefusesATruncatedLedgerInsteadOfExtendingItWithZeros() throws {
        let (path, used) = try truncatedLedger()
        XCTAssertThrowsError(try Ledger(path: path, access: .readWrite)) { error in
            guard case LedgerError.damaged = error else { return XCTFail("\(error)") }
        }
        var st = stat()
        XCTAssertEqual(stat(path + "/data.mdb", &st), 0)
        XCTAssertEqual(Int(st.st_size), used / 2, "the file is left as it was found")
    }
}

extension QueryDamageTests {
    func testALogScanCanStopEarlyAndStartMidBlockAndStillVerifiesWhatItHandsOut() throws {
        let ledger = try ledger(events: 3000)
        var seen: [UInt64] = []
        try ledger.read { try $0.forEachEvent(after: 1500) { seen.append($0.seq); return seen.count < 10 } }
        XCTAssertEqual(seen, Array(1501...1510))
        // A record rewritten in the second block: the scan refuses before handing out that block.
        try ledger.env.write { txn in
            let a = Array(try XCTUnwrap(txn.get(ledger.db.log, Key.seq(1100))))
            let b = Array(try XCTUnwrap(txn.get(ledger.db.log, Key.seq(1101))))
            try txn.put(ledger.db.log, Key.seq(1100), b)
            try txn.put(ledger.db.log, Key.seq(1101), a)
        }
        var handed: [UInt64] = []
        XCTAssertThrowsError(try ledger.read { try $0.forEachEvent { handed.append($0.seq); return true } }) { error in
            guard case LedgerError.damaged(let seq, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(seq, 1025, "the block that holds the swap")
        }
        XCTAssertEqual(handed.last, 1024, "nothing of the damaged block was handed out")
    }
}
