import XCTest
@testable import SessionLedger

final class InstantTests: XCTestCase {
    // Expected nanosecond counts below were computed with Python's datetime (an independent path):
    // int(datetime(2026,3,1,9,tzinfo=timezone.utc).timestamp()) == 1772355600.

    func testParsesUTCAndOffsetsToTheSameInstant() {
        XCTAssertEqual(Instant(rfc3339: "2026-03-01T09:00:00Z")?.nanoseconds, 1_772_355_600_000_000_000)
        XCTAssertEqual(Instant(rfc3339: "2026-03-01T10:00:00+01:00")?.nanoseconds, 1_772_355_600_000_000_000)
        XCTAssertEqual(Instant(rfc3339: "2026-03-01T03:30:00-05:30")?.nanoseconds, 1_772_355_600_000_000_000)
        XCTAssertEqual(Instant(rfc3339: "2026-03-01t09:00:00z")?.nanoseconds, 1_772_355_600_000_000_000)
        XCTAssertEqual(Instant(rfc3339: "2026-03-01T09:00:00-00:00")?.nanoseconds, 1_772_355_600_000_000_000)
    }

    func testReadsZeroToNineFractionalDigits() {
        XCTAssertEqual(Instant(rfc3339: "1970-01-01T00:00:00.5Z")?.nanoseconds, 500_000_000)
        XCTAssertEqual(Instant(rfc3339: "1970-01-01T00:00:00.000000001Z")?.nanoseconds, 1)
        XCTAssertEqual(Instant(rfc3339: "1970-01-01T00:00:00.250Z")?.nanoseconds, 250_000_000)
        XCTAssertNil(Instant(rfc3339: "1970-01-01T00:00:00.0000000001Z"), "10 fractional digits")
        XCTAssertNil(Instant(rfc3339: "1970-01-01T00:00:00.Z"), "a dot with no digit")
    }

    func testRefusesWhatIsNotAnInstant() {
        for text in ["2026-03-01T09:00:00", "2026-13-01T09:00:00Z", "2026-02-29T09:00:00Z", "2026-03-01T24:00:00Z",
                     "2026-03-01T09:60:00Z", "2026-03-01T09:00:60Z", "2026-03-01 09:00:00Z", "1677-12-31T23:59:59Z",
                     "2262-01-01T00:00:00Z", "2026-03-01T09:00:00+24:00", "2026-03-01T09:00:00+0100", "",
                     "2026-03-01T09:00:00Zjunk", "+2026-03-01T09:00:00Z"] {
            XCTAssertNil(Instant(rfc3339: text), text)
        }
        XCTAssertNotNil(Instant(rfc3339: "2024-02-29T09:00:00Z"), "a leap day")
        XCTAssertNil(Instant(rfc3339: "2100-02-29T09:00:00Z"), "2100 is not a leap year")
    }

    func testTheRangeLimitsRoundTrip() throws {
        // -9_214_560_000 s is 1678-01-01T00:00:00Z; 9_214_646_399 s is 2261-12-31T23:59:59Z (Python datetime).
        let low = try XCTUnwrap(Instant(rfc3339: "1678-01-01T00:00:00Z"))
        XCTAssertEqual(low.nanoseconds, -9_214_560_000 * 1_000_000_000)
        XCTAssertEqual(low.description, "1678-01-01T00:00:00Z")
        let high = try XCTUnwrap(Instant(rfc3339: "2261-12-31T23:59:59.999999999Z"))
        XCTAssertEqual(high.nanoseconds, 9_214_646_399 * 1_000_000_000 + 999_999_999)
        XCTAssertEqual(high.description, "2261-12-31T23:59:59.999999999Z")
    }

    func testTheRangeIsCheckedOnTheUTCInstantSoEveryAcceptedInstantExportsAsAnAcceptedOne() {
        XCTAssertNil(Instant(rfc3339: "1678-01-01T00:30:00+01:00"), "1677-12-31T23:30:00Z")
        XCTAssertEqual(Instant(rfc3339: "1677-12-31T23:30:00-01:00")?.description, "1678-01-01T00:30:00Z")
        XCTAssertNil(Instant(rfc3339: "2261-12-31T23:30:00-01:00"), "2262-01-01T00:30:00Z")
        XCTAssertEqual(Instant(rfc3339: "2262-01-01T00:30:00+01:00")?.description, "2261-12-31T23:30:00Z")
        XCTAssertNil(Instant(rfc3339: "1676-12-31T23:30:00-01:00"))
    }

    func testCanonicalTextDropsTrailingZerosAndZeroFractions() {
        XCTAssertEqual(Instant(nanoseconds: 1_772_355_600_000_000_000).description, "2026-03-01T09:00:00Z")
        XCTAssertEqual(Instant(nanoseconds: 1_772_355_600_250_000_000).description, "2026-03-01T09:00:00.25Z")
        XCTAssertEqual(Instant(nanoseconds: -1).description, "1969-12-31T23:59:59.999999999Z")
        XCTAssertEqual(Instant(nanoseconds: 0).description, "1970-01-01T00:00:00Z")
    }
    func testCanonicalTextOfTheInt64ExtremesAndFractionsOfOneEightAndNineDigits() {
        // Expected texts from Python's datetime (1970-01-01 plus the seconds, the fraction's
        // digits with trailing zeros cut).
        XCTAssertEqual(Instant(nanoseconds: Int64.min).description, "1677-09-21T00:12:43.145224192Z")
        XCTAssertEqual(Instant(nanoseconds: Int64.max).description, "2262-04-11T23:47:16.854775807Z")
        XCTAssertEqual(Instant(nanoseconds: 1_772_355_600_000_000_010).description, "2026-03-01T09:00:00.00000001Z")
        XCTAssertEqual(Instant(nanoseconds: 1_772_355_600_100_000_000).description, "2026-03-01T09:00:00.1Z")
        XCTAssertEqual(Instant(nanoseconds: 951_782_400_123_456_789).description, "2000-02-29T00:00:00.123456789Z")
        XCTAssertEqual(Instant(nanoseconds: -1_000_000_001).description, "1969-12-31T23:59:58.999999999Z")
    }

    func testCanonicalTextParsesBackToTheSameInstant() throws {
        // The parser is the independent path: every instant it accepts, written out and read
        // back, is the same instant, and the text has the canonical shape. Seeded, so that a
        // failure can be run again.
        var generator = SplitMix64(seed: 2026)
        for round in 0..<20_000 {
            var ns = Int64.random(in: Instant.rangeStart...Instant.rangeEnd, using: &generator)
            // Every fraction width, zero included: cut the nanoseconds to a multiple of 10^k.
            let k = round % 10
            var scale: Int64 = 1
            for _ in 0..<k { scale *= 10 }
            ns -= ((ns % scale) + scale) % scale  // (rangeStart is a whole second: still in range)
            let instant = Instant(nanoseconds: ns)
            var text: [UInt8] = [0x3E]  // appends after what the array holds
            instant.writeCanonical(into: &text)
            XCTAssertEqual(text.first, 0x3E)
            let body = Array(text.dropFirst())
            XCTAssertEqual(Instant(rfc3339: body)?.nanoseconds, ns, String(decoding: body, as: UTF8.self))
            XCTAssertEqual(body.count == 20, ns % 1_000_000_000 == 0, "a fraction only when non-zero")
            XCTAssertNotEqual(body.count > 20 ? body[body.count - 2] : 0x31, 0x30, "no trailing zero")
        }
    }
}

extension SplitMix64: RandomNumberGenerator {}
