/// Where a fold reads events from: a ledger snapshot, a user's slice of one, an NDJSON file
/// (`SortedInput`), or events held in memory (`InputLog`).
public protocol FoldSource {
    /// The `seq` of every late event (SPEC.md section 5).
    func lateSeqs(maxSkew: Duration?) throws -> Set<UInt64>
    /// Visits events in (`at`, `seq`) order with `at < to` while `body` returns true; with
    /// `foldOnly`, events may lack `id`, `ip`, `agent` and `meta`, which no rule reads.
    func forEachEventInTimeOrder(from: Instant?, to: Instant?, foldOnly: Bool, _ body: (StoredEvent) throws -> Bool) throws
    /// The same walk, where a source that reads ledger records first hands each refresh that
    /// carries no name to `shortcut` as its `seq` and header, the record checked whole
    /// (`Record.check`); when `shortcut` returns true it has applied the event, which is then
    /// neither decoded nor given to `body` (`Derivation.applyRefresh`); such a source reading
    /// the log in order may also hand each record's header to `ahead` some records before
    /// (`LedgerSnapshot.foldLookahead`, `Derivation.prefetch`). Other sources give every event
    /// to `body` (the default).
    func forEachEventInTimeOrder(from: Instant?, to: Instant?, foldOnly: Bool,
                                 shortcut: (UInt64, Record.Header) throws -> Bool,
                                 ahead: (Record.Header, Derivation.PrefetchStep) -> Void,
                                 _ body: (StoredEvent) throws -> Bool) throws
    /// Whether events carry a real `recorded` instant to check `future-event` against.
    var hasRecorded: Bool { get }
    /// How many events there are in all.
    func totalEvents() throws -> Int
    /// Throws when the source cannot be trusted to give every event exactly once.
    func verify() throws
}

extension FoldSource {
    public func forEachEventInTimeOrder(from: Instant?, to: Instant?, foldOnly: Bool,
                                        shortcut: (UInt64, Record.Header) throws -> Bool,
                                        ahead: (Record.Header, Derivation.PrefetchStep) -> Void,
                                        _ body: (StoredEvent) throws -> Bool) throws {
        try forEachEventInTimeOrder(from: from, to: to, foldOnly: foldOnly, body)
    }
}

/// Folds a log through the one `Derivation` in (`at`, `seq`) order: what every
/// state-deriving command runs (`replay`, `sessions`, `who`, `session`, `user`, `diff-policy`).
///
/// Memory grows with the number of sessions (the fold's state) and the number of late
/// events (a set of their `seq`s), never with the number of events.
public struct LedgerFold {
    /// How far along the time line to fold.
    public enum Horizon: Sendable {
        /// Every event.
        case all
        /// Events with `at <= T`: the state "as of T" (SPEC.md section 5).
        case through(Instant)
        /// Events with `at < T`: the state for a range ending at T (SPEC.md section 6).
        case before(Instant)

        var end: Instant? {
            switch self {
            case .all: nil
            case .through(let t): t.nanoseconds == Int64.max ? nil : Instant(nanoseconds: t.nanoseconds + 1)
            case .before(let t): t
            }
        }
    }

    public let policy: Policy
    public var horizon: Horizon
    /// When set, findings are computed (with `late-event` and `future-event`) and those the
    /// filter lets through are kept. When nil only state is derived, which skips the extra
    /// pass over the log that lateness needs.
    public var findings: FindingFilter?
    /// When set (and not tracing), the derivation retires its inactive sessions every so many
    /// applied events (`Derivation.retireInactive()`), so memory follows the sessions active
    /// at once rather than all there ever were; the result's derivation then holds only those,
    /// and finds the numbered ones by number only (`Derivation.stopIndexingNumberedSessionsByID`:
    /// asked for one by id, it walks every slot). For `replay`, which reports findings and counts.
    public var retireEvery: Int?
    /// `replay`'s spacing of retirement sweeps: each visits every session in memory, so every
    /// 65,536 events costs a few slot visits per event. (Every 262,144 was no faster beyond
    /// this machine's noise at 100M events, and holds more ended sessions between sweeps.)
    public static let replayRetireEvery = 1 << 16
    /// The spacing for a fold over a range that hands each session over as it settles
    /// (`LedgerSnapshot.forEachSettledState`). At `replay`'s 65,536, a week's `sessions` at
    /// 100M events took a fifth more CPU than holding every state did, at 2^20 about 4% more;
    /// the sessions that end between two sweeps (about 60,000 at 100M) add a few dozen MiB.
    static let rangeRetireEvery = 1 << 20

