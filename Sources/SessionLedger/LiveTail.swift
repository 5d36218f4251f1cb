#if canImport(Glibc)
import Glibc
#endif

/// `who` past the last checkpoint, and `sessions` past the last event, for a process that
/// answers many queries (`sledger serve`): the state folded from the latest usable checkpoint
/// through the head, kept in memory and brought up to date as the log grows, with the stretch
/// (`CheckpointStretch`) it gives.
///
/// Past the last checkpoint no stored stretch holds the instant, so a `who` folds the tail of
/// the log (about a second at 100M events). The tail's stretch answers every instant and range
/// from its checkpoint on, the future included (and, with the stored stretches before it, a
/// range begun earlier): its fold has applied every event, so each
/// session's active interval `[loginAt, activeUntil)` is known as of any later instant (an
/// open one ends at `activeUntil`, its expiry, unless an event comes first; SessionState).
/// The answer is the fold's (docs/ARCHITECTURE.md, "Queries").
///
/// Kept for one head at a time (the ledger is append-only, so a head names its log). A later
/// head brings the tail up to date: its new events are applied when none is older than what
/// the tail already holds; otherwise (a late event), or when a newer checkpoint has been
/// written, or the increment is large, the tail is folded again from the latest checkpoint
/// (after a late event that removed recent checkpoints, from an older one, whose sessions
/// since it the tail then holds until the next fold). A query on an older snapshot than the
/// tail's is not answered here (the caller folds).
public final class LiveTail: @unchecked Sendable {
    public let policy: Policy
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var tail: Tail?
    /// How many times the tail was folded from a checkpoint, and brought up to date (for tests).
    private(set) var builds = 0, extensions = 0
    /// More new events than this are folded again from the latest checkpoint instead (a
    /// variable for tests).
    var extendAtMost: UInt64 = 1 << 16
    /// The head and newest checkpoint of the last snapshot where no checkpoint was usable
    /// (another policy's, say): not looked for again, each a full decode, until they change.
    private var noCheckpoint: (head: UInt64, newest: Instant?)?

    private struct Tail {
        /// The checkpoint the fold began at: its instant and which sessions it had logged in.
        let from: Instant
        let loggedIn: [UInt8]
        /// The newest checkpoint stored when the tail was folded (usable or not).
        let newestCheckpoint: Instant?
        var derivation: Derivation
        var headSeq: UInt64
        /// The largest `at` applied.
        var latest: Instant
        /// The stretch `[from, ...)` of `derivation`, made when first asked for.
        var stretch: CheckpointStretch?
    }

    public init(policy: Policy) {
        self.policy = policy
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// The users with at least one session (of `client`, if given) active at `t`, with how many,
    /// sorted by user; nil when the tail cannot tell (no usable checkpoint at or before `t`, or
    /// `snapshot` older than the tail).
    public func who(_ snapshot: LedgerSnapshot, at t: Instant, client: String?) throws -> [SessionQuery.UserCount]? {
        try who(snapshot, first: t.nanoseconds, last: t.nanoseconds, client: client)
    }

    /// The same for the sessions active at some instant of `[from, to)`, as of the range's last
    /// instant.
    public func who(_ snapshot: LedgerSnapshot, from: Instant, to: Instant, client: String?) throws -> [SessionQuery.UserCount]? {
        guard from < to else { return [] }
        return try who(snapshot, first: from.nanoseconds, last: to.nanoseconds - 1, client: client)
    }

    /// A range begun before the tail's checkpoint C and ending after it is counted from the
    /// stored stretches up to C's for the sessions active by C (`whoFromStretches`) and from
    /// the tail's for those logged in after C.
    private func who(_ snapshot: LedgerSnapshot, first: Int64, last: Int64, client: String?) throws -> [SessionQuery.UserCount]? {
        guard let stretch = try stretch(snapshot) else { return nil }
        let c = stretch.from
        if c.nanoseconds <= first { return stretch.who(first: first, last: last, client: client) }
        guard c.nanoseconds <= last,
              let byCheckpoint = try snapshot.whoFromStretches(policy: policy, from: Instant(nanoseconds: first), throughCheckpointAt: c, client: client)
        else { return nil }
        return SessionQuery.merged(byCheckpoint, stretch.who(first: first, last: last, client: client, loggedInAfter: c.nanoseconds))
    }

    /// Every session the tail holds (in login order), whose state is the state as of any instant
    /// at or after the last event: for `sessions` at or after it ("sessions now"). Nil unless
    /// `horizon` takes in every event and `readsFrom` (the first instant whose status is read)
    /// is not before the tail's checkpoint, which dropped the sessions inactive by then.
    public func sessions(_ snapshot: LedgerSnapshot, horizon: LedgerFold.Horizon, readsFrom: Instant) throws -> [SessionState]? {
        /// Whether the horizon takes in every event up to `latest`.
        func coversAll(_ latest: Instant) -> Bool {
            switch horizon {
            case .all: true
            case .through(let t): t >= latest
            case .before(let t): t > latest
            }
        }
        // Checked first against the log (O(1)), so an earlier `sessions` does not bring the tail up to date.
        guard coversAll(try snapshot.latestInstant() ?? .earliest),
              let tail = try current(snapshot), tail.from <= readsFrom, coversAll(tail.latest) else { return nil }
        return tail.derivation.sessions
    }

    /// The tail's stretch as of `snapshot`'s head, folded or brought up to date first if needed.
    private func stretch(_ snapshot: LedgerSnapshot) throws -> CheckpointStretch? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard try bringUpToDate(snapshot) else { return nil }
        if tail!.stretch == nil {
            // `at: .latest` keeps each session's `activeUntil` as its end, open ones included.
            tail!.stretch = CheckpointStretch(tail!.derivation, from: tail!.from, at: .latest)
        }
        return tail!.stretch
    }

