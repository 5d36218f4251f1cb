import Foundation
import XCTest
@testable import SessionLedger

/// `Ledger.writeCompactCopy`: the library's own refusals, and nothing left behind by them.
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
}
