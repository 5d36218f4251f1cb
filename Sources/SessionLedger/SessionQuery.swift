/// The session queries of `sledger sessions` and `sledger who` (SPEC.md section 6), over
/// events in (`at`, `seq`) order. Pure: the caller supplies the events (from the store's log
/// read in time order, or a file) and stops nothing; these read only as far as they need.
public enum SessionQuery {
    /// A `who` record: a user and how many of their sessions matched.
    public struct UserCount: Hashable, Sendable {
        public var user: String
        public var sessions: Int

        public init(user: String, sessions: Int) {
            self.user = user
            self.sessions = sessions
        }
    }

    /// The state as of `t`: every event with `at <= t` applied (reading stops at the first
    /// later one). Findings are not computed.
    public static func state<S: Sequence>(asOf t: Instant, events: S, policy: Policy) -> Derivation
    where S.Element == StoredEvent {
        var derivation = Derivation(policy: policy)
        derivation.makesFindings = false
        var ignored: [Finding] = []
        for e in events {
            guard e.event.at <= t else { break }
            derivation.apply(e, late: false, checkFuture: false, into: &ignored)
            ignored.removeAll(keepingCapacity: true)
        }
        return derivation
    }

    /// The state for a range ending at `to`: every event with `at < to` applied.
    public static func state<S: Sequence>(before to: Instant, events: S, policy: Policy) -> Derivation
    where S.Element == StoredEvent {
        var derivation = Derivation(policy: policy)
        derivation.makesFindings = false
        var ignored: [Finding] = []
        for e in events {
            guard e.event.at < to else { break }
            derivation.apply(e, late: false, checkFuture: false, into: &ignored)
            ignored.removeAll(keepingCapacity: true)
        }
        return derivation
    }

    /// The sessions active at `t`, in login order, as of `t`.
    public static func active<S: Sequence>(at t: Instant, events: S, policy: Policy) -> [SessionState]
    where S.Element == StoredEvent {
        state(asOf: t, events: events, policy: policy).sessions.filter { $0.isActive(at: t) }
    }

    /// The sessions active at any instant of `[from, to)`, in login order, as of the range's
    /// end (the events with `at < to`). Empty when `from >= to`.
    public static func active<S: Sequence>(from: Instant, to: Instant, events: S, policy: Policy) -> [SessionState]
    where S.Element == StoredEvent {
        guard from < to else { return [] }
        return state(before: to, events: events, policy: policy).sessions.filter { $0.wasActive(from: from, to: to) }
    }

    /// `who`: the users of `sessions` with how many each has, sorted by user.
    public static func who(_ sessions: [SessionState]) -> [UserCount] {
        var counts: [ByteIdentity: Int] = [:]
        for s in sessions { counts[ByteIdentity(s.user), default: 0] += 1 }
        return who(counts: counts)
    }

    /// Each user's count, sorted by the users' bytes.
    static func who(counts: [ByteIdentity: Int]) -> [UserCount] {
        sortedByUTF8(counts.map { UserCount(user: $0.key.text, sessions: $0.value) }, \.user)
    }

    /// Two `who` answers over different sessions, as one: both sorted by the users' bytes,
    /// each user once; the counts of a user in both are added.
    static func merged(_ a: [UserCount], _ b: [UserCount]) -> [UserCount] {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        var out: [UserCount] = []
        out.reserveCapacity(a.count + b.count)
        var (i, k) = (0, 0)
        while i < a.count, k < b.count {
            var (x, y) = (a[i].user, b[k].user)
            let order = x.withUTF8 { x in y.withUTF8 { y in compareBytes(UnsafeRawBufferPointer(x), UnsafeRawBufferPointer(y)) } }
            if order < 0 {
                out.append(a[i])
                i += 1
            } else if order > 0 {
                out.append(b[k])
                k += 1
            } else {
                out.append(UserCount(user: a[i].user, sessions: a[i].sessions + b[k].sessions))
                i += 1
                k += 1
            }
        }
        out += a[i...]
        out += b[k...]
        return out
    }
}
