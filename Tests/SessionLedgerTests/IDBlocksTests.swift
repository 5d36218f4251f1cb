import LMDB
import XCTest
@testable import SessionLedger

/// Format 7 (decision 0015): `ids` files each entry under its event's block of the log, and
/// `id_filters` holds a Bloom filter of each closed block. With blocks of 64 events
/// (`SLEDGER_INDEX_BLOCK_BITS=6`), calls of a few hundred events close several blocks each,
/// and an id sent again from an early block must still be found, whichever way the call
/// checks its claims.
final class IDBlocksTests: XCTestCase {
    func line(_ text: String) -> [UInt8] { Array((text + "\n").utf8) }

    /// A ledger with blocks of 64 events holding `generatedLines(count: 1_000)`, stored in
    /// calls of 250.
    private func ledger() throws -> (Ledger, [[UInt8]]) {
        let ledger = try withIndexBlockBits("6") { try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite) }
        let lines = generatedLines(count: 1_000).split(separator: 0x0A).map { Array($0) + [0x0A] }
        for start in stride(from: 0, to: lines.count, by: 250) {
            _ = try ledger.append([InputSource(bytes: Array(lines[start..<start + 250].joined()))])
        }
        return (ledger, lines)
    }

    /// Options for a call that does not read the filed ids into memory and files its claims
    /// every 16: it searches each claim, or (`checkWhenFiled`) only its first `probe` and checks
    /// the rest as it files them.
    private func searching(checkWhenFiled: Bool, probe: Int) -> AppendOptions {
        var options = AppendOptions()
        options.scanFiledIds = false
        options.checkIdsWhenFiled = checkWhenFiled
        options.idClaimsProbe = probe
        options.idClaimsFlushAt = 16
        return options
    }

    /// Every entry lies under its `seq`'s block; there is one filter for each block whose last
    /// `seq` is stored (1,000 events: blocks 0 to 14, seq 959 ends block 14) and none for the
    /// open one; each says "may hold" for every id of its block and "no" for nearly every
    /// other.
    func testEntriesLieUnderTheirBlockAndEachClosedBlockHasAFilterOfItsIds() throws {
        let (ledger, _) = try ledger()
        XCTAssertEqual(ledger.db.blocks.bits, 6)
        try ledger.read { snapshot in
            let (txn, db) = (snapshot.txn, snapshot.db)
            var entries = 0
            try txn.withCursor(db.ids) { cursor in
                try cursor.forEach(from: cursor.first()) { entry in
                    XCTAssertEqual(entry.key.count, 5)
                    let seq = IDIndex.seq(ofValue: entry.value)
                    XCTAssertEqual(readBE(entry.key, 0, 4), seq >> 6, "seq \(seq)")
                    entries += 1
                    return true
                }
            }
            XCTAssertEqual(entries, 1_000)
            var keys: [UInt64] = []
            try txn.withCursor(db.idFilters) { cursor in
                try cursor.forEach(from: cursor.first()) { entry in
                    keys.append(readBE(entry.key, 0, 4))
                    XCTAssertEqual(entry.value.count, 128, "64 entries at 16 bits each, rounded to a power of two")
                    return true
                }
            }
            XCTAssertEqual(keys, Array(0...14))
            let filters = try IDFilters(txn: txn, db: db, through: 1_000)
            XCTAssertEqual(filters.count, 15)
            var misses = 0
            for seq in UInt64(1)...959 {
                let id = try XCTUnwrap(try snapshot.event(seq: seq)?.event.id)
                let prefix = IDIndex.prefix(IDIndex.hash(id))
                XCTAssertTrue(filters.mayContain(prefix, block: UInt32(seq >> 6)), "seq \(seq)")
                for other in UInt32(0)..<15 where other != UInt32(seq >> 6) && !filters.mayContain(prefix, block: other) {
                    misses += 1
                }
            }
            XCTAssertGreaterThan(misses, 959 * 14 * 95 / 100, "a filter says no to nearly every id of another block")
        }
        XCTAssertEqual(try ledger.check().problems.map(\.description), [])
    }

    /// Ids of early blocks sent again beside new ones: skipped as duplicates when the call
    /// searches each claim (the filters, then the blocks that may hold it) and when it checks
    /// them as it files them (then it runs again searching), with the same counts; one with
    /// other content is a conflict naming its stored `seq`.
    func testAnIdOfAnEarlierBlockIsADuplicateOrAConflictWhicheverWayClaimsAreChecked() throws {
        for checkWhenFiled in [false, true] {
            let (ledger, lines) = try ledger()
            let options = searching(checkWhenFiled: checkWhenFiled, probe: 2)
            let new = generatedLines(count: 100, seed: 9, idPrefix: "new-")
            let again = [lines[3], lines[70], lines[500]].joined()
            let summary = try ledger.append([InputSource(bytes: new + again)], options: options)
            XCTAssertEqual([summary.imported, summary.duplicates], [100, 3], "checked when filed: \(checkWhenFiled)")
            XCTAssertEqual(summary.attempts, checkWhenFiled ? 2 : 1)
            XCTAssertEqual(try ledger.head().seq, 1_100)

            // Seq 4's id (line 4 of the first call) with another user: a conflict.
            let stored = try XCTUnwrap(try ledger.read { try $0.event(seq: 4) }?.event)
            let conflict = line(#"{"type":"logout_all","at":"2026-03-01T09:00:00Z","user":"somebody","id":"\#(stored.id!)"}"#)
            XCTAssertThrowsError(try ledger.append([InputSource(bytes: generatedLines(count: 40, seed: 10, idPrefix: "x-") + conflict)],
                                                   options: options)) { error in
                XCTAssertEqual("\(error)", "line 41: id: id conflict with seq 4")
            }
            XCTAssertEqual(try ledger.head().seq, 1_100)
            XCTAssertEqual(try ledger.check().problems.map(\.description), [])
        }
    }

    /// The same when the call reads every filed prefix into memory first (a call large beside
    /// the ledger): a prefix it may hold is searched in every block.
    func testAnIdOfAnEarlierBlockIsADuplicateWhenTheFiledIdsAreReadFirst() throws {
        let (ledger, lines) = try ledger()
        var options = AppendOptions()
        options.scanFiledIds = true
        options.idClaimsFlushAt = 16
        let again = [lines[3], lines[70], lines[500]].joined()
        let summary = try ledger.append([InputSource(bytes: generatedLines(count: 100, seed: 9, idPrefix: "new-") + again)],
                                        options: options)
        XCTAssertEqual([summary.imported, summary.duplicates, summary.attempts], [100, 3, 1])
        XCTAssertEqual(try ledger.check().problems.map(\.description), [])
    }

    /// One call into an empty ledger that sends an id again 900 events later, 14 blocks on:
    /// found through the call's own filter of what it filed, then the blocks' filters (kept in
    /// memory, or not kept: then the blocks are searched).
    func testAnIdSentAgainInTheCallThatStartsTheLedgerIsStoredOnce() throws {
        for kept in [IDClaims.keptFilterBytes, 128 * 3, 0] {
            let ledger = try withIndexBlockBits("6") { try Ledger(path: try temporaryDirectory(self) + "/l\(kept)", access: .readWrite) }
            var lines = generatedLines(count: 1_000, seed: 13).split(separator: 0x0A).map { Array($0) + [0x0A] }
            lines.insert(lines[20], at: 950)
            var options = AppendOptions()
            options.idClaimsFlushAt = 16
            options.keptIdFilterBytes = kept
            let summary = try ledger.append([InputSource(bytes: Array(lines.joined()))], options: options)
            XCTAssertEqual([summary.imported, summary.duplicates, summary.attempts], [1_000, 1, 1], "kept \(kept)")
            XCTAssertEqual(try ledger.check().problems.map(\.description), [])
        }
    }

    /// `sledger serve`'s group commit searches every claim: a request that sends an early
    /// block's id again is a duplicate, one that changes it a conflict naming its `seq`.
    func testAGroupCommitFindsAnIdOfAnEarlierBlock() throws {
        let (ledger, lines) = try ledger()
        let stored = try XCTUnwrap(try ledger.read { try $0.event(seq: 7) }?.event)
        let same = try EventBatch.parse(ndjson: lines[6])
        let changed = try EventBatch.parse(ndjson:
            line(#"{"type":"logout_all","at":"2026-03-01T09:00:00Z","user":"somebody","id":"\#(stored.id!)"}"#))
        let (outcomes, head) = try ledger.appendGroup([same, changed])
        XCTAssertEqual(outcomes.map { "\($0)" }, ["stored(imported: 0, duplicates: 1)",
                                                  "refused(line 1: id: id conflict with seq 7)"])
        XCTAssertEqual(head.seq, 1_000)
    }

    /// Within one call, an id sent again after its first event's block has closed: the first
    /// filing files it, a later filing finds it through the closed block's filter (checked
    /// when filed) or by searching, and it is a duplicate.
    func testAnIdSentTwiceInOneCallAcrossBlocksIsStoredOnce() throws {
        for checkWhenFiled in [false, true] {
            let (ledger, _) = try ledger()
            let options = searching(checkWhenFiled: checkWhenFiled, probe: 1)
            var lines = generatedLines(count: 300, seed: 11, idPrefix: "one-").split(separator: 0x0A).map { Array($0) + [0x0A] }
            lines.append(lines[10])  // seq 1,011 (block 15) again after seq 1,300 (block 20)
            let summary = try ledger.append([InputSource(bytes: Array(lines.joined()))], options: options)
            XCTAssertEqual([summary.imported, summary.duplicates], [300, 1], "checked when filed: \(checkWhenFiled)")
            XCTAssertEqual(try ledger.read { try IDFilters(txn: $0.txn, db: $0.db, through: 1_300).count }, 20)
            XCTAssertEqual(try ledger.check().problems.map(\.description), [])
        }
    }

    /// A filter zeroed (as a lost page would be) no longer holds its block's ids: `check` names
    /// the block's first `seq`. One with bits set too many still holds them all and is not
    /// damage. A missing one makes the ledger refuse the next call as damaged.
    func testCheckNamesAZeroedFilterAndAMissingOneIsRefused() throws {
        let (ledger, _) = try ledger()
        try ledger.env.write { txn in
            let size = try XCTUnwrap(try txn.get(ledger.db.idFilters, Key.number(2))).count
            try txn.put(ledger.db.idFilters, Key.number(2), Array(repeating: 0xFF, count: size))
            try txn.put(ledger.db.idFilters, Key.number(3), Array(repeating: 0, count: size))
        }
        XCTAssertEqual(try ledger.check().problems.map(\.description),
                       ["seq 192: the id_filters entry of the block from seq 192 does not hold every id its ids entries file"])
        try ledger.env.write { txn in _ = try txn.delete(ledger.db.idFilters, Key.number(14)) }
        XCTAssertThrowsError(try ledger.append([InputSource(bytes: generatedLines(count: 5, seed: 12, idPrefix: "late-"))])) { error in
            XCTAssertEqual("\(error)", "\(LedgerError.damaged(seq: nil, problem: "id_filters holds filters for 14 blocks, but the log's 1000 events close 15"))")
        }
        XCTAssertEqual(try ledger.head().seq, 1_000)
    }

    /// An id held by events of two blocks is found by `check`, though each block on its own
    /// lists its event correctly: made here by taking seq 10's entry out, storing an event
    /// with its id, and putting the entry back.
    func testCheckFindsAnIdHeldInTwoBlocks() throws {
        let (ledger, _) = try ledger()
        let id = try XCTUnwrap(try ledger.read { try $0.event(seq: 10) }?.event.id)
        let entry = IDIndex.entry(id, seq: 10, blocks: ledger.db.blocks)
        try ledger.env.write { txn in XCTAssertTrue(try txn.delete(ledger.db.ids, entry.key, value: entry.value)) }
        let again = line(#"{"type":"logout_all","at":"2026-03-01T09:00:00Z","user":"somebody","id":"\#(id)"}"#)
        XCTAssertEqual(try ledger.append([InputSource(bytes: again)]).imported, 1)
        try ledger.env.write { txn in try txn.put(ledger.db.ids, entry.key, entry.value) }
        XCTAssertEqual(try ledger.check().problems.map(\.description),
                       ["seq 1001: holds the id of seq 10 (filed in another block of the ids index)"])
    }
}
