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

/// A source reading `input` through a pipe written by another thread.
func pipeSource(_ input: [UInt8]) throws -> InputSource {
    var fds: [Int32] = [0, 0]
    XCTAssertEqual(pipe(&fds), 0)
    let (readEnd, writeEnd) = (fds[0], fds[1])
    let writer = Thread {
        input.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(writeEnd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        close(writeEnd)
    }
    writer.start()
    return InputSource(fileDescriptor: readEnd, name: nil)
}

/// A deterministic, plausible log: `count` events over `users` users, every one with an id.
/// Runs `body` with `SLEDGER_INDEX_BLOCK_BITS` set to `bits` (unset for nil), then puts back
/// what it was (a whole suite may run under it).
func withIndexBlockBits<T>(_ bits: String?, _ body: () throws -> T) rethrows -> T {
    let before = getenv("SLEDGER_INDEX_BLOCK_BITS").map { String(cString: $0) }
    if let bits { setenv("SLEDGER_INDEX_BLOCK_BITS", bits, 1) } else { unsetenv("SLEDGER_INDEX_BLOCK_BITS") }
    defer {
        if let before { setenv("SLEDGER_INDEX_BLOCK_BITS", before, 1) } else { unsetenv("SLEDGER_INDEX_BLOCK_BITS") }
    }
    return try body()
}

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

/// A fresh ledger holding the 400 events `TestLogGenerator(seed:)` makes, appended in three
/// parts with checkpoints written under its policy after each: the out-of-order events of the
/// later parts make some of them stale, so checkpoints are written both from the start and
/// from where a fold resumed. Returns the ledger, the policy and the events.
func seededLedgerWithCheckpoints(_ test: XCTestCase, seed: UInt64, spacing: CheckpointSpacing) throws
    -> (ledger: Ledger, policy: Policy, events: [Event]) {
    let (policy, events) = seededLog(seed: seed)
    let ledger = try Ledger(path: try temporaryDirectory(test) + "/l\(seed)", access: .readWrite)
    let options = AppendOptions.withoutCheckpoints
    let parts = [0, 150, 300, events.count]
    for i in 0..<3 {
        var text: [UInt8] = []
        for event in events[parts[i]..<parts[i + 1]] { CanonicalWriter.write(event, into: &text); text.append(0x0A) }
        _ = try ledger.append([InputSource(bytes: text)], options: options)
        try ledger.writeCheckpoints(policy: policy, spacing: spacing)
    }
    return (ledger, policy, events)
}

/// The 400 events `TestLogGenerator(seed:)` makes, and the policy it drew.
func seededLog(seed: UInt64) -> (policy: Policy, events: [Event]) {
    var generator = TestLogGenerator(seed: seed)
    generator.count = 400
    let policy = generator.policy()
    return (policy, generator.events())
}

extension AppendOptions {
    /// Appends that write no checkpoints: the test writes them where it wants them.
    static var withoutCheckpoints: AppendOptions {
        var options = AppendOptions()
        options.checkpointSpacing = nil
        return options
    }
}

/// `events` as NDJSON lines in canonical form.
func canonicalLines(_ events: some Sequence<Event>) -> [UInt8] {
    var text: [UInt8] = []
    for event in events { CanonicalWriter.write(event, into: &text); text.append(0x0A) }
    return text
}

/// A fresh ledger where alice (session a1) logs in at 09:00 and 40 other users at 09:01 ...
/// 09:40, one a minute, with checkpoints every 10 events: at minutes 9, 19, 29 and 39. `at(m)`
/// is minute `m` (on 2026-03-01). Where the late-event tests start from.
func fortyLoginsAfterAlice(_ test: XCTestCase) throws -> (ledger: Ledger, at: (Int) -> Instant) {
    let ledger = try Ledger(path: try temporaryDirectory(test) + "/l", access: .readWrite)
    var options = AppendOptions()
    options.checkpointSpacing = nil
    let at = { (minutes: Int) in Instant(rfc3339: "2026-03-01T09:00:00Z")!.saturatingAdding(.seconds(Int64(minutes) * 60)) }
    var events = [Event(kind: .login, at: at(0), user: "alice", session: "a1", client: "web", method: "google")]
    for m in 1...40 {
        events.append(Event(kind: .login, at: at(m), user: "u\(m)", session: "s\(m)", client: "web", method: "google"))
    }
    _ = try ledger.append([InputSource(bytes: canonicalLines(events))], options: options)
    XCTAssertEqual(try ledger.writeCheckpoints(spacing: .every(10)), 4)  // after 10, 20, 30 and 40 events
    return (ledger, at)
}

/// A checkpoint's bytes as version 1 or 2 laid them out (docs/FORMAT.md: version 1 without
/// each session's two numbers, neither with a stretch), written here field by field, not by
/// `encoded()`.
func olderCheckpointBytes(_ c: Checkpoint, version: UInt8) -> [UInt8] {
    precondition(version == 1 || version == 2)
    var out: [UInt8] = [version, 0, 0, 0]
    func int(_ v: UInt64, _ width: Int) { for k in 0..<width { out.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
    func text(_ s: String) { int(UInt64(s.utf8.count), 2); out += Array(s.utf8) }
    int(UInt64(bitPattern: c.at.nanoseconds), 8)
    int(c.headSeq, 8)
    int(c.events, 8)
    out += c.policyDigest
    int(UInt64(c.sessions.count), 4)
    for (s, n) in zip(c.sessions, c.numbers) {
        text(s.session); text(s.user); text(s.client); text(s.method)
        int(UInt64(bitPattern: s.loginAt.nanoseconds), 8)
        int(s.loginSeq, 8)
        int(UInt64(bitPattern: s.lastExtendedAt.nanoseconds), 8)
        out.append(s.expiresAt == nil ? 0 : 1)
        int(UInt64(bitPattern: s.expiresAt?.nanoseconds ?? 0), 8)
        int(UInt64(s.refreshCount), 4)
        if version == 2 {
            int(UInt64(n.session), 4)
            int(UInt64(n.user), 4)
        }
    }
    int(UInt64(c.loggedIn.count), 4)
    out += c.loggedIn
    int(UInt64(out.withUnsafeBytes { CRC32.checksum($0) }), 4)
    return out
}
