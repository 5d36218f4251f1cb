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
        try appendAndCompare(ledger, generatedLines(count: 400, users: 20), options, firstSeq: 1)
        // And a second call, numbering from scratch, finds the names the first one stored.
        try appendAndCompare(ledger, generatedLines(count: 100, users: 20, seed: 3, idPrefix: "m"), options, firstSeq: 401)
        XCTAssertEqual(try ledger.read { try $0.txn.count($0.db.users) }, 20)
    }

    /// Appends `input`, then compares each stored event's user and session with an independent
    /// path: the lines as parsed.
    private func appendAndCompare(_ ledger: Ledger, _ input: [UInt8], _ options: AppendOptions, firstSeq: Int,
                                  line: UInt = #line) throws {
        let parsed = try EventBatch.parse(ndjson: input).lines.map(\.event)
        XCTAssertEqual(try ledger.append([InputSource(bytes: input)], options: options).imported, parsed.count, line: line)
        let stored = try ledger.read { snapshot in
            try (firstSeq..<firstSeq + parsed.count).map { try XCTUnwrap(snapshot.event(seq: UInt64($0))).event }
        }
        XCTAssertEqual(stored.map(\.user), parsed.map(\.user), line: line)
        XCTAssertEqual(stored.map(\.session), parsed.map(\.session), line: line)
        XCTAssertTrue(try ledger.check().isIntact, line: line)
    }
}
