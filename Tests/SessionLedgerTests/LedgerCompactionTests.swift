import Foundation
import XCTest
import LMDB
@testable import SessionLedger

/// `Ledger.writeCompactCopy`: the library's own refusals, nothing left behind by them, and
/// full pages (decision 0011).
final class LedgerCompactionTests: XCTestCase {
    func testAnExistingDirectoryOrAMissingParentIsRefusedAndNothingIsLeftBehind() throws {
        let dir = try temporaryDirectory(self)
        let ledger = try Ledger(path: dir + "/l", access: .readWrite)
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 200))])
        try FileManager.default.createDirectory(atPath: dir + "/taken", withIntermediateDirectories: false)
        for (target, named) in [(dir + "/taken", dir + "/taken"), (dir + "/taken/", dir + "/taken"),
                                (dir + "/missing/copy", dir + "/missing/copy")] {
            XCTAssertThrowsError(try ledger.writeCompactCopy(to: target), target) { error in
                guard case LedgerError.cannotCreate(let path, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(path, named)
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["l", "taken"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/taken"), [])
    }

    func testATrailingSlashNamesTheDirectoryItself() throws {
        let dir = try temporaryDirectory(self)
        let ledger = try Ledger(path: dir + "/l", access: .readWrite)
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 200))])
        let copy = try ledger.writeCompactCopy(to: dir + "/copy//")
        XCTAssertEqual(copy.head, try ledger.head())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["copy", "l"])
        XCTAssertEqual(try Ledger(path: dir + "/copy", access: .readOnly).head(), try ledger.head())
        XCTAssertEqual(Ledger.withoutTrailingSlashes("/"), "/")
        XCTAssertEqual(Ledger.parent(of: "copy"), ".")
        XCTAssertEqual(Ledger.parent(of: "/copy"), "/")
    }

    /// `compact` rewrites every database in key order with LMDB's append flags, so its pages
    /// are full, where LMDB's own compacting copy keeps each page as the inserts left it.
    func testTheCopyFillsItsPagesWhereLMDBsCompactingCopyDoesNot() throws {
        let dir = try temporaryDirectory(self)
        let ledger = try Ledger(path: dir + "/ledger", access: .readWrite)
        // Forty calls of 500 events: each call's ids land in hash order among the earlier ones,
        // and the users and sessions of later calls among the earlier names, splitting pages.
        var random = SplitMix64(seed: 11)
        var n = 0
        for call in 0..<40 {
            var input: [UInt8] = []
            for _ in 0..<500 {
                n += 1
                let user = "u\(random.below(300))", session = "s\(random.below(3000))"
                let at = "2026-01-\(String(format: "%02d", 1 + call / 2))T\(String(format: "%02d", n % 24)):00:00Z"
                let kind = random.below(4) == 0 ? #""type":"login","client":"web","method":"google""# : #""type":"refresh""#
                input += Array(#"{\#(kind),"at":"\#(at)","user":"\#(user)","session":"\#(session)","id":"e\#(random.next())"}"#.utf8) + [10]
            }
            _ = try ledger.append([InputSource(bytes: input)])
        }
        let ours = try ledger.writeCompactCopy(to: dir + "/ours")
        XCTAssertEqual(mkdir(dir + "/lmdb", 0o700), 0)
        try ledger.env.copy(to: dir + "/lmdb", compacting: true)
        let theirs = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: dir + "/lmdb/data.mdb")[.size] as? Int)
        XCTAssertLessThan(ours.bytes, theirs, "ours \(ours.bytes) bytes, LMDB's \(theirs)")

        // The same ledger: the same head, every index as the log implies, the same answers.
        let copy = try Ledger(path: dir + "/ours", access: .readOnly)
        XCTAssertEqual(try copy.head(), try ledger.head())
        XCTAssertTrue(try copy.check().isIntact)
        for user in ["u0", "u17", "u299"] {
            let original = try ledger.read { try LedgerFold(policy: .default).run(UserLog(snapshot: $0, user: user)).derivation.sessions(ofUser: user) }
            XCTAssertFalse(original.isEmpty, user)
            XCTAssertEqual(try copy.read { try LedgerFold(policy: .default).run(UserLog(snapshot: $0, user: user)).derivation.sessions(ofUser: user) }, original)
        }
    }
}
