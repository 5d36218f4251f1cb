/// The verifier over a whole log held in memory, for tests and library users: the same
/// `LedgerFold` that `sledger replay` runs, over an `InputLog`.
public struct Replay: Sendable {
    /// The final state of every session, from the whole log.
    public var derivation: Derivation
    /// The reported findings, in the order their events apply.
    public var findings: [Finding]
    /// How many events were applied (all of them, whatever the filter).
    public var events: Int

    /// Replays `events`, which must be in `seq` order (strictly ascending `seq`).
    ///
    /// - Parameters:
    ///   - checkFuture: compare each event's `at` with its `recorded` (`future-event`); false
    ///     for input that has no `recorded`.
    ///   - filter: which findings to keep; every event is applied regardless.
    public init(_ events: [StoredEvent], policy: Policy, checkFuture: Bool, filter: FindingFilter = .all) {
        var previous: UInt64?
        for e in events {
            precondition(previous.map { $0 < e.seq } ?? true, "Replay: events must be in ascending seq order")
            previous = e.seq
        }
        // An in-memory source cannot fail, so neither can the fold.
        let result = try! LedgerFold(policy: policy, findings: filter).run(InputLog(stored: events, hasRecorded: checkFuture))
        self.derivation = result.derivation
        self.findings = result.findings
        self.events = result.events
    }

    /// Replays events read from an NDJSON file (`--input`): `seq` is the position in the file
    /// (1, 2, 3, ...) and nothing is checked against `recorded`, which such a file lacks.
    public init(input events: [Event], policy: Policy, filter: FindingFilter = .all) {
        let stored = events.enumerated().map {
            StoredEvent(seq: UInt64($0.offset + 1), recorded: $0.element.at, event: $0.element)
        }
        self.init(stored, policy: policy, checkFuture: false, filter: filter)
    }

    /// The number of reported findings of each rule, for the summary.
    public var summary: [Finding.Rule: Int] {
        findings.reduce(into: [:]) { $0[$1.rule, default: 0] += 1 }
    }

    /// Whether any reported finding is an error (`replay` then exits 1).
    public var hasErrors: Bool {
        findings.contains { $0.severity == .error }
    }
}
