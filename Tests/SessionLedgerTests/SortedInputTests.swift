import Foundation
import XCTest
@testable import SessionLedger

/// `replay --input`'s source, which keeps the file's events in sorted runs (in a temporary
/// file when there is more than one), against `InputLog`, which holds them.
final class SortedInputTests: XCTestCase {
    /// Events with every field a generated log lacks: ids, ip, agent, `meta` (empty too), and
    /// strings with quotes, backslashes and characters beyond ASCII (control characters are refused on input).
    static let unusual: [Event] = [
        Event(kind: .login, at: Instant(rfc3339: "2026-03-01T09:00:00.000000001Z")!, user: "dörte \"d\" \\ 東京",
              session: "s-ü", client: "web", method: "google", id: "id-1", ip: "2001:db8::1", agent: "Mozilla/5.0 (X11; Linux x86_64) ☃",
              meta: [.init(key: "z", value: "last"), .init(key: "a", value: "first / ✓"), .init(key: "k.2_-", value: "")]),
        Event(kind: .refresh, at: Instant(rfc3339: "2026-03-01T08:00:00Z")!, user: "dörte \"d\" \\ 東京", session: "s-ü",
              meta: [], hasMeta: true),
        Event(kind: .logoutAll, at: Instant(rfc3339: "2026-03-02T00:00:00Z")!, user: "bob", id: "x"),
        // The same text as the first login's user and session in another normal form: other
        // ids, byte for byte (a fold that compared text would find a duplicate session).
        Event(kind: .login, at: Instant(rfc3339: "2026-03-01T09:30:00Z")!, user: "do\u{308}rte \"d\" \\ 東京",
              session: "s-u\u{308}", client: "web", method: "google"),
    ]

    func testEveryFieldComesBackExactlyAsBytes() throws {
        var bytes: [UInt8] = [], scratch: [UInt8] = []
        for (i, event) in SortedInputTests.unusual.enumerated() {
            EventBytes.append(event, seq: UInt64(i + 7), user: UInt32(i + 1), session: event.session == nil ? 0 : UInt32(40 + i),
                              scratch: &scratch, to: &bytes)
        }
        try bytes.withUnsafeBytes { raw in
            var at = 0
            for (i, event) in SortedInputTests.unusual.enumerated() {
                let (stored, next) = try EventBytes.read(raw, at: at)
                XCTAssertEqual(stored.event, event)
                XCTAssertEqual(stored.event.hasMeta, event.hasMeta)
                XCTAssertEqual(stored.event.meta, event.meta, "meta in canonical order")
                XCTAssertEqual(stored.seq, UInt64(i + 7))
                XCTAssertEqual(stored.recorded, event.at)
                XCTAssertEqual(stored.userNumber, UInt32(i + 1))
                XCTAssertEqual(stored.sessionNumber, event.session == nil ? 0 : UInt32(40 + i))
                // For a fold, the strings no rule reads are left out; the rest is the same.
                let (folded, after) = try EventBytes.read(raw, at: at, foldOnly: true)
                var bare = event
                (bare.id, bare.ip, bare.agent, bare.meta) = (nil, nil, nil, [])
                XCTAssertEqual(folded.event, bare)
                XCTAssertEqual(after, next)
                at = next
            }
            XCTAssertEqual(at, raw.count)
        }
    }

