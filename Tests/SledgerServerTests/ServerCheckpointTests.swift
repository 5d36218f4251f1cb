import Foundation
@testable import SessionLedger
@testable import SledgerServer
import XCTest

/// The server's writer stores the checkpoints a planner thread folds beside it
/// (`GroupCommitWriter.startPlanning`), and stopping waits for a plan being folded.
final class ServerCheckpointTests: XCTestCase {
    func testCheckpointsFoldedBesideTheWriterAreStoredByIt() async throws {
        let access = try LedgerAccess(path: try temporaryLedger(self), room: 64 << 20)
        let writer = GroupCommitWriter(access: access)
        // 50 sessions logged in, then refreshed in turn: one event a minute, 18,000 in all. Their
        // checkpoints are small, so the adaptive spacing is its minimum, 16,384 events.
        let start = try XCTUnwrap(Instant(rfc3339: Array("2026-01-01T00:00:00Z".utf8)))
        func at(_ i: Int) -> Instant { Instant(nanoseconds: start.nanoseconds + Int64(i) * 60_000_000_000) }
        func line(_ i: Int) -> String {
            let (user, session) = ("u\(i % 50)", "s\(i % 50)")
            return i < 50
                ? #"{"type":"login","at":"\#(at(i))","user":"\#(user)","session":"\#(session)","client":"web","method":"google","id":"e\#(i)"}"#
                : #"{"type":"refresh","at":"\#(at(i))","user":"\#(user)","session":"\#(session)","id":"e\#(i)"}"#
        }
        for first in stride(from: 0, to: 18_000, by: 6_000) {
            let body = (first..<(first + 6_000)).map(line).joined(separator: "\n") + "\n"
            let receipt = try await writer.submit(try EventBatch.parse(ndjson: Array(body.utf8)))
            guard case .stored(let imported, _) = receipt.outcome else { return XCTFail("\(receipt.outcome)") }
            XCTAssertEqual(imported, 6_000)
        }
        // The look after 18,000 events plans one spaced checkpoint, at the 16,384th event's
        // instant; no tail: an hour before the newest lies 1,556 events past it, under a quarter
        // of 16,384.
        writer.stop()
        var stored: [(Instant, UInt64)] = []
        try access.ledger.read { snapshot in
            try snapshot.forEachStoredCheckpoint(policy: .default) { instant, checkpoint in
                stored.append((instant, try XCTUnwrap(checkpoint).events))
            }
        }
        XCTAssertEqual(stored.map(\.0), [at(16_383)])
        XCTAssertEqual(stored.map(\.1), [16_384])
        XCTAssertTrue(try access.ledger.check().isIntact)
    }
}
