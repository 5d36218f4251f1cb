import Foundation
import XCTest

/// `sledger compact`: a copy without the free pages, holding exactly what the ledger holds.
final class CompactCommandTests: XCTestCase {
    /// A ledger loaded by several durable calls, checkpoints rewritten on the way: each call
    /// copies the index pages it touches, so the file holds free pages the copy leaves out.
    private func ledgerOfManyCalls(_ dir: String) throws -> String {
        let ledger = dir + "/ledger"
        let all = dir + "/all.ndjson"
        try writeGeneratedLog(to: all, count: 24_000)
        let lines = try String(contentsOfFile: all, encoding: .utf8).split(separator: "\n")
        for (call, start) in stride(from: 0, to: lines.count, by: 3_000).enumerated() {
            let chunk = lines[start..<min(start + 3_000, lines.count)].joined(separator: "\n") + "\n"
            XCTAssertEqual(try Sledger.run(["append", "--ledger", ledger], stdin: Data(chunk.utf8)).status, 0, "call \(call)")
        }
        XCTAssertEqual(try Sledger.run(["checkpoint", "--ledger", ledger, "--spacing", "1000"]).status, 0)
        return ledger
    }

    func testTheCopyHoldsTheSameLedgerInFewerBytes() throws {
        let dir = try temporaryDirectory(self)
        let ledger = try ledgerOfManyCalls(dir)
        let copy = dir + "/copy"
        let result = try Sledger.run(["compact", "--ledger", ledger, "--to", copy])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("compacted 24000 events into \(copy): "), result.stdout)

        let digest = try Sledger.digest(ledger)
        XCTAssertTrue(digest.hasPrefix("24000:"), digest)
        XCTAssertEqual(try Sledger.digest(copy), digest)
        let check = try Sledger.run(["check", "--ledger", copy, "--digest", digest.trimmingCharacters(in: .newlines)])
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertTrue(check.stdout.contains("checkpoints verified"), check.stdout)
        for question in [["export", "--with-seq"], ["who", "--at", "2026-01-03T00:00:00Z"],
                         ["sessions", "--at", "2026-01-02T12:00:00Z", "--format", "csv"], ["user", "u17", "--format", "json"],
                         ["replay", "--format", "json"]] {
            let original = try Sledger.run(question + ["--ledger", ledger])
            XCTAssertFalse(original.stdout.isEmpty, "\(question)")
            XCTAssertEqual(try Sledger.run(question + ["--ledger", copy]).stdout, original.stdout, "\(question)")
        }

        // Smaller than the pages the ledger has written, its freelist among them (a copy
        // without compaction is exactly those pages).
        let stats = try Sledger.run(["stats", "--ledger", ledger, "--format", "json"])
        let used = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [[String: Any]])?.first?["used_bytes"] as? Int)
        let copied = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: copy + "/data.mdb")[.size] as? Int)
        XCTAssertLessThan(copied, used)
        XCTAssertTrue(result.stdout.contains(": \(copied) bytes"), result.stdout)
        let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: copy + "/data.mdb")[.posixPermissions] as? Int)
        XCTAssertEqual(mode, 0o600, "the copy is its owner's alone, like the ledger")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["all.ndjson", "copy", "ledger"],
                       "no partial directory left behind")

        // The copy is a ledger like any other: it takes appends.
        let more = #"{"type":"logout_all","at":"2026-02-01T00:00:00Z","user":"u17"}"# + "\n"
        XCTAssertEqual(try Sledger.run(["append", "--ledger", copy], stdin: Data(more.utf8)).status, 0)
        XCTAssertEqual(try Sledger.eventCount(copy), 24_001)
        XCTAssertEqual(try Sledger.run(["check", "--ledger", copy]).status, 0)
    }

    func testAnExistingDirectoryIsRefusedAndLeftAsItWas() throws {
        let dir = try temporaryDirectory(self)
        let ledger = dir + "/ledger"
        let event = #"{"type":"logout_all","at":"2026-02-01T00:00:00Z","user":"u1"}"# + "\n"
        XCTAssertEqual(try Sledger.run(["append", "--ledger", ledger], stdin: Data(event.utf8)).status, 0)
        let other = dir + "/other"
        XCTAssertEqual(try Sledger.run(["append", "--ledger", other], stdin: Data(event.utf8)).status, 0)
        let before = try Sledger.digest(other)

        for (target, named, why) in [(other, other, "already exists"), (other + "/", other, "already exists"),
                                     (ledger, ledger, "already exists"),
                                     (dir + "/missing/copy", dir + "/missing/copy", "is not an existing directory")] {
            let result = try Sledger.run(["compact", "--ledger", ledger, "--to", target])
            XCTAssertEqual(result.status, 2, "a bad argument: \(target)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains("--to \(named)") && result.stderr.contains(why), result.stderr)
        }
        XCTAssertEqual(try Sledger.digest(other), before)
        XCTAssertEqual(try Sledger.eventCount(ledger), 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["ledger", "other"])
    }
}
