import XCTest
@testable import SessionLedger

/// The reader's numbering of names (`CallNames`, `NameNumbering`): by first appearance, the
/// same number exactly for the same UTF-8 bytes.
final class CallNamesTests: XCTestCase {
    func testNamesAreNumberedByFirstAppearanceAndEqualOnlyByteForByte() {
        var numbering = NameNumbering()
        let long = String(repeating: "x", count: 24)
        let names = ["alice", "bob", "\u{E9}", "e\u{301}", "", long, long + "y", long + "z", "s_7117f445489bec45", "alice"]
        XCTAssertEqual(names.map { numbering.number($0) }, [1, 2, 3, 4, 5, 6, 7, 8, 9, 1])
        XCTAssertEqual(numbering.number(long + "z"), 8)
        XCTAssertEqual(numbering.number(String(long.dropLast()) + "y"), 10, "24 bytes that differ in the last one")
        XCTAssertEqual(numbering.count, 10)
    }

    func testManyNamesKeepTheirNumbersAsTheTableGrows() {
        var numbering = NameNumbering()
        let names = (0..<50_000).map { "s_\($0 * 7919)" + ($0 % 3 == 0 ? String(repeating: "-", count: 20) : "") }
        XCTAssertEqual(names.map { numbering.number($0) }, (1...50_000).map(UInt32.init))
        XCTAssertEqual(names.reversed().map { numbering.number($0) }, (1...50_000).reversed().map(UInt32.init))
    }

    func testKeysCarryTheCallNumbersAndTheIdHash() {
        var names = CallNames()
        let a = names.keys(for: Event(kind: .refresh, at: Instant(nanoseconds: 0), user: "u", session: "s", id: "abc"))
        let b = names.keys(for: Event(kind: .logoutAll, at: Instant(nanoseconds: 0), user: "v"))
        let c = names.keys(for: Event(kind: .refresh, at: Instant(nanoseconds: 0), user: "u", session: "t"))
        XCTAssertEqual([a.user, a.session, b.user, b.session, c.user, c.session], [1, 1, 2, 0, 1, 2])
        XCTAssertEqual(a.idHash, 0xBA78_16BF_8F01_CFEA, "the first 8 bytes of SHA-256(\"abc\")")
        XCTAssertEqual(b.idHash, 0)
        XCTAssertFalse(a.renumbered || b.renumbered || c.renumbered)
    }

    /// Past the limit the reader starts numbering again and the writer forgets what it learned:
    /// every event is stored under its own user and session all the same.
    func testAnImportThatOutgrowsTheNumberingStoresEveryNameRight() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        var options = AppendOptions()
        options.callNamesLimit = 3
        let input = generatedLines(count: 400, users: 20)
        let summary = try ledger.append([InputSource(bytes: input)], options: options)
        XCTAssertEqual(summary.imported, 400)
        // An independent path: the lines as parsed, against the events read back from the log.
        let parsed = try EventBatch.parse(ndjson: input).lines.map(\.event)
        let stored = try ledger.read { snapshot in try (1...400).map { try XCTUnwrap(snapshot.event(seq: UInt64($0))).event } }
        XCTAssertEqual(stored.map(\.user), parsed.map(\.user))
        XCTAssertEqual(stored.map(\.session), parsed.map(\.session))
        XCTAssertTrue(try ledger.check().isIntact)
        // And a second call, numbering from scratch, finds the names the first one stored.
        let moreInput = generatedLines(count: 100, users: 20, seed: 3, idPrefix: "m")
        let more = try ledger.append([InputSource(bytes: moreInput)], options: options)
        XCTAssertEqual(more.imported, 100)
        let moreParsed = try EventBatch.parse(ndjson: moreInput).lines.map(\.event)
        let moreStored = try ledger.read { snapshot in try (401...500).map { try XCTUnwrap(snapshot.event(seq: UInt64($0))).event } }
        XCTAssertEqual(moreStored.map(\.user), moreParsed.map(\.user))
        XCTAssertEqual(moreStored.map(\.session), moreParsed.map(\.session))
        XCTAssertEqual(try ledger.read { try $0.txn.count($0.db.users) }, 20)
        XCTAssertTrue(try ledger.check().isIntact)
    }
}
