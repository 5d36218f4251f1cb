import XCTest
@testable import SessionLedger

final class EventParserTests: XCTestCase {
    func parse(_ text: String, line: Int = 1) throws -> Event? {
        var parser = EventParser()
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { try parser.parse($0, lineNumber: line) }
    }

    func parseBytes(_ bytes: [UInt8]) throws -> Event? {
        var parser = EventParser()
        return try bytes.withUnsafeBytes { try parser.parse($0, lineNumber: 7) }
    }

    func error(_ text: String) -> String? { error(Array(text.utf8)) }

    func error(_ bytes: [UInt8]) -> String? {
        do {
            _ = try parseBytes(bytes)
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testALoginWithEveryKeyIsReadFieldByField() throws {
        let event = try XCTUnwrap(parse(#"{"meta":{"z":"1","a":"\u00e9\/"},"agent":"A \"quoted\" agent","ip":"::1","id":"e1","method":"google","client":"web","session":"s1","user":"alice","at":"2026-03-01T10:00:00.5+01:00","type":"login"}"#))
        XCTAssertEqual(event.kind, .login)
        XCTAssertEqual(event.at, Instant(rfc3339: "2026-03-01T09:00:00.5Z"))
        XCTAssertEqual(event.user, "alice")
        XCTAssertEqual(event.session, "s1")
        XCTAssertEqual(event.client, "web")
        XCTAssertEqual(event.method, "google")
        XCTAssertEqual(event.id, "e1")
        XCTAssertEqual(event.ip, "::1")
        XCTAssertEqual(event.agent, "A \"quoted\" agent")
        XCTAssertEqual(event.meta, [.init(key: "a", value: "é/"), .init(key: "z", value: "1")])
    }

    func testBlankLinesAreSkipped() throws {
        XCTAssertNil(try parse(""))
        XCTAssertNil(try parse("  \t\r"))
    }

    func testSessionIsOptionalOnlyOnLogoutAll() throws {
        XCTAssertNotNil(try parse(#"{"type":"logout_all","at":"2026-03-01T09:00:00Z","user":"u"}"#))
        XCTAssertEqual(error(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"u"}"#), "line 7: session: missing required key")
    }

    func testSurrogatePairsDecodeAndLoneSurrogatesAreRefused() throws {
        let event = try XCTUnwrap(parse(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"\ud83d\ude00","session":"s"}"#))
        XCTAssertEqual(event.user, "😀")
        XCTAssertEqual(error(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"\ud800","session":"s"}"#),
                       #"line 7: user: invalid \u escape (lone surrogate)"#)
        XCTAssertEqual(error(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"\udc00x","session":"s"}"#),
                       #"line 7: user: invalid \u escape (lone surrogate)"#)
    }

    func testEachRuleHasItsMessage() {
        let base = #""at":"2026-03-01T09:00:00Z","user":"u","session":"s""#
        let cases: [(String, String)] = [
            (#"{"type":"refresh",\#(base),"colour":"red"}"#, "line 7: colour: unknown key"),
            (#"{"type":"refresh",\#(base),"user":"v"}"#, "line 7: user: duplicated key"),
            (#"{"type":"refresh","at":"2026-03-01T09:00:00Z","user":5,"session":"s"}"#, "line 7: user: expected a string, found a number"),
            (#"{"type":"refresh","at":"2026-03-01T09:00:00Z","user":null,"session":"s"}"#, "line 7: user: expected a string, found null"),
            (#"{"type":"refresh","at":"2026-03-01T09:00:00Z","user":["u"],"session":"s"}"#, "line 7: user: expected a string, found an array"),
            (#"{"type":"refresh",\#(base),"meta":"x"}"#, "line 7: meta: expected an object, found a string"),
            (#"{"type":"refresh",\#(base),"meta":{"k":1}}"#, "line 7: meta.k: expected a string, found a number"),
            (#"{"at":"2026-03-01T09:00:00Z","user":"u","session":"s"}"#, "line 7: type: missing required key"),
            (#"{"type":"refresh","user":"u","session":"s"}"#, "line 7: at: missing required key"),
            (#"{"type":"refresh",\#(base),"client":"web"}"#, "line 7: client: only allowed on login"),
            (#"{"type":"login",\#(base),"client":"web"}"#, "line 7: method: missing required key"),
            (#"{"type":"login",\#(base),"client":"Web","method":"google"}"#, "line 7: client: must match [a-z0-9_-]{1,32}"),
            (#"{"type":"signin",\#(base)}"#, "line 7: type: unknown event type"),
            (#"{"type":"refresh","at":"2026-03-01T09:00:60Z","user":"u","session":"s"}"#, "line 7: at: leap second (:60) is not accepted"),
            (#"{"type":"refresh","at":"2026-03-01","user":"u","session":"s"}"#, "line 7: at: not an RFC 3339 instant (years 1678-2261, 0-9 fractional digits, Z or +HH:MM)"),
            (#"{"type":"refresh","at":"2026-03-01T09:00:00Z","user":"","session":"s"}"#, "line 7: user: must be 1 to 256 bytes"),
            (#"{"type":"refresh",\#(base),"id":""}"#, "line 7: id: must be 1 to 128 bytes"),
            (#"{"type":"refresh",\#(base),"ip":"999.1.1.1"}"#, "line 7: ip: not a textual IPv4 or IPv6 address"),
            (#"{"type":"refresh",\#(base),"agent":"\u0007"}"#, "line 7: agent: contains a control character"),
            (#"{"type":"refresh",\#(base),"agent":"a\tb"}"#, "line 7: agent: contains a control character"),
            (#"{"type":"refresh",\#(base),"agent":"\u007f"}"#, "line 7: agent: contains a control character"),
            (#"{"type":"refresh",\#(base),"meta":{"bad key":"v"}}"#, "line 7: meta: key must match [A-Za-z0-9_.-]{1,64}"),
            (#"{"type":"refresh",\#(base),"meta":{"k":"1","k":"2"}}"#, "line 7: meta.k: duplicated key"),
            (#"[1,2]"#, "line 7: invalid JSON: expected an object"),
            (#"{"type":"refresh",\#(base)"#, "line 7: invalid JSON: expected ',' or '}'"),
            (#"{"type":"refresh",\#(base)} x"#, "line 7: invalid JSON: expected end of line after the object"),
        ]
        for (line, expected) in cases {
            XCTAssertEqual(error(line), expected, line)
        }
    }

    func testLimitsAreInclusive() throws {
        let user256 = String(repeating: "u", count: 256)
        XCTAssertNotNil(try parse(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"\#(user256)","session":"s"}"#))
        XCTAssertEqual(error(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"\#(user256)u","session":"s"}"#),
                       "line 7: user: must be 1 to 256 bytes")
        let meta32 = (0..<32).map { #""k\#($0)":"v""# }.joined(separator: ",")
        XCTAssertNotNil(try parse(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"u","session":"s","meta":{\#(meta32)}}"#))
        XCTAssertEqual(error(#"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"u","session":"s","meta":{\#(meta32),"k32":"v"}}"#),
                       "line 7: meta: more than 32 pairs")
    }

    func testInvalidUTF8IsRefusedWhereverItIs() {
        let prefix = Array(#"{"type":"logout","at":"2026-03-01T09:00:00Z","session":"s","user":""#.utf8)
        let suffix = Array(#""}"#.utf8)
        XCTAssertEqual(error(prefix + [0xFF] + suffix), "line 7: user: invalid UTF-8")
        XCTAssertEqual(error(prefix + [0xC0, 0xAF] + suffix), "line 7: user: invalid UTF-8", "overlong '/'")
        XCTAssertEqual(error(prefix + [0xED, 0xA0, 0x80] + suffix), "line 7: user: invalid UTF-8", "an encoded surrogate")
        XCTAssertEqual(error(prefix + [0xF4, 0x90, 0x80, 0x80] + suffix), "line 7: user: invalid UTF-8", "above U+10FFFF")
        XCTAssertEqual(error(Array(#"{""#.utf8) + [0xFF] + Array(#"":"x"}"#.utf8)), "line 7: invalid UTF-8 in a key")
    }

    func testALineOverTheLimitIsRefusedByLength() {
        let long = #"{"type":"logout","at":"2026-03-01T09:00:00Z","user":"u","session":"s","agent":""# + String(repeating: "a", count: 70_000) + #""}"#
        XCTAssertEqual(error(long), "line 7: longer than 65536 bytes")
    }

    func testCanonicalFormRoundTrips() throws {
        let text = #"{"type":"login","at":"2026-03-01T09:00:00.25Z","user":"a\"b\\c","session":"s1","client":"web","method":"google","id":"e1","ip":"10.0.0.1","agent":"é 😀","meta":{"a":"1","b":""}}"#
        let event = try XCTUnwrap(parse(text))
        XCTAssertEqual(String(decoding: CanonicalWriter.bytes(of: event), as: UTF8.self), text)
    }

    /// Strings are copied in runs between escapes: escapes at either end, side by side, alone,
    /// and none at all (expected texts written by hand).
    func testCanonicalStringsEscapeQuotesAndBackslashesOnly() {
        func json(_ value: String) -> String {
            var out: [UInt8] = []
            CanonicalWriter.appendString(value, &out)
            return String(decoding: out, as: UTF8.self)
        }
        XCTAssertEqual(json(""), #""""#)
        XCTAssertEqual(json("plain é 😀"), #""plain é 😀""#)
        XCTAssertEqual(json(#"""#), #""\"""#)
        XCTAssertEqual(json(#"\"#), #""\\""#)
        XCTAssertEqual(json(#""a\"#), #""\"a\\""#)
        XCTAssertEqual(json(#"a""\\b"#), #""a\"\"\\\\b""#)
        XCTAssertEqual(json("tab\\there/slash"), #""tab\\there/slash""#)
    }
}