    /// The tail as of `snapshot`'s head (a copy: its tables are shared until the next change).
    private func current(_ snapshot: LedgerSnapshot) throws -> Tail? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try bringUpToDate(snapshot) ? tail : nil
    }

    /// Makes `tail` the tail as of `snapshot`'s head, folding or bringing it up to date if
    /// needed; false when it cannot (no usable checkpoint, or `snapshot` older than the tail:
    /// a lower head, or the same head without a checkpoint the tail's snapshot had).
    /// Called holding `mutex`; a fold holds it throughout (about a second at 100M events),
    /// and other `who`s past the last checkpoint wait for it rather than fold too.
    private func bringUpToDate(_ snapshot: LedgerSnapshot) throws -> Bool {
        let head = try snapshot.eventCount()
        let newest = try snapshot.newestCheckpointInstant()
        // Taken out, so that bringing it up to date does not copy the derivation's tables.
        if var current = tail.take() {
            let older = current.headSeq > head
                || (current.headSeq == head && (newest ?? .earliest) < (current.newestCheckpoint ?? .earliest))
            if older {
                tail = current
                return false
            }
            if current.newestCheckpoint == newest, current.headSeq == head {
                tail = current
            } else if current.newestCheckpoint == newest, head - current.headSeq <= extendAtMost,
                      try Self.extend(&current, snapshot, head: head) {
                extensions += 1
                tail = current
            }
        }
        if tail == nil {
            if let none = noCheckpoint, none.head == head, none.newest == newest { return false }
            tail = try Self.fold(snapshot, policy: policy, head: head, newest: newest)
            guard tail != nil else {
                noCheckpoint = (head, newest)
                return false
            }
            builds += 1
        }
        return true
    }

    /// The tail folded from the latest usable checkpoint through `head`; nil when there is none
    /// (a fold of the whole log would keep every session ever in memory).
    private static func fold(_ snapshot: LedgerSnapshot, policy: Policy, head: UInt64, newest: Instant?) throws -> Tail? {
        guard let checkpoint = try snapshot.checkpointToResume(atOrBefore: .latest, policy: policy) else { return nil }
        let derivation = try snapshot.stateFold(policy: policy, horizon: .all, from: checkpoint)
        let latest = max(try snapshot.latestInstant() ?? checkpoint.at, checkpoint.at)
        return Tail(from: checkpoint.at, loggedIn: checkpoint.loggedIn, newestCheckpoint: newest,
                    derivation: derivation, headSeq: head, latest: latest)
    }

    /// Applies the events after `tail.headSeq` through `head`, in (`at`, `seq`) order, as a fold
    /// from the checkpoint would (`ResumedLog`: a login of a session the checkpoint had logged
    /// in is a duplicate). False, with `tail` unchanged, when one is older than the tail's
    /// latest instant: it belongs before events already applied. Each record is checked as a
    /// fold checks it (its checksum), not the hash chain, so the server answers where the CLI does.
    private static func extend(_ tail: inout Tail, _ snapshot: LedgerSnapshot, head: UInt64) throws -> Bool {
        var added: [StoredEvent] = []
        for seq in (tail.headSeq + 1)..<(head + 1) {
            guard let stored = try snapshot.event(seq: seq) else {
                throw LedgerError.damaged(seq: seq, problem: "the log ends at seq \(seq - 1) but the head says \(head)")
            }
            added.append(stored)
        }
        guard added.allSatisfy({ $0.event.at >= tail.latest }) else { return false }
        added.sort { ($0.event.at, $0.seq) < ($1.event.at, $1.seq) }
        var scratch: [Finding] = []
        for stored in added {
            if stored.event.kind == .login, Checkpoint.isSet(stored.sessionNumber, in: tail.loggedIn) { continue }
            tail.derivation.apply(stored, late: false, checkFuture: false, into: &scratch)
            scratch.removeAll(keepingCapacity: true)
        }
        tail.latest = added.last.map { max(tail.latest, $0.event.at) } ?? tail.latest
        tail.headSeq = head
        tail.stretch = nil
        return true
    }
}