    /// What a fold sees, in order, which events are late, and a whole fold's findings and
    /// sessions: the same as from the events held, for runs of one event, of a few, and all in
    /// memory; and the same for the parts of the log a narrower walk asks for.
    func testAFoldSeesWhatItSeesFromTheEventsHeld() throws {
        var compared = 0
        for seed in UInt64(1)...6 {
            var generator = TestLogGenerator(seed: seed)
            generator.count = 300
            let policy = generator.policy()
            var events = generator.events()
            events.insert(contentsOf: SortedInputTests.unusual, at: Int(seed) * 20)
            var ndjson: [UInt8] = []
            for (i, event) in events.enumerated() {
                ndjson += CanonicalWriter.bytes(of: event) + [0x0A]
                if i == 100 { ndjson += Array("\n   \n".utf8) }  // blank lines: not events, no seq
            }
            let held = InputLog(events: events)
            let probes = probeInstants(events)
            let whole = try LedgerFold(policy: policy, findings: .all).run(held)
            for runBytes in [1, 700, 9_000, SortedInput.runBytes] {
                let label = "seed \(seed), runs of \(runBytes) bytes"
                let sorted = try SortedInput(source: InputSource(bytes: ndjson), maxSkew: policy.maxSkew, runBytes: runBytes)
                switch runBytes {
                case 1: XCTAssertEqual(sorted.runCount, events.count, label)
                case SortedInput.runBytes: XCTAssertEqual(sorted.runCount, 1, label)
                default: XCTAssertGreaterThan(sorted.runCount, 1, label)
                }
                XCTAssertEqual(sorted.spilled, runBytes != SortedInput.runBytes, label)
                XCTAssertEqual(try sorted.totalEvents(), events.count, label)
                for maxSkew in [nil, Duration.seconds(0), .seconds(300), .seconds(3_600)] as [Duration?] {
                    let late = try SortedInput(source: InputSource(bytes: ndjson), maxSkew: maxSkew, runBytes: runBytes).lateSeqs(maxSkew: maxSkew)
                    XCTAssertEqual(late, try held.lateSeqs(maxSkew: maxSkew), label)
                    if maxSkew == .seconds(0) { XCTAssertGreaterThan(late.count, 0, label) }
                }
                XCTAssertFalse(sorted.hasRecorded)
                for (i, from) in probes.enumerated() where i % 37 == 0 {
                    for to in [probes[min(i + 5, probes.count - 1)], nil] as [Instant?] {
                        XCTAssertEqual(try walk(sorted, from: from, to: to), try walk(held, from: from, to: to), "\(label), [\(from), \(to.map { "\($0)" } ?? "end"))")
                        compared += 1
                    }
                }
                XCTAssertEqual(try walk(sorted, from: nil, to: nil), try walk(held, from: nil, to: nil), label)
                // A walk stopped early stops.
                var seen = 0
                try sorted.forEachEventInTimeOrder(from: nil, to: nil, foldOnly: true) { _ in seen += 1; return seen < 10 }
                XCTAssertEqual(seen, 10, label)
                let folded = try LedgerFold(policy: policy, findings: .all).run(sorted)
                XCTAssertEqual(folded.findings, whole.findings, label)
                XCTAssertEqual(folded.derivation.sessions, whole.derivation.sessions, label)
                // Numbered as a ledger numbers: by exact bytes, in order of first appearance.
                let inSeqOrder = try walk(sorted, from: nil, to: nil).sorted { $0.seq < $1.seq }
                // (Keyed by bytes: `String` keys compare text, "ü" == "u\u{308}".)
                var userNumbers: [[UInt8]: UInt32] = [:], sessionNumbers: [[UInt8]: UInt32] = [:]
                for stored in inSeqOrder {
                    let userKey = Array(stored.event.user.utf8)
                    let user = userNumbers[userKey] ?? UInt32(userNumbers.count + 1)
                    userNumbers[userKey] = user
                    XCTAssertEqual(stored.userNumber, user, label)
                    guard let session = stored.event.session.map({ Array($0.utf8) }) else { XCTAssertEqual(stored.sessionNumber, 0, label); continue }
                    let number = sessionNumbers[session] ?? UInt32(sessionNumbers.count + 1)
                    sessionNumbers[session] = number
                    XCTAssertEqual(stored.sessionNumber, number, label)
                }
                // So `replay`'s fold retires ended sessions, as from a ledger, with the same findings.
                for every in [1, 7] {
                    var retiring = LedgerFold(policy: policy, findings: .all)
                    retiring.retireEvery = every
                    var handed = 0
                    let result = try retiring.run(sorted, settled: { _ in handed += 1 })
                    XCTAssertEqual(result.findings, whole.findings, "\(label), retiring every \(every)")
                    XCTAssertEqual(result.derivation.sessionCount, whole.derivation.sessionCount, label)
                    XCTAssertEqual(result.derivation.userCount, whole.derivation.userCount, label)
                    XCTAssertGreaterThan(handed, 0, "\(label): sessions retired")
                }
            }
            XCTAssertGreaterThan(whole.findings.count, 0, "seed \(seed): findings compared")
        }
        XCTAssertGreaterThan(compared, 100)
    }

