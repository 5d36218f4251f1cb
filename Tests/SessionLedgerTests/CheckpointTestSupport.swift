import XCTest
@testable import SessionLedger

// What the checkpoint tests share (CheckpointTests, RollingTailTests).

/// The sessions active at `t` (or in `[from, to)`) from a fold of the whole log, ignoring checkpoints.
func wholeLog(_ snapshot: LedgerSnapshot, _ policy: Policy, at t: Instant) throws -> [SessionState] {
    try LedgerFold(policy: policy, horizon: .through(t)).run(snapshot).derivation.sessions.filter { $0.isActive(at: t) }
}

func wholeLog(_ snapshot: LedgerSnapshot, _ policy: Policy, from: Instant, to: Instant) throws -> [SessionState] {
    try LedgerFold(policy: policy, horizon: .before(to)).run(snapshot).derivation.sessions.filter { $0.wasActive(from: from, to: to) }
}

/// Where answers change: every instant of `events`, each also a nanosecond later, and one
/// 29 days past the last (after every expiry of a 28-day session), in order.
func probeInstants(_ events: [Event]) -> [Instant] {
    let instants = Set(events.map(\.at)).sorted()
    var probes = instants + instants.map { Instant(nanoseconds: $0.nanoseconds + 1) }
    probes.append(instants.last!.saturatingAdding(.seconds(86_400 * 29)))
    return probes.sorted()
}

/// The same from the checkpoints, as `sessions` reads them (`LedgerSnapshot.states`).
func withCheckpoints(_ snapshot: LedgerSnapshot, _ policy: Policy, at t: Instant) throws -> [SessionState] {
    try snapshot.states(policy: policy, horizon: .through(t), readsFrom: t).filter { $0.isActive(at: t) }
}

func withCheckpoints(_ snapshot: LedgerSnapshot, _ policy: Policy, from: Instant, to: Instant) throws -> [SessionState] {
    try snapshot.states(policy: policy, horizon: .before(to), readsFrom: from).filter { $0.wasActive(from: from, to: to) }
}

/// Generated lines (1 to 120 s apart, in time order) with their instants, for the tail tests.
struct TimedLines {
    static let hour: Int64 = 3_600_000_000_000
    let lines: [ArraySlice<UInt8>]
    let ats: [Instant]

    init(count: Int) {
        lines = generatedLines(count: count).split(separator: 0x0A)
        ats = lines.map { line in
            let text = String(decoding: line, as: UTF8.self)
            let value = text.components(separatedBy: #""at":""#)[1].prefix { $0 != "\"" }
            return Instant(rfc3339: Array(value.utf8))!
        }
    }

    /// The lines of `range`, each with its newline.
    func text(_ range: Range<Int>) -> [UInt8] { lines[range].flatMap { Array($0) + [UInt8(0x0A)] } }
    /// An hour before the `i`-th line's instant: the tail's instant when it is the newest.
    func hourBefore(_ i: Int) -> Instant { Instant(nanoseconds: ats[i].nanoseconds - TimedLines.hour) }
    /// How many of the first `count` lines lie at or before `t`.
    func eventsThrough(_ t: Instant, of count: Int) -> UInt64 { UInt64(ats[..<count].filter { $0 <= t }.count) }
    /// How many events lie between a checkpoint at the 400th event and the tail's instant
    /// of a call of the first `n` lines.
    func eventsAfterThe400th(_ n: Int) -> Int { Int(eventsThrough(hourBefore(n - 1), of: n)) - 400 }
    /// Spaced every 400 events, a sixty-fourth is 6 events and a quarter 100: the first call
    /// size leaving 1-5 events between the 400th and its tail's instant (no tail), and the
    /// first leaving 6-99 (a tail only after a spaced checkpoint the same call wrote).
    func callsAroundASixtyFourthOf400() throws -> (few: Int, enough: Int) {
        (try XCTUnwrap((401...600).first { (1..<6).contains(eventsAfterThe400th($0)) }),
         try XCTUnwrap((401...600).first { (6..<100).contains(eventsAfterThe400th($0)) }))
    }
}

/// Each stored checkpoint's instant and how many events it folds, in time order.
func checkpointInstantsAndCounts(_ ledger: Ledger) throws -> [(at: Instant, events: UInt64)] {
    var out: [(at: Instant, events: UInt64)] = []
    try ledger.read { snapshot in
        try snapshot.forEachStoredCheckpoint(policy: .default) { at, stored in out.append((at, try XCTUnwrap(stored).events)) }
    }
    return out
}