    public init(policy: Policy, horizon: Horizon = .all, findings: FindingFilter? = nil) {
        self.policy = policy
        self.horizon = horizon
        self.findings = findings
    }

    public struct Result: Sendable {
        public var derivation: Derivation
        /// The findings the filter let through, in the order their events applied; empty
        /// when they were handed to `onFinding` instead.
        public var findings: [Finding]
        /// How many events were applied.
        public var events: Int
    }

    /// One applied event for `replay --trace`: what it raised and how it changed each session.
    public struct Step: Sendable {
        public struct Change: Sendable {
            public var before: SessionState?
            public var after: SessionState
        }
        public var event: StoredEvent
        /// Every finding the event raised (not only the filtered ones).
        public var findings: [Finding]
        public var changes: [Change]
        /// The state, after the event, of the session the event names (if it exists).
        public var named: SessionState?
    }

    /// Runs the fold. `trace`, when given, is called for each event `traceWhen` selects (by
    /// default: the events the findings filter selects), with the state of each session the
    /// event changed, before and after.
    ///
    /// With `onFinding`, each finding the filter lets through is handed over as it is found
    /// and none is kept, so memory stays bounded by the sessions however many findings a log
    /// has; without it they are collected in `Result.findings`.
    ///
    /// With `settled` (and `retireEvery`), each retirement sweep hands it every session it
    /// retires for the first time, in its final state (`Derivation.retireInactive(settled:)`).
    ///
    /// `resuming` starts from a derivation resumed from a checkpoint instead of an empty one
    /// (state only: `findings` must be nil); the source then holds the events after it.
    public func run(_ source: some FoldSource, resuming: consuming Derivation? = nil, traceWhen: ((Event) -> Bool)? = nil,
                    progress: ((Int) -> Void)? = nil, onFinding: ((Finding) throws -> Void)? = nil,
                    settled: (borrowing SessionState) throws -> Void = { _ in },
                    trace: ((Step) throws -> Void)? = nil) throws -> Result {
        precondition(resuming == nil || findings == nil, "a fold resumed from a checkpoint derives state only")
        try source.verify()
        let late = LateLookup(findings == nil ? [] : try source.lateSeqs(maxSkew: policy.maxSkew))
        let checkFuture = findings != nil && source.hasRecorded
        // Taken, not copied: a second reference would make the first change copy every table
        // of a derivation resumed from a checkpoint (a twentieth of a `who` at 100,000 users).
        var derivation = resuming.take() ?? Derivation(policy: policy)
        // `replay`: nothing asks for a session by id after such a fold or during it.
        if retireEvery != nil, trace == nil { derivation.stopIndexingNumberedSessionsByID() }
        // State alone: the findings would be thrown away, so none is made (and a resumed
        // derivation that made none makes them again when they are asked for).
        derivation.makesFindings = findings != nil || trace != nil
        var kept: [Finding] = []
        var scratch: [Finding] = []
        var events = 0
        let selectedFilter = findings ?? .all
        let selected = traceWhen ?? { selectedFilter.includes(event: $0) }
        /// Counts an applied event, and reports progress and retires inactive sessions on time.
        func applied() throws {
            events += 1
            if events & 0xFFFFF == 0 { progress?(events) }
            if let retireEvery, trace == nil, events % retireEvery == 0 { try derivation.retireInactive(settled: settled) }
        }
        try source.forEachEventInTimeOrder(from: nil, to: horizon.end, foldOnly: trace == nil, shortcut: { seq, header in
            guard trace == nil, !late.contains(seq), derivation.applyRefresh(seq: seq, header, checkFuture: checkFuture) else { return false }
            try applied()
            return true
        }, ahead: { header, step in
            derivation.prefetch(header.sessionNumber, step)
        }) { stored in
            scratch.removeAll(keepingCapacity: true)
            var before: [ByteIdentity: SessionState] = [:]
            let tracing = trace != nil && selected(stored.event)
            if tracing { before = Self.statesItMayChange(stored.event, derivation) }
            derivation.apply(stored, late: late.contains(stored.seq), checkFuture: checkFuture, into: &scratch)
            if let filter = findings {
                for finding in scratch where filter.includes(finding) {
                    if let onFinding { try onFinding(finding) } else { kept.append(finding) }
                }
            }
            if tracing, let trace {
                let changes = derivation.changedSessions.compactMap { id in
                    derivation.session(id).map { Step.Change(before: before[ByteIdentity(id)], after: $0) }
                }
                let named = stored.event.session.flatMap { derivation.session($0) }
                try trace(Step(event: stored, findings: scratch, changes: changes, named: named))
            }
            try applied()
            return true
        }
        return Result(derivation: derivation, findings: kept, events: events)
    }

