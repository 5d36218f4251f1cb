import Foundation
import XCTest

/// The bundled fixtures through the real command line. Every expected file was produced by
/// an independent path (Tools/canonical.py and Tools/fixture_stats.py, written from SPEC.md
/// alone) or typed by hand from docs/INPUT.md; see each folder's README.md.
final class FixtureCommandTests: XCTestCase {
    func contents(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    func testTheTeamQuarterRoundTripsThroughImportAndExport() throws {
        let dir = try temporaryDirectory(self)
        let fixture = fixturesDirectory + "/team-quarter"
        let first = dir + "/first", second = dir + "/second"
        let imported = try Sledger.run(["import", "--ledger", first, fixture + "/events.ndjson"])
        XCTAssertEqual(imported.stdout, "imported 7987, duplicates 0\n", imported.stderr)

        let export = try Sledger.run(["export", "--ledger", first])
        XCTAssertEqual(export.status, 0)
        XCTAssertEqual(export.stdout, try contents(fixture + "/expected-export.ndjson"))

        // Importing an export into an empty ledger and exporting again gives the same bytes.
        let exportFile = dir + "/export.ndjson"
        try export.stdout.write(toFile: exportFile, atomically: false, encoding: .utf8)
        XCTAssertEqual(try Sledger.run(["import", "--ledger", second, exportFile]).status, 0)
        XCTAssertEqual(try Sledger.run(["export", "--ledger", second]).stdout, export.stdout)

        let stats = try JSONSerialization.jsonObject(with: Data(try Sledger.run(["stats", "--ledger", first, "--format", "json"]).stdout.utf8)) as! [[String: Any]]
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture + "/expected-stats.json"))) as! [String: Any]
        for key in ["events", "sessions", "users", "first_at", "last_at"] {
            XCTAssertEqual("\(stats[0][key]!)", "\(expected[key]!)", key)
        }
    }

    func testReimportingTheFixtureCountsEveryEventAsADuplicate() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        let file = fixturesDirectory + "/team-quarter/events.ndjson"
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, file]).status, 0)
        let digest = try Sledger.digest(ledger)
        let again = try Sledger.run(["import", "--ledger", ledger, file])
        XCTAssertEqual(again.stdout, "imported 0, duplicates 7987\n")
        XCTAssertEqual(try Sledger.digest(ledger), digest)
    }

    func testEveryBadInputCaseIsRefusedWithItsLineAndLeavesTheLedgerAsItWas() throws {
        let dir = try temporaryDirectory(self)
        let ledger = dir + "/ledger"
        let base = #"{"type":"login","at":"2026-03-01T09:00:00Z","user":"base","session":"base-1","client":"web","method":"google","id":"base-1"}"#
        XCTAssertEqual(try Sledger.run(["append", "--ledger", ledger], stdin: Data(base.utf8)).status, 0)
        let digest = try Sledger.digest(ledger)
        let folder = fixturesDirectory + "/bad-input"
        let cases = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".ndjson") }.sorted()
        XCTAssertGreaterThanOrEqual(cases.count, 30)
        for file in cases {
            let name = String(file.dropLast(".ndjson".count))
            let expected = try contents("\(folder)/\(name).expected").trimmingCharacters(in: .newlines)
            let input = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(file)"))
            let result = try Sledger.run(["append", "--ledger", ledger], stdin: input)
            XCTAssertEqual(result.status, 2, name)
            XCTAssertEqual(result.stderr, expected + "\n", name)
            XCTAssertEqual(result.stdout, "", name)
            XCTAssertEqual(try Sledger.digest(ledger), digest, "\(name) changed the ledger")
        }
        // On a ledger that did not exist, a refused call leaves none behind.
        let fresh = dir + "/fresh"
        let refused = try Sledger.run(["import", "--ledger", fresh, "\(folder)/\(cases[0])"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh))
    }

    func testAnImportOfANamedFileNamesTheFileInItsError() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        let file = fixturesDirectory + "/bad-input/008-unknown-key.ndjson"
        let result = try Sledger.run(["import", "--ledger", ledger, file])
        XCTAssertEqual(result.stderr, "\(file): " + (try contents(file.replacingOccurrences(of: ".ndjson", with: ".expected"))))
    }

    func testAnIdReusedAcrossCallsWithOtherContentNamesTheStoredSeq() throws {
        let ledger = try temporaryDirectory(self) + "/ledger"
        let folder = fixturesDirectory + "/bad-input/id-conflict"
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, folder + "/first.ndjson"]).status, 0)
        let digest = try Sledger.digest(ledger)
        let second = try Sledger.run(["append", "--ledger", ledger], stdin: try Data(contentsOf: URL(fileURLWithPath: folder + "/second.ndjson")))
        XCTAssertEqual(second.status, 2)
        XCTAssertEqual(second.stderr, try contents(folder + "/second.expected"))
        XCTAssertEqual(try Sledger.digest(ledger), digest)
    }

    func testEveryGoodInputCaseIsAcceptedAndExportsCanonically() throws {
        let dir = try temporaryDirectory(self)
        let folder = fixturesDirectory + "/good-input"
        let cases = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".ndjson") }.sorted()
        XCTAssertGreaterThanOrEqual(cases.count, 10)
        for file in cases {
            let name = String(file.dropLast(".ndjson".count))
            let ledger = "\(dir)/\(name)"
            let result = try Sledger.run(["import", "--ledger", ledger, "\(folder)/\(file)"])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            XCTAssertEqual(try Sledger.run(["export", "--ledger", ledger]).stdout, try contents("\(folder)/\(name).expected"), name)
        }
    }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String { components(separatedBy: a).joined(separator: b) }
}
