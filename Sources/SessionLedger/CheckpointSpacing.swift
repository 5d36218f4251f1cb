/// How many events of the time line lie between two checkpoints.
///
/// A checkpoint holds every session active at its instant, so its size follows the active
/// population (about 1 MiB for 13,000 sessions), while a query folds on average half a
/// spacing past it. `adaptive` spaces checkpoints by their own size: the next one comes one
/// event later per `bytesPerEvent` bytes of the last one, so checkpoints cost about
/// `bytesPerEvent` bytes per event of the log whatever the population, and a small
/// population gets them densely (decision 0007).
public struct CheckpointSpacing: Sendable, Equatable {
    /// Never fewer events than this between two checkpoints (the first comes after this many).
    public var minimum: Int
    /// Never more.
    public var maximum: Int
    /// Bytes of checkpoint allowed per event of the log; nil: always `minimum` events apart.
    public var bytesPerEvent: Int?

    /// `minimum` at least 1, `maximum` at least `minimum`, `bytesPerEvent` at least 1.
    public init(minimum: Int, maximum: Int, bytesPerEvent: Int?) {
        precondition(minimum >= 1 && maximum >= minimum && (bytesPerEvent ?? 1) >= 1, "CheckpointSpacing: bad bounds")
        (self.minimum, self.maximum, self.bytesPerEvent) = (minimum, maximum, bytesPerEvent)
    }

    /// What `append`, `import`, `checkpoint` and the server use.
    public static let adaptive = CheckpointSpacing(minimum: 1 << 14, maximum: 1 << 21, bytesPerEvent: 8)

    /// Exactly `events` apart.
    public static func every(_ events: Int) -> CheckpointSpacing {
        CheckpointSpacing(minimum: events, maximum: events, bytesPerEvent: nil)
    }

    /// The events between a checkpoint of `checkpointBytes` bytes (nil: none yet) and the next.
    public func after(checkpointBytes: Int?) -> Int {
        guard let bytesPerEvent, let checkpointBytes else { return minimum }
        return min(maximum, max(minimum, checkpointBytes / bytesPerEvent))
    }
}
