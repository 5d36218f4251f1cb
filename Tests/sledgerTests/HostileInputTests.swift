import Foundation
import XCTest

/// Hand-made hostile input through the real command line (docs/FUZZING.md): huge lines, deep
/// nesting, NUL bytes, invalid and overlong UTF-8, wrong JSON types, lone surrogates, 10,000
/// meta keys, instants at the ends of the range, and policy files with every kind of garbage.
///
/// Every refusal must be: exit status 2, nothing on standard output, exactly one line on
/// standard error, `line N: KEY: ...` naming the key where there is one, no control character,
/// no value echoed (the bad values carry `SECRET-TOKEN-123`, which must not appear), and the
/// ledger, which already holds events, unchanged (`sledger digest`).
final class HostileInputTests: XCTestCase {
    static let secret = "SECRET-TOKEN-123"
    var ledger = ""
    var digest = ""

    override func setUpWithError() throws {
        ledger = try temporaryDirectory(self) + "/ledger"
        let events = [
            #"{"type":"login","at":"2026-03-01T09:00:00Z","user":"alice","session":"a-1","client":"web","method":"google","id":"h-1"}"#,
            #"{"type":"refresh","at":"2026-03-01T10:30:00Z","user":"alice","session":"a-1","id":"h-2"}"#,
            #"{"type":"login","at":"2026-03-01T11:00:00Z","user":"bob","session":"b-1","client":"code","method":"email_link","id":"h-3"}"#,
        ]
        let result = try Sledger.run(["append", "--ledger", ledger], stdin: Data((events.joined(separator: "\n") + "\n").utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        digest = try Sledger.digest(ledger)
        XCTAssertTrue(digest.hasPrefix("3:"), digest)
    }

    // MARK: - Building lines

    /// A valid login as ordered (key, raw JSON value) pairs.
    static let loginFields: [(String, String)] = [
        ("type", #""login""#), ("at", #""2026-03-02T09:00:00Z""#), ("user", #""mallory""#), ("session", #""m-1""#),
        ("client", #""web""#), ("method", #""google""#), ("agent", #""curl/8""#),
    ]

    /// The login with `key`'s raw value replaced (or added at the end), as bytes.
    static func login(_ key: String, _ raw: [UInt8]) -> [UInt8] {
        var fields = loginFields.map { ($0.0, Array($0.1.utf8)) }
        if let i = fields.firstIndex(where: { $0.0 == key }) { fields[i].1 = raw } else { fields.append((key, raw)) }
        var out: [UInt8] = [0x7B]
        for (i, (k, v)) in fields.enumerated() {
            if i > 0 { out.append(0x2C) }
            out += Array("\"\(k)\":".utf8) + v
        }
        return out + [0x7D]
    }

    static func login(_ key: String, _ raw: String) -> [UInt8] { login(key, Array(raw.utf8)) }

    /// A JSON string holding the secret around `bytes` (raw bytes, not escaped).
    static func string(_ bytes: [UInt8]) -> [UInt8] { Array("\"\(secret)".utf8) + bytes + Array("\(secret)\"".utf8) }
    static func string(_ text: String) -> [UInt8] { string(Array(text.utf8)) }

    /// A valid first line, the bad line as line 2, and a valid third line.
    static func input(_ bad: [UInt8]) -> Data {
        let first = Array(#"{"type":"refresh","at":"2026-03-02T08:00:00Z","user":"alice","session":"a-1"}"#.utf8)
        let third = Array(#"{"type":"logout","at":"2026-03-02T10:00:00Z","user":"alice","session":"a-1"}"#.utf8)
        return Data(first + [0x0A] + bad + [0x0A] + third + [0x0A])
    }

    // MARK: - The check

    /// `append` refuses `input` at `line`, naming `key` (nil: no key), with `problem` when given.
    @discardableResult
    func assertRefused(_ input: Data, line: Int = 2, key: String?, problem: String? = nil,
                       file: StaticString = #filePath, sourceLine: UInt = #line) throws -> String {
        let result = try Sledger.run(["append", "--ledger", ledger], stdin: input)
        return try check(result, prefix: "line \(line): " + (key.map { "\($0): " } ?? ""), problem: problem,
                         file: file, sourceLine: sourceLine)
    }

    func check(_ result: CommandResult, prefix: String, problem: String?, echoAllowed: Bool = false,
               file: StaticString = #filePath, sourceLine: UInt = #line) throws -> String {
        let shown = result.stderr.debugDescription
        XCTAssertEqual(result.status, 2, shown, file: file, line: sourceLine)
        XCTAssertEqual(result.stdout, "", file: file, line: sourceLine)
        let bytes = Array(result.stderr.utf8)
        XCTAssertEqual(bytes.filter { $0 == 0x0A }.count, 1, "one line: \(shown)", file: file, line: sourceLine)
        XCTAssertEqual(bytes.last, 0x0A, shown, file: file, line: sourceLine)
        let text = String(decoding: bytes.dropLast(), as: UTF8.self)
        XCTAssertTrue(text.utf8.starts(with: prefix.utf8), "\(shown) should start with \(prefix.debugDescription)",
                      file: file, line: sourceLine)
        if let problem { XCTAssertEqual(text, prefix + problem, file: file, line: sourceLine) }
        XCTAssertFalse(text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "control character in \(shown)",
                       file: file, line: sourceLine)
        if !echoAllowed {
            XCTAssertFalse(result.stderr.contains(Self.secret), "value echoed: \(shown)", file: file, line: sourceLine)
        }
        XCTAssertEqual(try Sledger.digest(ledger), digest, "the ledger changed", file: file, line: sourceLine)
        return text
    }

    // MARK: - Size

    func testATenMegabyteLineIsRefusedByItsLength() throws {
        let huge = [UInt8](repeating: UInt8(ascii: "a"), count: 10 << 20)
        try assertRefused(Self.input(Self.login("agent", Self.string(huge))), key: nil, problem: "longer than 65536 bytes")
        // The same as the last line, with no newline after it.
        var last = Array(Self.input([]).prefix(while: { $0 != 0x0A })) + [0x0A]
        last += Self.login("agent", Self.string(huge))
        try assertRefused(Data(last), key: nil, problem: "longer than 65536 bytes")
        // Ten megabytes of NULs, of `[`, and of one unbroken string.
        for filler: UInt8 in [0x00, 0x5B, 0x22] {
            try assertRefused(Self.input([UInt8](repeating: filler, count: 10 << 20)), key: nil, problem: "longer than 65536 bytes")
        }
        // One byte over the limit, and exactly at it (a valid event padded with spaces).
        let event = Self.login("agent", #""x""#)
        try assertRefused(Self.input(event + [UInt8](repeating: 0x20, count: 65_537 - event.count)), key: nil,
                          problem: "longer than 65536 bytes")
        let fits = try Sledger.run(["append", "--ledger", ledger], stdin: Self.input(event + [UInt8](repeating: 0x20, count: 65_536 - event.count)))
        XCTAssertEqual(fits.status, 0, fits.stderr)
    }

    func testDeeplyNestedJSONIsRefusedAtTheFirstBracket() throws {
        let brackets = [UInt8](repeating: UInt8(ascii: "["), count: 60_000)
        let braces = [UInt8](repeating: UInt8(ascii: "{"), count: 60_000)
        try assertRefused(Self.input(Self.login("meta", brackets)), key: "meta", problem: "expected an object, found an array")
        try assertRefused(Self.input(Self.login("meta", Array(#"{"k":"#.utf8) + brackets)), key: "meta.k",
                          problem: "expected a string, found an array")
        try assertRefused(Self.input(Self.login("meta", Array(#"{"k":"#.utf8) + braces)), key: "meta.k",
                          problem: "expected a string, found an object")
        try assertRefused(Self.input(Self.login("user", brackets)), key: "user", problem: "expected a string, found an array")
        try assertRefused(Self.input(Self.login("agent", braces)), key: "agent", problem: "expected a string, found an object")
        try assertRefused(Self.input(brackets), key: nil, problem: "invalid JSON: expected an object")
        try assertRefused(Self.input(Array(String(repeating: #"{"meta":"#, count: 8_000).utf8)), key: "meta.meta",
                          problem: "expected a string, found an object")
        // 100,000 brackets: over the length limit before any nesting is read.
        try assertRefused(Self.input(Self.login("meta", [UInt8](repeating: UInt8(ascii: "["), count: 100_000))), key: nil,
                          problem: "longer than 65536 bytes")
    }

    // MARK: - NUL and control bytes

    func testNULBytesRawAndEscaped() throws {
        try assertRefused(Self.input(Self.login("user", Self.string([0x00]))), key: "user", problem: "contains a control character")
        try assertRefused(Self.input(Self.login("agent", Self.string(#"\u0000"#))), key: "agent", problem: "contains a control character")
        try assertRefused(Self.input(Self.login("meta", Array(#"{"k":"#.utf8) + Self.string([0x00]) + [0x7D])), key: "meta.k",
                          problem: "contains a control character")
        try assertRefused(Self.input(Self.login("meta", Array(#"{"k":"#.utf8) + Self.string(#"\u0000"#) + [0x7D])), key: "meta.k",
                          problem: "contains a control character")
        // In a key: a raw NUL is broken JSON, an escaped one an unknown key shown escaped.
        try assertRefused(Self.input(Array(#"{"ty"#.utf8) + [0x00] + Array(#"pe":"login"}"#.utf8)), key: nil,
                          problem: "invalid JSON: control character in a key")
        try assertRefused(Self.input(Array(#"{"ty\u0000pe":"login"}"#.utf8)), key: #"ty\u0000pe"#, problem: "unknown key")
        // Between tokens, and a line of NULs alone.
        try assertRefused(Self.input(Array(#"{"type":"login","#.utf8) + [0x00] + Array(#""at":"x"}"#.utf8)), key: nil)
        try assertRefused(Self.input([0x00, 0x00, 0x00]), key: nil, problem: "invalid JSON: expected an object")
        // Other control bytes, raw: ESC, CR inside a value, DEL.
        for byte: UInt8 in [0x1B, 0x0D, 0x7F, 0x01] {
            try assertRefused(Self.input(Self.login("session", Self.string([byte]))), key: "session", problem: "contains a control character")
        }
    }

    /// Finding 001/002 (Fixtures/fuzz-regressions), fixed: a byte after `\` is not echoed.
    func testAnInvalidEscapeOfAControlByteIsNotEchoed() throws {
        let result = try Sledger.run(["append", "--ledger", ledger], stdin: Self.input(Self.login("user", Self.string([0x5C, 0x1B]))))
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(try Sledger.digest(ledger), digest)
        XCTAssertFalse(result.stderr.contains(Self.secret))
        XCTAssertFalse(result.stderr.unicodeScalars.contains(where: { $0.value == 0x1B }), result.stderr.debugDescription)
        _ = try check(result, prefix: "line 2: invalid JSON: ", problem: nil)
    }

    // MARK: - UTF-8

    func testInvalidAndOverlongUTF8InEveryPlace() throws {
        let bad: [(String, [UInt8])] = [
            ("byte FF", [0xFF]), ("byte FE", [0xFE]), ("overlong '/' in 2 bytes", [0xC0, 0xAF]), ("overlong C1", [0xC1, 0xBF]),
            ("overlong '/' in 3 bytes", [0xE0, 0x80, 0xAF]), ("overlong '/' in 4 bytes", [0xF0, 0x80, 0x80, 0xAF]),
            ("overlong NUL", [0xC0, 0x80]), ("encoded surrogate", [0xED, 0xA0, 0x80]), ("encoded low surrogate", [0xED, 0xBF, 0xBF]),
            ("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80]), ("five-byte form", [0xF8, 0x88, 0x80, 0x80, 0x80]),
            ("stray continuation", [0x80]), ("truncated", [0xE2, 0x82]), ("lead then ASCII", [0xC3, 0x41]),
        ]
        for (name, bytes) in bad {
            for key in ["user", "session", "agent"] {
                let text = try assertRefused(Self.input(Self.login(key, Self.string(bytes))), key: key, problem: "invalid UTF-8")
                XCTAssertFalse(text.isEmpty, name)
            }
            // Truncated at the very end of the string.
            try assertRefused(Self.input(Self.login("id", Array("\"\(Self.secret)".utf8) + bytes + [0x22])), key: "id", problem: "invalid UTF-8")
            try assertRefused(Self.input(Self.login("meta", Array(#"{"k":"#.utf8) + Self.string(bytes) + [0x7D])), key: "meta.k",
                              problem: "invalid UTF-8")
            try assertRefused(Self.input(Array(#"{"ty"#.utf8) + bytes + Array(#"pe":"login"}"#.utf8)), key: nil,
                              problem: "invalid UTF-8 in a key")
            try assertRefused(Self.input(Self.login("meta", [0x7B, 0x22] + bytes + Array(#"":"x"}"#.utf8))), key: "meta",
                              problem: "invalid UTF-8")
        }
    }

    // MARK: - JSON types

    func testNumbersBooleansNullsArraysAndObjectsWhereStringsBelong() throws {
        let values: [(String, String)] = [
            ("12345", "a number"), ("-1.5e3", "a number"), ("0", "a number"), ("true", "true"), ("false", "false"),
            ("null", "null"), (#"["\#(Self.secret)"]"#, "an array"), (#"{"x":"\#(Self.secret)"}"#, "an object"),
        ]
        for key in ["type", "at", "user", "session", "client", "method", "id", "ip", "agent"] {
            for (raw, found) in values {
                try assertRefused(Self.input(Self.login(key, raw)), key: key, problem: "expected a string, found \(found)")
            }
        }
        for (raw, found) in values + [(#""\#(Self.secret)""#, "a string")] {
            if found != "an object" {
                try assertRefused(Self.input(Self.login("meta", raw)), key: "meta", problem: "expected an object, found \(found)")
            }
            if found != "a string" {
                try assertRefused(Self.input(Self.login("meta", #"{"k":\#(raw)}"#)), key: "meta.k", problem: "expected a string, found \(found)")
            }
        }
        // A number that is not even valid JSON.
        try assertRefused(Self.input(Self.login("user", "01x")), key: "user", problem: "expected a string, found a number")
        // Not the start of any JSON value: a syntax error (finding 010, fixed).
        try assertRefused(Self.input(Self.login("user", "NaN")), key: nil, problem: "invalid JSON: expected a value")
        try assertRefused(Self.input(Self.login("user", "nope")), key: nil, problem: "invalid JSON: expected a value")
    }

    // MARK: - Escapes

    func testLoneSurrogatesInEscapes() throws {
        let problem = #"invalid \u escape (lone surrogate)"#
        for escape in [#"\ud800"#, #"\udbff"#, #"\udc00"#, #"\udfff"#, #"\ud800\u0041"#, #"\ud800\ud800"#, #"\udc00\ud800"#, #"\ud800x"#] {
            try assertRefused(Self.input(Self.login("user", Self.string(escape))), key: "user", problem: problem)
            try assertRefused(Self.input(Self.login("meta", Array(#"{"k":"#.utf8) + Self.string(escape) + [0x7D])), key: "meta.k",
                              problem: problem)
        }
        // At the very end of the string, and of the line.
        try assertRefused(Self.input(Self.login("agent", #""abc\ud800""#)), key: "agent", problem: problem)
        try assertRefused(Self.input(Array(#"{"type":"login","agent":"\ud800"#.utf8)), key: nil)
        // In a key.
        try assertRefused(Self.input(Array(#"{"\ud800":"x"}"#.utf8)), key: nil)
        // A valid pair is accepted (U+1F600).
        let ok = try Sledger.run(["append", "--ledger", ledger], stdin: Self.input(Self.login("agent", #""\ud83d\ude00""#)))
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }

    // MARK: - meta

    func testTenThousandMetaKeys() throws {
        // 10,000 distinct pairs do not fit in a line.
        let many = (0..<10_000).map { #""k\#($0)":"\#(Self.secret)""# }.joined(separator: ",")
        try assertRefused(Self.input(Self.login("meta", "{" + many + "}")), key: nil, problem: "longer than 65536 bytes")
        // 7,000 short distinct keys do: refused for their number.
        let short = (0..<7_000).map { #""\#(String($0, radix: 36))":"""# }.joined(separator: ",")
        let line = Self.login("meta", "{" + short + #","zz-last":"\#(Self.secret)"}"#)
        XCTAssertLessThan(line.count, 65_536)
        try assertRefused(Self.input(line), key: "meta", problem: "more than 32 pairs")
        // 10,000 copies of one key, as short as a pair can be.
        let same = String(repeating: #""a":"","#, count: 9_000) + #""a":"""#
        try assertRefused(Self.input(Self.login("meta", "{" + same + "}")), key: nil)
    }

    // MARK: - Instants

    func testInstantsAtTheEndsOfTheRange() throws {
        let invalid = "not an RFC 3339 instant (years 1678-2261, 0-9 fractional digits, Z or +HH:MM)"
        for at in ["1677-12-31T23:59:59.999999999Z", "2262-01-01T00:00:00Z", "1678-01-01T00:30:00+01:00",
                   "2261-12-31T23:30:00-01:00", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1678-01-01T00:00:00.0000000000Z",
                   "-2026-03-01T09:00:00Z", "+2026-03-01T09:00:00Z", "99999-03-01T09:00:00Z", "2026-03-01T09:00:00+99:00",
                   "2026-03-01T09:00:00.\(String(repeating: "9", count: 1000))Z", "1677-01-01T00:00:00Z", "2262-12-31T23:59:59Z"] {
            try assertRefused(Self.input(Self.login("at", "\"\(at)\"")), key: "at", problem: invalid)
        }
        try assertRefused(Self.input(Self.login("at", #""2261-12-31T23:59:60Z""#)), key: "at", problem: "leap second (:60) is not accepted")

        // Accepted, and exported in UTC as what imports again.
        let accepted = [("1678-01-01T00:00:00Z", "1678-01-01T00:00:00Z"),
                        ("2261-12-31T23:59:59.999999999Z", "2261-12-31T23:59:59.999999999Z"),
                        ("1677-12-31T23:30:00-01:00", "1678-01-01T00:30:00Z"),
                        ("2262-01-01T00:30:00+01:00", "2261-12-31T23:30:00Z")]
        for (i, (at, canonical)) in accepted.enumerated() {
            let line = Array(String(decoding: Self.login("at", "\"\(at)\""), as: UTF8.self)
                .replacingOccurrences(of: #""session":"m-1""#, with: #""session":"edge-\#(i)""#).utf8)
            let result = try Sledger.run(["append", "--ledger", ledger], stdin: Data(line + [0x0A]))
            XCTAssertEqual(result.status, 0, "\(at): \(result.stderr)")
            let export = try Sledger.run(["export", "--ledger", ledger])
            XCTAssertTrue(export.stdout.contains(#""at":"\#(canonical)","user":"mallory","session":"edge-\#(i)""#), export.stdout)
        }
        // The export imports again into an empty ledger and exports the same bytes.
        let export = try Sledger.run(["export", "--ledger", ledger]).stdout
        let again = try temporaryDirectory(self) + "/again"
        XCTAssertEqual(try Sledger.run(["append", "--ledger", again], stdin: Data(export.utf8)).status, 0)
        XCTAssertEqual(try Sledger.run(["export", "--ledger", again]).stdout, export)
    }

    // MARK: - Policy files

    static let policy = """
        {
          "name": "web-28d",
          "clients": {
            "web":  {"lifetime": "28d", "refresh_interval": "1h"},
            "code": {"lifetime": null,  "refresh_interval": null, "token": true}
          },
          "default_client": {"lifetime": "28d", "refresh_interval": "1h"},
          "login_methods": ["google", "email_link"],
          "logout_all_from": ["web"],
          "logout_all_revokes_tokens": false,
          "max_skew": "5m"
        }
        """

    /// `sledger policy --policy FILE` (and `replay --policy FILE` on the ledger) refuse `bytes`
    /// with `FILE: KEY: ...` (`FILE: ...` when key is nil).
    func assertPolicyRefused(_ bytes: [UInt8], key: String?, problem: String? = nil, echoAllowed: Bool = false,
                             file: StaticString = #filePath, sourceLine: UInt = #line) throws {
        let path = try temporaryDirectory(self) + "/policy.json"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let prefix = "\(path): " + (key.map { "\($0): " } ?? "")
        let shown = try Sledger.run(["policy", "--policy", path])
        let text = try check(shown, prefix: prefix, problem: problem, echoAllowed: echoAllowed, file: file, sourceLine: sourceLine)
        let replay = try Sledger.run(["replay", "--ledger", ledger, "--policy", path])
        XCTAssertEqual(try check(replay, prefix: prefix, problem: problem, echoAllowed: echoAllowed, file: file, sourceLine: sourceLine),
                       text, file: file, line: sourceLine)
    }

    func policy(_ old: String, _ new: String) -> [UInt8] {
        XCTAssertTrue(Self.policy.contains(old), old)
        return Array(Self.policy.replacingOccurrences(of: old, with: new).utf8)
    }

    func testThePolicyIsAcceptedAsWritten() throws {
        let path = try temporaryDirectory(self) + "/policy.json"
        try Self.policy.write(toFile: path, atomically: false, encoding: .utf8)
        let result = try Sledger.run(["policy", "--policy", path])
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    func testPolicyFilesWithGarbageNameTheKey() throws {
        let s = Self.secret
        try assertPolicyRefused(policy(#""web-28d""#, "42"), key: "name", problem: "expected a string, found a number")
        try assertPolicyRefused(policy(#""web-28d""#, #"["\#(s)"]"#), key: "name", problem: "expected a string, found an array")
        try assertPolicyRefused(policy(#""web-28d""#, #""""#), key: "name", problem: "must not be empty")
        try assertPolicyRefused(policy(#""name": "web-28d","#, #""name": "web-28d", "colour": "\#(s)","#), key: "colour", problem: "unknown key")
        try assertPolicyRefused(policy(#""max_skew": "5m""#, #""max_skew": "5m", "max_skew": "\#(s)""#), key: "max_skew", problem: "duplicated key")
        try assertPolicyRefused(policy(#""max_skew": "5m""#, #""other": 1"#), key: "other", problem: "unknown key")
        try assertPolicyRefused(policy(#", "token": true"#, #", "token": "\#(s)""#), key: "clients.code.token",
                                problem: "expected true or false, found a string")
        try assertPolicyRefused(policy(#""web":  {"lifetime": "28d""#, #""web":  {"lifetime": 28"#), key: "clients.web.lifetime")
        try assertPolicyRefused(policy(#""web":  {"lifetime": "28d""#, #""web":  {"lifetime": {"\#(s)": 1}"#), key: "clients.web.lifetime")
        try assertPolicyRefused(policy(#""web":  {"lifetime": "28d""#, #""web":  {"lifetime": "28x""#), key: "clients.web.lifetime",
                                echoAllowed: true)
        try assertPolicyRefused(policy(#""refresh_interval": "1h"},"#, #""refresh_interval": "1.5h"},"#), key: "clients.web.refresh_interval",
                                echoAllowed: true)
        try assertPolicyRefused(policy(#""max_skew": "5m""#, #""max_skew": "106752d""#), key: "max_skew", echoAllowed: true)
        try assertPolicyRefused(policy(#""max_skew": "5m""#, #""max_skew": "99999999999999999999999s""#), key: "max_skew", echoAllowed: true)
        try assertPolicyRefused(policy(#""web":  {"#, #""Web":  {"#), key: "clients.Web", problem: "a client name must match [a-z0-9_-]{1,32}")
        try assertPolicyRefused(policy(#""default_client": {"lifetime": "28d", "refresh_interval": "1h"}"#,
                                       #""default_client": {"lifetime": "28d", "refresh_interval": "1h", "token": true}"#), key: "default_client.token")
        try assertPolicyRefused(policy(#"["google", "email_link"]"#, #""\#(s)""#), key: "login_methods",
                                problem: "expected an array of strings, found a string")
        try assertPolicyRefused(policy(#"["google", "email_link"]"#, #"["google", 7]"#), key: "login_methods[1]",
                                problem: "expected a string, found a number")
        try assertPolicyRefused(policy(#"["google", "email_link"]"#, #"["google", "google"]"#), key: "login_methods[1]")
        try assertPolicyRefused(policy(#"["web"]"#, #"["Web \#(s)"]"#), key: "logout_all_from[0]", problem: "must match [a-z0-9_-]{1,32}")
        try assertPolicyRefused(policy(#""logout_all_revokes_tokens": false"#, #""logout_all_revokes_tokens": "false""#),
                                key: "logout_all_revokes_tokens", problem: "expected true or false, found a string")
        try assertPolicyRefused(policy(#","# + "\n" + #"  "max_skew": "5m""#, ""), key: "max_skew", problem: "missing required key")
    }

    func testPolicyFilesThatAreNotJSONOrNotUTF8() throws {
        let s = Self.secret
        func name(_ bytes: [UInt8]) -> [UInt8] {
            let text = Array(Self.policy.utf8)
            let marker = Array(#""web-28d""#.utf8)
            let at = (0...(text.count - marker.count)).first { Array(text[$0..<($0 + marker.count)]) == marker }!
            return Array(text[..<at]) + bytes + Array(text[(at + marker.count)...])
        }
        // Broken JSON has no key: FILE: invalid JSON at line L, column C: ...
        let invalid = "invalid JSON at line "
        for bytes: [UInt8] in [
            Array("\"\(s)".utf8) + [0x00] + [0x22],  // raw NUL
            Array("\"\(s)".utf8) + [0x1B] + [0x22],  // raw ESC
            Array("\"\(s)".utf8) + [0xC0, 0xAF] + [0x22],  // overlong
            Array("\"\(s)".utf8) + [0xED, 0xA0, 0x80] + [0x22],  // encoded surrogate
            Array("\"\(s)".utf8) + [0xFF] + [0x22],
            Array("\"\(s)\\ud800\"".utf8),  // lone surrogate
            Array("\"\(s)\\x\"".utf8),  // bad escape
            [UInt8](repeating: UInt8(ascii: "["), count: 100_000),  // deep nesting
            Array(String(repeating: #"{"a":"#, count: 50_000).utf8),
            Array("\"\(s)".utf8),  // unterminated
            Array("01".utf8), Array("tru".utf8), Array("1e".utf8),
        ] {
            let path = try temporaryDirectory(self) + "/policy.json"
            try Data(name(bytes)).write(to: URL(fileURLWithPath: path))
            _ = try check(try Sledger.run(["policy", "--policy", path]), prefix: "\(path): \(invalid)", problem: nil)
        }
        for whole: [UInt8] in [[], [0x00], Array("[]".utf8), Array("null".utf8), Array("\"\(s)\"".utf8), [0xEF, 0xBB, 0xBF],
                               Array(Self.policy.utf8) + Array("{}".utf8), [UInt8](repeating: 0x20, count: 10 << 20)] {
            let path = try temporaryDirectory(self) + "/policy.json"
            try Data(whole).write(to: URL(fileURLWithPath: path))
            _ = try check(try Sledger.run(["policy", "--policy", path]), prefix: "\(path): ", problem: nil)
        }
    }
}
