/// Instant arithmetic that cannot trap, for the derivation's comparisons.
extension Instant {
    /// The earliest and latest instants an `Int64` of nanoseconds holds.
    public static let earliest = Instant(nanoseconds: .min)
    public static let latest = Instant(nanoseconds: .max)

    /// The instant `duration` later, clamped to `Instant.earliest...Instant.latest`.
    ///
    /// Comparisons such as "`a - b` is more than `d`" are written as `a > b.saturatingAdding(d)`:
    /// the difference of two instants 1678 and 2261 apart overflows an `Int64`, the clamped
    /// sum never misorders.
    public func saturatingAdding(_ duration: Duration) -> Instant {
        adding(duration) ?? (duration.nanoseconds > 0 ? .latest : .earliest)
    }
}
