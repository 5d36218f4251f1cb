/// An instant on the UTC time line, in nanoseconds since 1970-01-01T00:00:00Z.
///
/// SPEC.md section 2: instants are RFC 3339 with `Z` or a numeric offset and 0 to 9
/// fractional digits, stored with nanosecond precision, years 1678 to 2261 (what an
/// `Int64` of nanoseconds can hold). The canonical text is UTC with `Z`, the fraction
/// written only when non-zero and without trailing zeros.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }

    public static let nanosecondsPerSecond: Int64 = 1_000_000_000

    /// The instant `duration` later, or nil when that falls outside what an `Int64` holds.
    public func adding(_ duration: Duration) -> Instant? {
        let (sum, overflow) = nanoseconds.addingReportingOverflow(duration.nanoseconds)
        return overflow ? nil : Instant(nanoseconds: sum)
    }

    /// The canonical RFC 3339 text.
    public var description: String { String(decoding: canonicalBytes(), as: UTF8.self) }

    /// The current wall-clock time.
    public static func now() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Instant(nanoseconds: Int64(ts.tv_sec) * nanosecondsPerSecond + Int64(ts.tv_nsec))
    }
}

/// A span of time in whole nanoseconds (policy durations are whole `s`, `m`, `h` or `d`).
public struct Duration: Hashable, Comparable, Sendable {
    public var nanoseconds: Int64
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public static func seconds(_ s: Int64) -> Duration { Duration(nanoseconds: s * Instant.nanosecondsPerSecond) }
    public static func < (a: Duration, b: Duration) -> Bool { a.nanoseconds < b.nanoseconds }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Civil calendar (proleptic Gregorian), after Howard Hinnant's days_from_civil.

@inline(__always)
func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

@inline(__always)
func civilFromDays(_ z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let z = z0 + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
}

@inline(__always)
func daysInMonth(year: Int64, month: Int64) -> Int64 {
    switch month {
    case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

extension Instant {
    /// The years an instant may fall in, in UTC: what an `Int64` of nanoseconds holds, in whole years.
    public static let yearRange: ClosedRange<Int64> = 1678...2261
    /// 1678-01-01T00:00:00Z and 2262-01-01T00:00:00Z, in nanoseconds.
    static let rangeStart: Int64 = -9_214_560_000 * 1_000_000_000
    static let rangeEnd: Int64 = 9_214_646_400 * 1_000_000_000 - 1

    /// Parses RFC 3339 (`2026-03-01T09:00:00.25+01:00`); nil when the text is not a valid instant
    /// in range. `T` and `Z` may also be written in lower case, as RFC 3339 allows; `:60` leap
    /// seconds are refused.
    public init?<Bytes: Collection>(rfc3339 text: Bytes) where Bytes.Element == UInt8, Bytes.Index == Int {
        var i = text.startIndex
        let end = text.endIndex
        @inline(__always) func digits(_ n: Int) -> Int64? {
            guard end - i >= n else { return nil }
            var v: Int64 = 0
            for _ in 0..<n {
                let c = text[i]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int64(c - 0x30)
                i += 1
            }
            return v
        }
        @inline(__always) func expect(_ c: UInt8, or alternative: UInt8? = nil) -> Bool {
            guard i < end, text[i] == c || text[i] == alternative else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(0x2D), let month = digits(2), expect(0x2D), let day = digits(2),
              expect(0x54, or: 0x74), let hour = digits(2), expect(0x3A), let minute = digits(2), expect(0x3A),
              let second = digits(2)
        else { return nil }
        // The written year may be one off the range when the offset carries the UTC instant
        // back inside it; the range itself is checked on the UTC instant below, so that
        // every accepted instant is written back (in UTC) as one that is accepted again.
        guard year >= Instant.yearRange.lowerBound - 1, year <= Instant.yearRange.upperBound + 1, (1...12).contains(month),
              day >= 1, day <= daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var fraction: Int64 = 0
        if i < end, text[i] == 0x2E {
            i += 1
            var count = 0
            while i < end, text[i] >= 0x30, text[i] <= 0x39 {
                guard count < 9 else { return nil }
                fraction = fraction * 10 + Int64(text[i] - 0x30)
                count += 1
                i += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<9 { fraction *= 10 }
        }
        var offsetSeconds: Int64 = 0
        guard i < end else { return nil }
        if text[i] == 0x5A || text[i] == 0x7A {
            i += 1
        } else if text[i] == 0x2B || text[i] == 0x2D {
            let sign: Int64 = text[i] == 0x2D ? -1 : 1
            i += 1
            guard let oh = digits(2), expect(0x3A), let om = digits(2), oh <= 23, om <= 59 else { return nil }
            offsetSeconds = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard i == end else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        let (scaled, o1) = seconds.multipliedReportingOverflow(by: Instant.nanosecondsPerSecond)
        let (total, o2) = scaled.addingReportingOverflow(fraction)
        guard !o1, !o2, total >= Instant.rangeStart, total <= Instant.rangeEnd else { return nil }
        self.nanoseconds = total
    }

    /// Parses RFC 3339 text.
    public init?(rfc3339 text: String) {
        self.init(rfc3339: Array(text.utf8))
    }

    /// Appends the canonical text (UTC, `Z`, fraction only when non-zero, no trailing zeros).
    /// The text (at most 30 bytes: an `Int64` of nanoseconds falls in years 1677-2262, four
    /// digits) is put together on the stack and appended at once: appending it a byte at a
    /// time was 16% of a `sessions --at` printing 125,000 sessions.
    public func writeCanonical(into out: inout [UInt8]) {
        var seconds = nanoseconds / Instant.nanosecondsPerSecond
        var fraction = nanoseconds % Instant.nanosecondsPerSecond
        if fraction < 0 { fraction += Instant.nanosecondsPerSecond; seconds -= 1 }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        let (year, month, day) = civilFromDays(days)
        // Unsigned 32-bit digits from here (years 1677-2262, a fraction under 10^9): their
        // divisions by 10 are a multiply and a shift, where signed 64-bit ones needed fixing up.
        let clock = UInt32(truncatingIfNeeded: secondOfDay)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { text in
            @inline(__always) func two(_ value: UInt32, at i: Int) {
                text[i] = 0x30 &+ UInt8(truncatingIfNeeded: value / 10)
                text[i + 1] = 0x30 &+ UInt8(truncatingIfNeeded: value % 10)
            }
            let y = UInt32(truncatingIfNeeded: year)
            two(y / 100, at: 0); two(y % 100, at: 2); text[4] = 0x2D
            two(UInt32(truncatingIfNeeded: month), at: 5); text[7] = 0x2D; two(UInt32(truncatingIfNeeded: day), at: 8); text[10] = 0x54
            two(clock / 3600, at: 11); text[13] = 0x3A
            two(clock / 60 % 60, at: 14); text[16] = 0x3A
            two(clock % 60, at: 17)
            var end = 19
            if fraction != 0 {
                text[19] = 0x2E
                var f = UInt32(truncatingIfNeeded: fraction)
                for i in stride(from: 28, through: 20, by: -1) {
                    text[i] = 0x30 &+ UInt8(truncatingIfNeeded: f % 10)
                    f /= 10
                }
                end = 29
                while text[end - 1] == 0x30 { end -= 1 }
            }
            text[end] = 0x5A
            out.append(contentsOf: UnsafeBufferPointer(rebasing: text[..<(end + 1)]))
        }
    }

    public func canonicalBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(30)
        writeCanonical(into: &out)
        return out
    }
}