    private static func statesItMayChange(_ event: Event, _ derivation: Derivation) -> [ByteIdentity: SessionState] {
        var states: [ByteIdentity: SessionState] = [:]
        if let id = event.session, let state = derivation.session(id) { states[ByteIdentity(id)] = state }
        if event.kind == .logoutAll {
            for state in derivation.sessions(ofUser: event.user) { states[ByteIdentity(state.session)] = state }
        }
        return states
    }
}

extension FindingFilter {
    /// Whether the filter selects an event (for tracing): the same tests as for its findings.
    public func includes(event: Event) -> Bool {
        if let user, !event.user.isSameID(as: user) { return false }
        if let session, !(event.session?.isSameID(as: session) ?? false) { return false }
        if let from, event.at < from { return false }
        if let to, event.at >= to { return false }
        return true
    }
}

extension LedgerSnapshot: FoldSource {
    public var hasRecorded: Bool { true }

    public func totalEvents() throws -> Int { Int(try eventCount()) }

    public func verify() throws { try verifyLogCount() }

    /// The `seq` of every late event (SPEC.md section 5), read from the `lags` index: one
    /// entry per event logged after a later one (`sledger check` verifies it against the log).
    public func lateSeqs(maxSkew: Duration?) throws -> Set<UInt64> {
        guard let maxSkew else { return [] }
        try verifyLagsCount()
        var late = Set<UInt64>()
        try txn.withCursor(db.lags) { cursor in
            try cursor.forEach(from: cursor.first()) { stored in
                let (seq, entry) = try LagEntry.read(stored)
                if LatenessTracker.isLate(lag: entry.lag, maxSkew: maxSkew) { late.insert(seq) }
                return true
            }
        }
        return late
    }

    /// The late events among `seqs` (for a slice of the log: one lookup each).
    func lateSeqs<S: Sequence>(among seqs: S, maxSkew: Duration?) throws -> Set<UInt64> where S.Element == UInt64 {
        guard let maxSkew else { return [] }
        try verifyLagsCount()
        var late = Set<UInt64>()
        for seq in seqs {
            if let entry = try lagEntry(seq: seq), LatenessTracker.isLate(lag: entry.lag, maxSkew: maxSkew) {
                late.insert(seq)
            }
        }
        return late
    }
}

/// Events held in memory (a library caller's, `Replay`'s, tests'): with `events:`, `seq` is
/// the event's position (1, 2, 3 ...) and there is no `recorded` to check `future-event`.
/// `replay --input FILE` reads its file with `SortedInput`, which does not hold the events.
public struct InputLog: FoldSource {
    private let events: [StoredEvent]
    private let order: [Int]
    public let hasRecorded: Bool

    public init(events: [Event]) {
        self.init(stored: events.enumerated().map {
            StoredEvent(seq: UInt64($0.offset + 1), recorded: $0.element.at, event: $0.element)
        }, hasRecorded: false)
    }

    /// Stored events held in memory, in `seq` order; `hasRecorded` says whether their
    /// `recorded` instants are real (then `future-event` is checked).
    public init(stored: [StoredEvent], hasRecorded: Bool) {
        self.events = stored
        self.hasRecorded = hasRecorded
        self.order = stored.indices.sorted { (stored[$0].event.at, stored[$0].seq) < (stored[$1].event.at, stored[$1].seq) }
    }

    public func totalEvents() throws -> Int { events.count }

    public func verify() throws {}

    public func lateSeqs(maxSkew: Duration?) throws -> Set<UInt64> {
        LatenessTracker.lateSeqs(events.lazy.map { ($0.seq, $0.event.at) }, maxSkew: maxSkew)
    }

    public func forEachEventInTimeOrder(from: Instant?, to: Instant?, foldOnly: Bool,
                                        _ body: (StoredEvent) throws -> Bool) throws {
        for i in order {
            let stored = events[i]
            if let from, stored.event.at < from { continue }
            if let to, stored.event.at >= to { return }
            guard try body(stored) else { return }
        }
    }
}
