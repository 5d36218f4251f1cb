/// Decides `late-event` (SPEC.md section 5) for a caller that walks the log in `seq` order.
///
/// An event is late when its `at` is earlier than the largest `at` of all events with a
/// smaller `seq` by more than `max_skew`: exactly `max_skew` earlier is not late. With no
/// `max_skew` (null) nothing is late. Feed every event of the log, once, in `seq` order.
public struct LatenessTracker: Hashable, Sendable {
    public let maxSkew: Duration?
    /// The largest `at` seen so far; nil before the first event.
    public private(set) var latest: Instant?

    public init(maxSkew: Duration?) {
        self.maxSkew = maxSkew
    }

    /// Whether an event at `at`, next in `seq` order, is late; then counts it.
    public mutating func isLate(_ at: Instant) -> Bool {
        defer { if latest.map({ at > $0 }) ?? true { latest = at } }
        guard let latest, let maxSkew else { return false }
        // latest - at > maxSkew, without the subtraction that can overflow.
        return at.saturatingAdding(maxSkew) < latest
    }

    /// The `seq` of every late event of a log read in `seq` order: one pass, memory in
    /// proportion to the late events only. A store can run it over its log before folding
    /// its (`at`, `seq`) index, passing `late: lateSeqs.contains(seq)`.
    public static func lateSeqs<S: Sequence>(_ log: S, maxSkew: Duration?) -> Set<UInt64>
    where S.Element == (seq: UInt64, at: Instant) {
        var tracker = LatenessTracker(maxSkew: maxSkew)
        var late = Set<UInt64>()
        for (seq, at) in log where tracker.isLate(at) { late.insert(seq) }
        return late
    }
}
