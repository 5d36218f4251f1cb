import XCTest
@testable import SessionLedger

/// Ids are byte strings (SPEC.md section 2): "é" as U+00E9 and as "e" + U+0301 are two ids,
/// although Swift's String == calls them equal.
final class ByteIdentityTests: XCTestCase {
    let composed = "\u{00E9}"      // é, one scalar
    let decomposed = "e\u{0301}"   // e + combining acute

    func testSwiftStringsCallThemEqualWhichIsWhyThisTestExists() {
        XCTAssertEqual(composed, decomposed)
        XCTAssertFalse(composed.isSameID(as: decomposed))
        XCTAssertNotEqual(ByteIdentity(composed), ByteIdentity(decomposed))
    }

    func testTheLedgerKeepsTwoUsersAndTwoSessionsInOneCall() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        let text = """
            {"type":"login","at":"2026-03-01T09:00:00Z","user":"\\u00e9","session":"s\\u00e9","client":"web","method":"google"}
            {"type":"login","at":"2026-03-01T09:00:01Z","user":"e\\u0301","session":"se\\u0301","client":"web","method":"google"}

            """
        _ = try ledger.append([InputSource(bytes: Array(text.utf8))])
        XCTAssertEqual(try ledger.read { try $0.userCount() }, 2)
        XCTAssertEqual(try ledger.read { try $0.sessionCount() }, 2)
        let report = try ledger.check()
        XCTAssertTrue(report.isIntact, "\(report.problems)")
    }

    func testTheFoldTreatsThemAsTwoUsersAndTwoSessions() {
        let at = Instant(rfc3339: "2026-03-01T09:00:00Z")!
        func stored(_ seq: UInt64, _ event: Event) -> StoredEvent { StoredEvent(seq: seq, recorded: event.at, event: event) }
        var fold = Derivation(policy: .default)
        _ = fold.apply(stored(1, Event(kind: .login, at: at, user: composed, session: "s" + composed, client: "web", method: "google")),
                       late: false, checkFuture: false)
        _ = fold.apply(stored(2, Event(kind: .login, at: at, user: decomposed, session: "s" + decomposed, client: "web", method: "google")),
                       late: false, checkFuture: false)
        XCTAssertEqual(fold.sessionCount, 2, "the second login is not a duplicate-session")
        // The decomposed user logs out the composed user's session: another user's session.
        let findings = fold.apply(stored(3, Event(kind: .logout, at: at, user: decomposed, session: "s" + composed)),
                                  late: false, checkFuture: false)
        XCTAssertEqual(findings.map(\.rule), [.userMismatch])
        XCTAssertEqual(fold.users.count, 2)
        XCTAssertEqual(fold.sessions(ofUser: decomposed).map(\.session), ["s" + decomposed])
    }

    func testUTF8OrderIsTheOrderOfTheBytes() {
        // Worked out by hand from the UTF-8 bytes: "" < "a" < "ab" < "b" < "é" (C3 A9) < "ﬀ" (EF AC 80);
        // the decomposed "e\u{301}" (65 CC 81) sorts after "b" (62) and before "é" (C3), though
        // Swift's `<` calls it equal to "é".
        let ordered = ["", "a", "ab", "b", "e\u{301}", "é", "\u{FB00}"]
        for (i, a) in ordered.enumerated() {
            for (j, b) in ordered.enumerated() {
                XCTAssertEqual(a.utf8Precedes(b), i < j, "\(Array(a.utf8)) before \(Array(b.utf8))")
            }
        }
        // Sorting with it gives that order.
        let shuffled = ["é", "b", "", "\u{FB00}", "ab", "e\u{301}", "a"]
        XCTAssertEqual(shuffled.sorted { $0.utf8Precedes($1) }, ordered)
        XCTAssertEqual(sortedByUTF8(shuffled) { $0 }, ordered)
    }

    /// `sortedByUTF8` packs the first 16 bytes in integers: the same order as comparing the
    /// byte arrays, around the 8- and 16-byte edges, with zero bytes (which the packing pads
    /// with) and with long shared prefixes.
    func testSortingByPackedPrefixesGivesTheOrderOfTheBytes() {
        var random = SplitMix64(seed: 7)
        let alphabet: [String] = ["a", "b", "\u{0}", "é", "z", "_", "1"]
        var words: [String] = []
        for _ in 0..<3_000 {
            let base = random.pick(["", "u_", "user-000000000", "abcdefgh", "abcdefghijklmnop"])
            var word = base
            for _ in 0..<random.below(20) { word += random.pick(alphabet) }
            words.append(word)
        }
        let expected = words.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        XCTAssertEqual(sortedByUTF8(words) { $0 }.map { Array($0.utf8) }, expected.map { Array($0.utf8) })
    }
}