    func testBadLinesAreReportedByLineAndKey() throws {
        var lines = SortedInputTests.unusual.map { String(decoding: CanonicalWriter.bytes(of: $0), as: UTF8.self) }
        lines.insert(#"{"type":"login","at":"2026-03-01T09:00:00Z"}"#, at: 1)  // line 2: no user
        lines.append(#"{"type":"refresh","at":"yesterday","user":"u","session":"s"}"#)  // the last line: a bad at
        let source = Array((lines.joined(separator: "\n") + "\n").utf8)
        for allErrors in [false, true] {
            XCTAssertThrowsError(try SortedInput(source: InputSource(bytes: source), maxSkew: nil, allErrors: allErrors, runBytes: 1)) { error in
                guard let errors = error as? InputErrors else { return XCTFail("\(error)") }
                XCTAssertEqual(errors.errors.map(\.line), allErrors ? [2, SortedInputTests.unusual.count + 2] : [2])
                XCTAssertEqual(errors.errors.first?.key, "user")
            }
        }
    }

    func testAnEmptyInputHasNoEvents() throws {
        for text in ["", "\n", "  \n\n \n"] {
            let sorted = try SortedInput(source: InputSource(bytes: Array(text.utf8)), maxSkew: Policy.default.maxSkew, runBytes: 1)
            XCTAssertEqual(try sorted.totalEvents(), 0)
            XCTAssertEqual(try walk(sorted, from: nil, to: nil), [])
            XCTAssertFalse(sorted.spilled)
            XCTAssertEqual(try LedgerFold(policy: .default, findings: .all).run(sorted).findings, [])
        }
    }

    /// A pipe is read once and not copied: with a `TMPDIR` that cannot take a file, a pipe's
    /// events that fit in one run are folded all the same; more than a run fail, naming it.
    func testAPipeIsNotCopiedAndASpillNamesTMPDIR() throws {
        var generator = TestLogGenerator(seed: 9)
        let events = generator.events()
        let ndjson: [UInt8] = events.flatMap { CanonicalWriter.bytes(of: $0) + [0x0A] }
        XCTAssertLessThan(ndjson.count, 60_000, "fits in a pipe's buffer")
        let missing = try temporaryDirectory(self) + "/not-there"
        for runBytes in [SortedInput.runBytes, 1] {
            let pipe = Pipe()
            pipe.fileHandleForWriting.write(Data(ndjson))
            try pipe.fileHandleForWriting.close()
            let source = InputSource(fileDescriptor: pipe.fileHandleForReading.fileDescriptor, name: nil, closesIt: false)
            try withTemporaryDirectory(missing) {
                if runBytes == 1 {
                    XCTAssertThrowsError(try SortedInput(source: source, maxSkew: nil, runBytes: runBytes)) { error in
                        XCTAssertTrue("\(error)".hasPrefix("cannot create a temporary file in \(missing) for the events of the input"), "\(error)")
                    }
                } else {
                    let sorted = try SortedInput(source: source, maxSkew: nil, runBytes: runBytes)
                    XCTAssertEqual(try walk(sorted, from: nil, to: nil), try walk(InputLog(events: events), from: nil, to: nil))
                }
            }
            XCTAssertThrowsError(try source.rewind(), "read once: not again")
        }
    }

    /// The events in the order a fold sees them.
    private func walk(_ source: some FoldSource, from: Instant?, to: Instant?) throws -> [StoredEvent] {
        var seen: [StoredEvent] = []
        try source.forEachEventInTimeOrder(from: from, to: to, foldOnly: false) { seen.append($0); return true }
        return seen
    }
}
