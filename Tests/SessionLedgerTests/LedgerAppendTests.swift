import Foundation
import XCTest
@testable import SessionLedger

final class LedgerAppendTests: XCTestCase {
    func line(_ text: String) -> [UInt8] { Array((text + "\n").utf8) }

    /// A logout by `user` of session "s" at 09:00:`second` on 2026-03-01, with id `id`: the
    /// id tests' event, whose content changes with its user (a conflict) and not otherwise.
    func logout(_ second: Int, _ id: String, user: String = "u") -> [UInt8] {
        line(#"{"type":"logout","at":"2026-03-01T09:00:\#(second < 10 ? "0" : "")\#(second)Z","user":"\#(user)","session":"s","id":"\#(id)"}"#)
    }

    func testAnAppendWithOneBadLineStoresNothing() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 100))])
        let before = try ledger.head()

        var input = generatedLines(count: 50, seed: 9, idPrefix: "second-")
        input += line(#"{"type":"refresh","at":"2026-03-01T09:00:00Z","user":"u","session":"s","colour":"red"}"#)
        XCTAssertThrowsError(try ledger.append([InputSource(bytes: input)])) { error in
            XCTAssertEqual("\(error)", "line 51: colour: unknown key")
        }
        XCTAssertEqual(try ledger.head(), before)
        XCTAssertTrue(try ledger.check().isIntact)
    }

    func testAllErrorsReportsEveryBadLine() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        var options = AppendOptions()
        options.allErrors = true
        let input = line(#"{"type":"nope","at":"2026-03-01T09:00:00Z","user":"u","session":"s"}"#) + line("")
            + line(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"u","session":"s"}"#)
            + line(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"u"}"#)
        XCTAssertThrowsError(try ledger.append([InputSource(bytes: input)], options: options)) { error in
            XCTAssertEqual("\(error)", "line 1: type: unknown event type\nline 4: session: missing required key")
        }
        XCTAssertEqual(try ledger.head().seq, 0)
    }

    func testReimportingCountsDuplicatesAndAddsNothing() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        let input = generatedLines(count: 500)
        let first = try ledger.append([InputSource(bytes: input)])
        XCTAssertEqual(first.imported, 500)
        XCTAssertEqual(first.duplicates, 0)
        let second = try ledger.append([InputSource(bytes: input)])
        XCTAssertEqual(second.imported, 0)
        XCTAssertEqual(second.duplicates, 500)
        XCTAssertEqual(second.head, first.head)
    }

    func testAnIdReusedWithOtherContentIsAConflict() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append([InputSource(bytes:
            line(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"u","session":"s","id":"a"}"#)
            + line(#"{"type":"logout","at":"2026-03-01T09:00:01Z","user":"u","session":"s","id":"b"}"#))])
        let before = try ledger.head()
        // Same content written differently (an offset, an escape) is the same canonical event: a duplicate.
        let same = try ledger.append([InputSource(bytes:
            line(#"{"id":"b","type":"logout","at":"2026-03-01T10:00:01+01:00","user":"\u0075","session":"s"}"#))])
        XCTAssertEqual(same.duplicates, 1)
        XCTAssertThrowsError(try ledger.append([InputSource(bytes: line("")
            + line(#"{"type":"logout","at":"2026-03-01T09:00:02Z","user":"u","session":"s","id":"b"}"#))])) { error in
            XCTAssertEqual("\(error)", "line 2: id: id conflict with seq 2")
        }
        XCTAssertThrowsError(try ledger.append([InputSource(bytes: line("")
            + line(#"{"type":"logout","at":"2026-03-01T09:00:02Z","user":"u","session":"s","id":"c"}"#) + line("")
            + line(#"{"type":"logout","at":"2026-03-01T09:00:03Z","user":"u","session":"s","id":"c"}"#))])) { error in
            XCTAssertEqual("\(error)", "line 4: id: id conflict with line 2")
        }
        XCTAssertEqual(try ledger.head(), before)
    }

    /// Ids are claimed in memory and filed in `ids` now and then (`IDClaims`): a duplicate or
    /// a conflict is found whether the earlier id is filed already or still waiting.
    func testAnIdClaimedEarlierInTheCallIsFoundBeforeAndAfterItIsFiled() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        var options = AppendOptions()
        options.idClaimsFlushAt = 3
        // a b c are filed after c; d waits when its duplicate comes; a's duplicate comes after the filing.
        let input = logout(1, "a") + logout(2, "b") + logout(3, "c") + logout(4, "d") + logout(4, "d") + logout(1, "a") + logout(5, "e")
        let summary = try ledger.append([InputSource(bytes: input)], options: options)
        XCTAssertEqual(summary.imported, 5)
        XCTAssertEqual(summary.duplicates, 2)
        XCTAssertTrue(try ledger.check().isIntact)
        XCTAssertEqual(try ledger.read { try IDIndex(txn: $0.txn, db: $0.db).lookup("e")?.seq }, 5)

        let before = try ledger.head()
        XCTAssertThrowsError(try ledger.append([InputSource(bytes: logout(6, "f") + logout(7, "g") + logout(8, "h") + logout(9, "f"))],
                                               options: options)) { error in
            XCTAssertEqual("\(error)", "line 4: id: id conflict with line 1")
        }
        XCTAssertThrowsError(try ledger.append([InputSource(bytes: logout(6, "x") + logout(9, "x"))], options: options)) { error in
            XCTAssertEqual("\(error)", "line 2: id: id conflict with line 1")
        }
        XCTAssertThrowsError(try ledger.append([InputSource(bytes: logout(6, "y") + logout(9, "b"))], options: options)) { error in
            XCTAssertEqual("\(error)", "line 2: id: id conflict with seq 2")
        }
        XCTAssertEqual(try ledger.head(), before)
    }

    /// A call may read the ids filed before it into its filter instead of searching `ids` for
    /// each claim (`IDClaims.scanRatio`): either way, an id stored by an earlier call is a
    /// duplicate with the same content and a conflict with other content, and a new id is new.
    func testADuplicateOrConflictWithAnEarlierCallIsFoundWhetherOrNotTheFiledIdsAreRead() throws {
        for scan in [true, false] {
            let ledger = try Ledger(path: try temporaryDirectory(self) + "/l\(scan)", access: .readWrite)
            var options = AppendOptions()
            options.scanFiledIds = scan
            options.idClaimsFlushAt = 2
            // Filed by an earlier call: enough ids that a wrong filter would miss some.
            let earlier = generatedLines(count: 300, seed: 3, idPrefix: "early-")
            _ = try ledger.append([InputSource(bytes: earlier + logout(1, "a") + logout(2, "b"))], options: options)
            let before = try ledger.head()

            let again = try ledger.append([InputSource(bytes: logout(3, "c") + logout(2, "b") + earlier + logout(4, "d"))],
                                          options: options)
            XCTAssertEqual(again.imported, 2, "scan: \(scan)")
            XCTAssertEqual(again.duplicates, 301, "scan: \(scan)")
            XCTAssertThrowsError(try ledger.append([InputSource(bytes: logout(5, "e") + logout(6, "f") + logout(1, "a", user: "v"))],
                                                   options: options)) { error in
                XCTAssertEqual("\(error)", "line 3: id: id conflict with seq 301", "scan: \(scan)")
            }
            XCTAssertEqual(try ledger.head().seq, before.seq + 2)
            XCTAssertTrue(try ledger.check().isIntact)
        }
    }

    /// The filed ids are read into the filter when the call expects at least one id for every
    /// `scanRatio` filed, and searched for each claim otherwise (and when the filter would hold
    /// fewer than 4 bits a hash).
    func testTheFiledIdsAreReadOnlyForACallLargeBesideThem() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 1_600))])
        try ledger.read { snapshot in
            let (txn, db) = (snapshot.txn, snapshot.db)
            let head = try snapshot.head().seq
            XCTAssertFalse(try IDClaims(txn: txn, db: db, head: head, expected: 99).readFiledIds)
            XCTAssertTrue(try IDClaims(txn: txn, db: db, head: head, expected: 100).readFiledIds)
            XCTAssertFalse(try IDClaims(txn: txn, db: db, head: head, expected: nil).readFiledIds)
            XCTAssertTrue(try IDClaims(txn: txn, db: db, head: head, expected: nil, scan: true).readFiledIds)
            XCTAssertFalse(try IDClaims(txn: txn, db: db, head: head, expected: 10_000, scan: false).readFiledIds)
            XCTAssertTrue(try IDClaims(txn: txn, db: db, head: head, expected: HashFilter.largestBits / 4 - 1_600).readFiledIds)
            XCTAssertFalse(try IDClaims(txn: txn, db: db, head: head, expected: HashFilter.largestBits / 4 - 1_599).readFiledIds)
        }
    }

    /// A call that searches none of its later claims in `ids` (`IDClaims`, `checkWhenFiled`)
    /// checks them as it files them, and when it meets an id filed before (by an earlier call
    /// or earlier in itself) or ends with bad input, runs again searching: what it stores and
    /// what it reports are what a call that searches every claim stores and reports.
    func testACallThatChecksItsIdsAsItFilesThemEndsAsOneThatSearchesEach() throws {
        let earlier = generatedLines(count: 300, seed: 3, idPrefix: "early-")
        // Each call, what it ends with, and whether checking when filed runs it twice.
        let calls: [(input: [UInt8], outcome: String, twice: Bool)] = [
            // New ids only: nothing found.
            (logout(3, "c") + logout(4, "d") + logout(5, "e"), "imported 3, duplicates 0", false),
            // A duplicate of the first call's "b" past the probe, then of the previous call's "e".
            (logout(6, "f") + logout(7, "g") + logout(2, "b") + logout(8, "h") + logout(5, "e"), "imported 3, duplicates 2", true),
            // A conflict with the first call's "a" past the probe.
            (logout(9, "i") + logout(10, "j") + logout(1, "a", user: "v"), "line 3: id: id conflict with seq 301", true),
            // The same conflict before a bad line: the conflict is the first bad line.
            (logout(9, "i") + logout(10, "j") + logout(1, "a", user: "v") + line("{}"), "line 3: id: id conflict with seq 301", true),
            // An id filed earlier in the same call (two at a time) comes again.
            (logout(11, "k") + logout(12, "l") + logout(13, "m") + logout(11, "k") + logout(14, "n"), "imported 4, duplicates 1", true),
            // The whole first call again: its first claim finds a filed id, so claims go on searching.
            (earlier + logout(1, "a") + logout(2, "b"), "imported 0, duplicates 302", false),
        ]
        var outcomes: [Bool: [String]] = [:]
        var exports: [Bool: [String]] = [:]
        for checkWhenFiled in [false, true] {
            let ledger = try Ledger(path: try temporaryDirectory(self) + "/l\(checkWhenFiled)", access: .readWrite)
            _ = try ledger.append([InputSource(bytes: earlier + logout(1, "a") + logout(2, "b"))])
            var options = AppendOptions()
            options.scanFiledIds = false
            options.checkIdsWhenFiled = checkWhenFiled
            options.idClaimsProbe = 2
            options.idClaimsFlushAt = 2
            for call in calls {
                let before = try ledger.head()
                do {
                    let summary = try ledger.append([InputSource(bytes: call.input)], options: options)
                    outcomes[checkWhenFiled, default: []].append("imported \(summary.imported), duplicates \(summary.duplicates)")
                    XCTAssertEqual(summary.attempts, checkWhenFiled && call.twice ? 2 : 1, call.outcome)
                } catch {
                    outcomes[checkWhenFiled, default: []].append("\(error)")
                    XCTAssertEqual(try ledger.head(), before, "a refused call stores nothing")
                }
            }
            XCTAssertTrue(try ledger.check().isIntact)
            exports[checkWhenFiled] = try ledger.read { snapshot in
                var ids: [String] = []
                try snapshot.forEachEvent { ids.append("\($0.seq) \($0.event.id ?? "-")"); return true }
                return ids
            }
        }
        XCTAssertEqual(outcomes[true], calls.map(\.outcome))
        XCTAssertEqual(outcomes[false], calls.map(\.outcome))
        XCTAssertEqual(exports[true], exports[false])
    }

    /// The same from a pipe (read again from its copy), with every bad line reported, and with
    /// a source that fails to read after a conflict: each ends as when every claim is searched.
    func testACallThatChecksItsIdsAsItFilesThemRunsAgainFromAPipeAndReportsTheSameErrors() throws {
        let directory = try temporaryDirectory(self)
        var outcomes: [String: [String]] = [:]
        for checkWhenFiled in [false, nil] {
            let mode = "\(String(describing: checkWhenFiled))"
            let ledger = try Ledger(path: directory + "/l\(mode)", access: .readWrite)
            _ = try ledger.append([InputSource(bytes: generatedLines(count: 300, seed: 3, idPrefix: "early-") + logout(1, "a") + logout(2, "b"))])
            var options = AppendOptions()
            options.scanFiledIds = false
            options.checkIdsWhenFiled = checkWhenFiled  // nil: as `import` runs (append checks when filed)
            options.idClaimsProbe = 2
            func outcome(_ sources: [InputSource], allErrors: Bool = false) -> String {
                var options = options
                options.allErrors = allErrors
                do {
                    let summary = try ledger.append(sources, options: options)
                    return "imported \(summary.imported), duplicates \(summary.duplicates), runs \(summary.attempts)"
                } catch {
                    return "\(error)"
                }
            }
            outcomes[mode, default: []].append(outcome([try pipeSource(logout(3, "c") + logout(4, "d") + logout(2, "b") + logout(5, "e"))]))
            outcomes[mode, default: []].append(outcome([try InputSource(bytes: logout(6, "f") + logout(7, "g") + logout(1, "a", user: "v")
                                                                                + line("{}") + logout(8, "h"))], allErrors: true))
            outcomes[mode, default: []].append(outcome([try InputSource(bytes: logout(6, "f") + logout(7, "g") + logout(1, "a", user: "v")),
                                                        try InputSource(path: directory)]))
            XCTAssertTrue(try ledger.check().isIntact)
            XCTAssertEqual(try ledger.head().seq, 305)
        }
        XCTAssertEqual(outcomes["nil"]?.first, "imported 3, duplicates 1, runs 2", "read again from the pipe's copy")
        XCTAssertEqual(outcomes["Optional(false)"]?.first, "imported 3, duplicates 1, runs 1")
        XCTAssertEqual(outcomes["nil"]?.dropFirst(), outcomes["Optional(false)"]?.dropFirst())
        XCTAssertEqual(outcomes["nil"]?.dropFirst().first?.hasPrefix("line 3: id: id conflict with seq 301\nline 4: "), true)
        XCTAssertEqual(outcomes["nil"]?.last, "line 3: id: id conflict with seq 301")
    }

    /// With 80,000 ids filed, a key holds about 310 values, past what fits in its node, so
    /// LMDB keeps them in a sub-database of their own: the entries just before a new one are
    /// still the earlier ones with its prefix, and duplicates spread over every key are found.
    func testIdsCheckedAsFiledAreFoundAmongAKeysSubDatabase() throws {
        // Blocks of the default size (whatever SLEDGER_INDEX_BLOCK_BITS says): all in block 0.
        let ledger = try withIndexBlockBits(nil) { try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite) }
        let earlier = generatedLines(count: 80_000, seed: 5, idPrefix: "many-")
        _ = try ledger.append([InputSource(bytes: earlier)])
        let perKey = try ledger.read { snapshot in
            try snapshot.txn.withCursor(snapshot.db.ids) { cursor in
                var counts: [[UInt8]: Int] = [:]
                try cursor.forEach(from: cursor.first()) { counts[Array($0.key), default: 0] += 1; return true }
                return counts.values.min() ?? 0
            }
        }
        XCTAssertGreaterThan(perKey, 250, "every key holds more values than its node can")
        let lines = earlier.split(separator: 0x0A)
        var again: [UInt8] = []
        for index in stride(from: 999, to: lines.count, by: 1_600) { again += lines[index] + [0x0A] }
        var options = AppendOptions()
        options.scanFiledIds = false
        options.idClaimsProbe = 2
        let new = generatedLines(count: 1_000, seed: 6, idPrefix: "fresh-")
        let first = try ledger.append([InputSource(bytes: new)], options: options)
        XCTAssertEqual([first.imported, first.duplicates, first.attempts], [1_000, 0, 1])
        let mixed = try ledger.append([InputSource(bytes: generatedLines(count: 3, seed: 7, idPrefix: "more-") + again)], options: options)
        XCTAssertEqual([mixed.imported, mixed.duplicates, mixed.attempts], [3, 50, 2])
        XCTAssertTrue(try ledger.check().isIntact)
    }

    /// Checked as it is filed, a new id whose filed prefix (5 bytes of its SHA-256) an earlier
    /// id shares is compared with that id's event, found to differ, and stored at once.
    func testAnIdCheckedAsItIsFiledIsNewWhenOnlyItsPrefixIsFiled() throws {
        // SHA-256 of both begins cd30de09c7 (found by a search over e_0, e_1, ...).
        XCTAssertEqual(IDIndex.prefix(IDIndex.hash("e_1328269")), IDIndex.prefix(IDIndex.hash("e_1411097")))
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append([InputSource(bytes: logout(1, "e_1328269"))])
        var options = AppendOptions()
        options.scanFiledIds = false
        options.idClaimsProbe = 1
        let new = try ledger.append([InputSource(bytes: logout(2, "p") + logout(3, "e_1411097"))], options: options)
        XCTAssertEqual([new.imported, new.duplicates, new.attempts], [2, 0, 1])
        let again = try ledger.append([InputSource(bytes: logout(4, "q") + logout(1, "e_1328269") + logout(3, "e_1411097"))],
                                      options: options)
        XCTAssertEqual([again.imported, again.duplicates, again.attempts], [1, 2, 2])
        XCTAssertEqual(try ledger.read { try IDIndex(txn: $0.txn, db: $0.db).lookup("e_1411097")?.seq }, 3)
        XCTAssertTrue(try ledger.check().isIntact)
    }

    /// A group commit checks each request's ids against the requests before it in the same
    /// transaction, whose ids are claimed but not yet filed in `ids`.
    func testAGroupRefusesARequestWhoseIdConflictsWithAnEarlierRequestOfTheGroup() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        let first = try EventBatch.parse(ndjson: line(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"u","session":"s","id":"a"}"#))
        let same = try EventBatch.parse(ndjson: line(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"u","session":"s","id":"a"}"#))
        let other = try EventBatch.parse(ndjson: line(#"{"type":"logout","at":"2026-03-01T09:00:05Z","user":"u","session":"s","id":"b"}"#)
            + line(#"{"type":"logout","at":"2026-03-01T09:00:09Z","user":"v","session":"s","id":"a"}"#))
        let (outcomes, head) = try ledger.appendGroup([first, same, other])
        XCTAssertEqual(outcomes.map { "\($0)" }, ["stored(imported: 1, duplicates: 0)", "stored(imported: 0, duplicates: 1)",
                                                  "refused(line 2: id: id conflict with seq 1)"])
        XCTAssertEqual(head.seq, 1)
        XCTAssertTrue(try ledger.check().isIntact)
    }

    /// The `ids` index is keyed by 8 bytes of the id's SHA-256, so two ids can share a key.
    /// No real collision is known; this one is made by listing seq 1 (id "a") under "b"'s key,
    /// which is what "b" then finds there.
    func testAnIdWhoseKeyIsSharedWithAnotherIdIsStoredFoundAndCheckedByItsOwnEvent() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        let a = line(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"u","session":"s","id":"a"}"#)
        let b = line(#"{"type":"logout","at":"2026-03-01T09:00:01Z","user":"u","session":"s","id":"b"}"#)
        _ = try ledger.append([InputSource(bytes: a)])
        try ledger.env.write { txn in
            let (key, value) = IDIndex.entry("b", seq: 1, blocks: ledger.db.blocks)
            try txn.put(ledger.db.ids, key, value)
        }

        let stored = try ledger.append([InputSource(bytes: b)])
        XCTAssertEqual(stored.imported, 1, "b is new: the event under its key has another id")
        XCTAssertEqual(try ledger.append([InputSource(bytes: b)]).duplicates, 1)
        XCTAssertEqual(try ledger.append([InputSource(bytes: a)]).duplicates, 1)
        XCTAssertThrowsError(try ledger.append([InputSource(bytes:
            line(#"{"type":"logout","at":"2026-03-01T09:00:02Z","user":"u","session":"s","id":"b"}"#))])) { error in
            XCTAssertEqual("\(error)", "line 1: id: id conflict with seq 2")
        }
        XCTAssertEqual(try ledger.read { try IDIndex(txn: $0.txn, db: $0.db).lookup("b")?.seq }, 2)
        XCTAssertEqual(try ledger.head().seq, 2)
        // The made-up entry is one more than the log implies, and check says so.
        XCTAssertEqual(try ledger.check().problems.map(\.what), ["the ids index holds 3 entries, the log implies 2"])
    }

    func testAnIdsEntryIsOneByteOfTheIdsSHA256AsKeyAndTheNextFourAndTheSeqAsValue() throws {
        // SHA-256("abc") is the standard test vector ba7816bf 8f01cfea 414140de ... (FIPS 180-2).
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append([InputSource(bytes: line(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"u","session":"s","id":"abc"}"#))])
        let entries = try ledger.read { snapshot in
            try snapshot.txn.withCursor(snapshot.db.ids) { cursor in
                var out: [([UInt8], [UInt8])] = []
                try cursor.forEach(from: cursor.first()) { out.append((Array($0.key), Array($0.value))); return true }
                return out
            }
        }
        XCTAssertEqual(entries.map(\.0), [[0, 0, 0, 0, 0xBA]], "block 0, then the first byte of the hash")
        XCTAssertEqual(entries.map(\.1), [[0x78, 0x16, 0xBF, 0x8F, 0, 0, 0, 0, 0, 1]])
    }

    func testIdsSharingAnIndexKeyAreEachStoredFoundAndChecked() throws {
        // 2,000 ids over 256 keys (each key is a byte of a hash): every key holds several.
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        let input = (0..<2000).flatMap { n in
            line(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"u","session":"s","id":"x\#(n)"}"#)
        }
        XCTAssertEqual(try ledger.append([InputSource(bytes: input)]).imported, 2000)
        let (entries, keys) = try ledger.read { snapshot in
            try snapshot.txn.withCursor(snapshot.db.ids) { cursor in
                var entries = 0
                var keys = Set<[UInt8]>()
                try cursor.forEach(from: cursor.first()) { entry in
                    entries += 1
                    keys.insert(Array(entry.key))
                    return true
                }
                return (entries, keys.count)
            }
        }
        XCTAssertEqual(entries, 2000)
        XCTAssertLessThan(keys, 2000, "some ids share a key")
        // Every id is found as its own event's: a second import stores nothing new.
        let again = try ledger.append([InputSource(bytes: input)])
        XCTAssertEqual(again.imported, 0)
        XCTAssertEqual(again.duplicates, 2000)
        XCTAssertTrue(try ledger.check().isIntact)
    }

    func testTheTimeRangeCountsEventsLoggedLateAtBothEnds() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        func event(_ at: String) -> [UInt8] { line(#"{"type":"logout","at":"\#(at)","user":"u","session":"s"}"#) }
        _ = try ledger.append([InputSource(bytes: event("2026-03-01T10:00:00Z") + event("2026-03-01T12:00:00Z"))])
        XCTAssertEqual(try ledger.read { try $0.timeRange().map { "\($0.first) \($0.last)" } }, "2026-03-01T10:00:00Z 2026-03-01T12:00:00Z")
        // Then one earlier than every other, and a last one that is not the latest.
        _ = try ledger.append([InputSource(bytes: event("2026-03-01T09:00:00Z") + event("2026-03-01T11:00:00.5Z"))])
        XCTAssertEqual(try ledger.read { try $0.timeRange().map { "\($0.first) \($0.last)" } }, "2026-03-01T09:00:00Z 2026-03-01T12:00:00Z")
        XCTAssertEqual(try ledger.read { try $0.latestInstant() }?.description, "2026-03-01T12:00:00Z")
        // The writer measures the next lags from that latest instant, not from the last event's.
        _ = try ledger.append([InputSource(bytes: event("2026-03-01T11:30:00Z") + event("2026-03-01T12:30:00Z"))])
        let lags = try ledger.read { snapshot in try (1...6).map { try snapshot.txn.get(snapshot.db.lags, Key.seq($0)).map { readLE($0, 0, 8) } } }
        XCTAssertEqual(lags, [nil, nil, 3 * 3_600_000_000_000, 3_599_500_000_000, 1_800_000_000_000, nil])
        XCTAssertTrue(try ledger.check().isIntact)
        XCTAssertNil(try Ledger(path: try temporaryDirectory(self) + "/empty", access: .readWrite).read { try $0.timeRange() })
    }

    /// Through the map and buffered (decision 0012: a buffered `import` is small, but the
    /// library allows any size), the call is run again from the pipe's copy on a larger map.
    func testTheMapGrowsWhenAnImportFromAPipeOutgrowsIt() throws {
        let input = generatedLines(count: 150_000)
        for writes in [Ledger.Writes.mapped, .buffered] {
            let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite, initialMapSize: 1 << 20, writes: writes)
            let summary = try ledger.append([try pipeSource(input)])
            XCTAssertEqual(summary.imported, 150_000)
            XCTAssertEqual(summary.duplicates, 0)
            XCTAssertGreaterThan(summary.attempts, 1, "\(writes): the map had to grow past the up-front margin")
            let report = try ledger.check()
            XCTAssertTrue(report.isIntact, "\(writes): \(report.problems)")
            XCTAssertEqual(report.events, 150_000)
        }
    }

    /// A call reserves room for the pages it copies, not only for what it adds: into a ledger
    /// with no free pages to reuse (one earlier call), a call that changes leaves all over the
    /// indexes runs once. (Without the slack every attempt adds, as in a large ledger where
    /// 16 MiB is small beside the pages a call copies; reserving only twice the input ran
    /// this call again on a map twice as large, then again: checked.)
    func testACallIntoALedgerWithoutFreePagesRunsOnceWhenItCopiesManyPages() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 60_000, users: 20_000))])
        var options = AppendOptions()
        options.roomSlack = 0
        let call = generatedLines(count: 5_000, users: 20_000, seed: 9, idPrefix: "later-")
        XCTAssertGreaterThan(call.count, 1 << 19, "room of at least 1 MiB on the first attempt")
        let summary = try ledger.append([InputSource(bytes: call)], options: options)
        XCTAssertEqual(summary.imported, 5_000)
        XCTAssertEqual(summary.attempts, 1)
        XCTAssertTrue(try ledger.check().isIntact)
    }

    func testADigestProvesAPrefixAndRefusesAnother() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 2000))])
        let early = try ledger.head()
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 700, seed: 4, idPrefix: "later-"))])
        XCTAssertEqual(try ledger.check(digest: (early.seq, early.value)).digestMatched, true)
        var wrong = early.value
        wrong[0] ^= 1
        let report = try ledger.check(digest: (early.seq, wrong))
        XCTAssertEqual(report.digestMatched, false)
        XCTAssertFalse(report.isIntact)
    }
}

final class HashFilterTests: XCTestCase {
    /// Every hash put in is found again; of hashes never put in, few are said to be there.
    func testAHashFilterFindsWhatWasPutInAndFewOthers() {
        var random = SplitMix64(seed: 7)
        let inserted = (0..<100_000).map { _ in random.next() }
        var filter = HashFilter(expected: inserted.count)
        for hash in inserted { filter.insert(hash) }
        XCTAssertTrue(inserted.allSatisfy(filter.mayContain), "no false negatives")
        let others = (0..<100_000).map { _ in random.next() }
        let falsePositives = others.filter(filter.mayContain).count
        XCTAssertLessThan(falsePositives, 8_000, "under 8% at the expected count")
        XCTAssertGreaterThan(HashFilter(expected: 10).mayContain(1) ? 0 : 1, 0, "an empty filter holds nothing")
    }
}
