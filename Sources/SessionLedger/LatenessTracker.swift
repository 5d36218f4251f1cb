/// Decides `late-event` (SPEC.md section 5) for a caller that walks the log in `seq` order.
///
/// An event is late when its `at` is earlier than the largest `at` of all events with a
/// smaller `seq` by more than `max_skew`: exactly `max_skew` earlier is not late. With no
/// `max_skew` (null) nothing is late. Feed every event of the log, once, in `seq` order.
public struct LatenessTracker: Hashable, Sendable {
    public let maxSkew: Duration?
    /// The largest `at` seen so far; nil before the first event.
    public private(set) var latest: Instant?

    /// `latest`: the largest `at` of the events before the first one to be fed, if any.
    public init(maxSkew: Duration?, latest: Instant? = nil) {
        self.maxSkew = maxSkew
        self.latest = latest
    }

    /// Whether an event at `at`, next in `seq` order, is late; then counts it.
    public mutating func isLate(_ at: Instant) -> Bool {
        defer { if latest.map({ at > $0 }) ?? true { latest = at } }
        guard let latest, let maxSkew else { return false }
        // latest - at > maxSkew, without the subtraction that can overflow.
        return at.saturatingAdding(maxSkew) < latest
    }

    /// Whether an event logged `lag` nanoseconds before the largest earlier `at` is late.
    public static func isLate(lag: UInt64, maxSkew: Duration?) -> Bool {
        guard let maxSkew else { return false }
        return lag > UInt64(max(maxSkew.nanoseconds, 0))
    }

    /// How far before the largest earlier `at` an event at `at` lies (0 when it does not),
    /// next in `seq` order; then counts it. What the `lags` index stores.
    public mutating func lag(_ at: Instant) -> UInt64 {
        defer { if latest.map({ at > $0 }) ?? true { latest = at } }
        return latest.map { LatenessTracker.lag(of: at, below: $0) } ?? 0
    }

    /// How far `at` lies before `largest`, the largest earlier `at` (0 when it does not): the
    /// lag the writer stores, and the one a reader checks a `lags` entry against.
    public static func lag(of at: Instant, below largest: Instant) -> UInt64 {
        at < largest ? UInt64(bitPattern: largest.nanoseconds &- at.nanoseconds) : 0
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

/// The late `seq`s as a fold asks about them, once per event: a bitmap over the span of its
/// members when that takes no more memory than a hash set of them (a whole replay: one bit
/// per event, read in nearly `seq` order, instead of a hash and a miss per event), the set
/// otherwise (a narrow fold: a few late events among a hundred million `seq`s).
struct LateLookup {
    private let set: Set<UInt64>
    private let first: UInt64
    /// Bit `seq - first`; empty when `set` answers.
    private let bits: [UInt64]

    init(_ late: Set<UInt64>) {
        guard let low = late.min(), let high = late.max(), (high - low) / 8 <= UInt64(late.count) * 16 else {
            (set, first, bits) = (late, 0, [])
            return
        }
        var words = [UInt64](repeating: 0, count: Int((high - low) / 64) + 1)
        for seq in late { words[Int((seq - low) / 64)] |= 1 << ((seq - low) % 64) }
        (set, first, bits) = ([], low, words)
    }

    /// Whether the bitmap answers (for tests).
    var isBitmap: Bool { !bits.isEmpty }

    @inline(__always)
    func contains(_ seq: UInt64) -> Bool {
        if bits.isEmpty { return !set.isEmpty && set.contains(seq) }  // bits are never empty with a member
        guard seq >= first else { return false }
        let offset = seq - first
        let word = Int(truncatingIfNeeded: offset / 64)
        return word < bits.count && bits[word] & (1 << (offset % 64)) != 0
    }
}
