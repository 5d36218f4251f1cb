/// The text of a policy duration (SPEC.md section 4): a whole number and a unit.
extension Duration {
    /// Seconds in each unit a policy duration may be written in, largest first.
    static let policyUnits: [(unit: UInt8, seconds: Int64)] = [
        (UInt8(ascii: "d"), 86_400), (UInt8(ascii: "h"), 3_600), (UInt8(ascii: "m"), 60), (UInt8(ascii: "s"), 1),
    ]

    /// Parses `"28d"`, `"1h"`, `"5m"`, `"30s"`: one or more ASCII digits and one unit
    /// (1 d = 86,400 s exactly). Nil for anything else (`"1.5h"`, `"28"`, `"-1h"`, `" 1h"`,
    /// `"1H"`) and for durations too long for an `Int64` of nanoseconds (about 292 years).
    public init?(policyText text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, let unit = bytes.last,
              let seconds = Duration.policyUnits.first(where: { $0.unit == unit })?.seconds
        else { return nil }
        var value: Int64 = 0
        for c in bytes.dropLast() {
            guard c >= 0x30, c <= 0x39 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(c - 0x30))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        let (s, o3) = value.multipliedReportingOverflow(by: seconds)
        let (ns, o4) = s.multipliedReportingOverflow(by: Instant.nanosecondsPerSecond)
        guard !o3, !o4 else { return nil }
        self.init(nanoseconds: ns)
    }

    /// The policy text in the largest unit that divides the duration exactly (`"28d"`,
    /// `"90m"`, `"0s"`). For a duration that is not a whole number of seconds (never one read
    /// from a policy, but a gap between two instants can be), the seconds with their fraction
    /// and no trailing zeros: `"3599.999999999s"`.
    public var policyText: String {
        let perSecond = Instant.nanosecondsPerSecond
        if nanoseconds % perSecond == 0 {
            let seconds = nanoseconds / perSecond
            if seconds == 0 { return "0s" }
            for (unit, size) in Duration.policyUnits where seconds % size == 0 {
                return "\(seconds / size)" + String(UnicodeScalar(unit))
            }
        }
        let sign = nanoseconds < 0 ? "-" : ""
        let magnitude = nanoseconds.magnitude
        var fraction = String(magnitude % UInt64(perSecond))
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(sign)\(magnitude / UInt64(perSecond)).\(fraction)s"
    }
}
