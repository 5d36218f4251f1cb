import Foundation
import XCTest
@testable import SessionLedger

/// A fresh temporary directory, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase, file: StaticString = #filePath) throws -> String {
    let path = NSTemporaryDirectory() + "sledger-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// The repository's Fixtures folder.
let fixturesDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
    return url.deletingLastPathComponent().appendingPathComponent("Fixtures").path
}()

/// A deterministic, plausible log: `count` events over `users` users, every one with an id.
func generatedLines(count: Int, users: Int = 50, seed: UInt64 = 1, idPrefix: String = "e") -> [UInt8] {
    var state = seed
    func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }
    var out: [UInt8] = []
    var at: Int64 = 1_767_225_600 * 1_000_000_000  // 2026-01-01T00:00:00Z
    var open: [Int: Int] = [:]  // user -> session number
    var sessions = 0
    for i in 0..<count {
        at += Int64(next() % 120 + 1) * 1_000_000_000
        let user = Int(next() % UInt64(users))
        let when = Instant(nanoseconds: at).description
        let line: String
        if let session = open[user], next() % 10 != 0 {
            if next() % 8 == 0 {
                open[user] = nil
                line = #"{"type":"logout","at":"\#(when)","user":"u\#(user)","session":"s\#(session)","id":"\#(idPrefix)\#(i)"}"#
            } else {
                line = #"{"type":"refresh","at":"\#(when)","user":"u\#(user)","session":"s\#(session)","id":"\#(idPrefix)\#(i)"}"#
            }
        } else {
            sessions += 1
            open[user] = sessions
            let client = ["web", "ios", "android", "desktop"][Int(next() % 4)]
            line = #"{"type":"login","at":"\#(when)","user":"u\#(user)","session":"s\#(sessions)","client":"\#(client)","method":"google","id":"\#(idPrefix)\#(i)","ip":"10.0.0.\#(user % 250)"}"#
        }
        out += Array(line.utf8)
        out.append(0x0A)
    }
    return out
}

/// A fresh ledger holding `generatedLines(count:)` (appended without checkpoints) with
/// checkpoints then written every `spacing` events (more than five of them), and those
/// checkpoints as stored, in time order: where the checkpoint tests start from.
func ledgerWithCheckpoints(_ test: XCTestCase, count: Int = 3_000, spacing: Int = 400) throws
    -> (ledger: Ledger, stored: [(at: Instant, checkpoint: Checkpoint?)]) {
    let ledger = try Ledger(path: try temporaryDirectory(test) + "/l", access: .readWrite)
    var options = AppendOptions()
    options.checkpointSpacing = nil
    _ = try ledger.append([InputSource(bytes: generatedLines(count: count))], options: options)
    XCTAssertGreaterThan(try ledger.writeCheckpoints(spacing: .every(spacing)), 5)
    var stored: [(at: Instant, checkpoint: Checkpoint?)] = []
    try ledger.read { try $0.forEachStoredCheckpoint(policy: .default) { stored.append(($0, $1)) } }
    return (ledger, stored)
}
