import XCTest
@testable import SessionLedger

final class PolicyTests: XCTestCase {
    /// The example of SPEC.md section 4, verbatim.
    static let specText = """
    {
      "name": "web-28d",
      "clients": {
        "web":     {"lifetime": "28d", "refresh_interval": "1h"},
        "ios":     {"lifetime": "28d", "refresh_interval": "1h"},
        "android": {"lifetime": "28d", "refresh_interval": "1h"},
        "desktop": {"lifetime": "28d", "refresh_interval": "1h"},
        "code":    {"lifetime": null,  "refresh_interval": null, "token": true}
      },
      "default_client": {"lifetime": "28d", "refresh_interval": "1h"},
      "login_methods": ["google", "email_link"],
      "logout_all_from": ["web"],
      "logout_all_revokes_tokens": false,
      "max_skew": "5m"
    }
    """

    /// The error reading `text` gives, or a failure when it reads.
    func error(reading text: String, file: StaticString = #filePath, line: UInt = #line) -> PolicyError? {
        do {
            _ = try Policy(json: text)
            XCTFail("expected an error", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    /// The SPEC example with `old` replaced by `new` (which must occur exactly once).
    func spec(replacing old: String, with new: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        XCTAssertEqual(Self.specText.components(separatedBy: old).count, 2, "\(old) must occur once", file: file, line: line)
        return Self.specText.replacingOccurrences(of: old, with: new)
    }

    func testTheSpecExampleReadsAsTheBuiltInDefault() throws {
        XCTAssertEqual(try Policy(json: Self.specText), Policy.default)
    }

    func testTheDefaultSaysWhatSectionFourSays() {
        let p = Policy.default
        XCTAssertEqual(p.name, "web-28d")
        XCTAssertEqual(p.client("web").lifetime, .seconds(28 * 86_400))
        XCTAssertEqual(p.client("web").refreshInterval, .seconds(3_600))
        XCTAssertFalse(p.client("web").token)
        XCTAssertNil(p.client("code").lifetime)
        XCTAssertNil(p.client("code").refreshInterval)
        XCTAssertTrue(p.client("code").token)
        XCTAssertEqual(p.loginMethods, ["google", "email_link"])
        XCTAssertEqual(p.logoutAllFrom, ["web"])
        XCTAssertFalse(p.logoutAllRevokesTokens)
        XCTAssertEqual(p.maxSkew, .seconds(300))
    }

    func testAClientNotListedGetsTheDefaultClientAndIsNeverAToken() throws {
        let p = try Policy(json: spec(replacing: #""default_client": {"lifetime": "28d", "refresh_interval": "1h"}"#,
                                      with: #""default_client": {"lifetime": "7d", "refresh_interval": null}"#))
        XCTAssertFalse(p.isListed(client: "smart-tv"))
        XCTAssertEqual(p.client("smart-tv"), Policy.Client(lifetime: .seconds(7 * 86_400), refreshInterval: nil, token: false))
        XCTAssertTrue(p.isListed(client: "code"))
    }

    func testTheCanonicalTextOfTheDefaultIsTheSpecLayoutWithClientsSorted() {
        XCTAssertEqual(Policy.default.canonicalJSON(), """
        {
          "name": "web-28d",
          "clients": {
            "android": {"lifetime": "28d", "refresh_interval": "1h"},
            "code":    {"lifetime": null, "refresh_interval": null, "token": true},
            "desktop": {"lifetime": "28d", "refresh_interval": "1h"},
            "ios":     {"lifetime": "28d", "refresh_interval": "1h"},
            "web":     {"lifetime": "28d", "refresh_interval": "1h"}
          },
          "default_client": {"lifetime": "28d", "refresh_interval": "1h"},
          "login_methods": ["google", "email_link"],
          "logout_all_from": ["web"],
          "logout_all_revokes_tokens": false,
          "max_skew": "5m"
        }

        """)
    }

    func testTheCanonicalTextReadsBackEqual() throws {
        let odd = Policy(
            name: "odd \"quoted\" \\ name\u{7}",
            clients: ["tv": .init(lifetime: .seconds(5_400), refreshInterval: .seconds(0), token: true),
                      "web": .init(lifetime: .seconds(86_400 * 365), refreshInterval: .seconds(61))],
            defaultClient: .init(lifetime: nil, refreshInterval: .seconds(7_200)),
            loginMethods: [], logoutAllFrom: ["tv", "web"], logoutAllRevokesTokens: true, maxSkew: nil)
        for policy in [Policy.default, odd,
                       Policy(name: "x", clients: [:], defaultClient: .init(lifetime: nil, refreshInterval: nil),
                              loginMethods: ["a"], logoutAllFrom: [], logoutAllRevokesTokens: false, maxSkew: .seconds(1))] {
            XCTAssertEqual(try Policy(json: policy.canonicalJSON()), policy, policy.canonicalJSON())
        }
        XCTAssertTrue(odd.canonicalJSON().contains(#""lifetime": "90m""#))
        XCTAssertTrue(odd.canonicalJSON().contains(#""refresh_interval": "0s""#))
        XCTAssertTrue(odd.canonicalJSON().contains(#""lifetime": "365d""#))
        XCTAssertTrue(odd.canonicalJSON().contains(#""refresh_interval": "61s""#))
    }

    func testDurationsAreAWholeNumberAndAUnit() {
        XCTAssertEqual(Duration(policyText: "28d"), .seconds(28 * 86_400))
        XCTAssertEqual(Duration(policyText: "1h"), .seconds(3_600))
        XCTAssertEqual(Duration(policyText: "5m"), .seconds(300))
        XCTAssertEqual(Duration(policyText: "30s"), .seconds(30))
        XCTAssertEqual(Duration(policyText: "0s"), .seconds(0))
        XCTAssertEqual(Duration(policyText: "106751d"), .seconds(106_751 * 86_400))
        for bad in ["28x", "1.5h", "28", "h", "", "-1h", "+1h", " 1h", "1h ", "1H", "1 h", "1e3s", "106752d",
                    "99999999999999999999s", "１h"] {
            XCTAssertNil(Duration(policyText: bad), bad)
        }
        XCTAssertEqual(Duration.seconds(86_400).policyText, "1d")
        XCTAssertEqual(Duration.seconds(90 * 60).policyText, "90m")
        XCTAssertEqual(Duration(nanoseconds: 3_599_999_999_999).policyText, "3599.999999999s")
        XCTAssertEqual(Duration(nanoseconds: 1_500_000_000).policyText, "1.5s")
    }

    func testABadDurationIsRefusedNamingTheKeyAndTheValue() {
        XCTAssertEqual(error(reading: spec(replacing: #""max_skew": "5m""#, with: #""max_skew": "28x""#))?.description,
                       #"max_skew: "28x" is not a duration: expected a whole number and a unit s, m, h or d (like "28d" or "5m"), or null"#)
        let half = error(reading: spec(replacing: #""default_client": {"lifetime": "28d""#, with: #""default_client": {"lifetime": "1.5h""#))
        XCTAssertEqual(half?.key, "default_client.lifetime")
        XCTAssertTrue(half?.message.contains("\"1.5h\" is not a duration") ?? false)
        let number = error(reading: spec(replacing: #""web":     {"lifetime": "28d""#, with: #""web":     {"lifetime": 28"#))
        XCTAssertEqual(number?.description, #"clients.web.lifetime: expected a duration string (like "28d") or null, found a number"#)
        XCTAssertEqual(error(reading: spec(replacing: #""max_skew": "5m""#, with: #""max_skew": "106752d""#))?.description,
                       #"max_skew: "106752d" is too long (at most 106751d)"#)
    }

    func testAnUnknownKeyIsRefusedWithItsPath() {
        XCTAssertEqual(error(reading: spec(replacing: #""max_skew": "5m""#, with: #""max_skw": "5m""#))?.description,
                       "max_skw: unknown key")
        XCTAssertEqual(error(reading: spec(replacing: #""ios":     {"lifetime""#, with: #""ios":     {"lifetme""#))?.description,
                       "clients.ios.lifetme: unknown key")
    }

    func testEveryKeyIsRequiredButToken() {
        XCTAssertEqual(error(reading: spec(replacing: ",\n  \"max_skew\": \"5m\"", with: ""))?.description,
                       "max_skew: missing required key")
        XCTAssertEqual(error(reading: spec(replacing: #""name": "web-28d","#, with: ""))?.description,
                       "name: missing required key")
        XCTAssertEqual(error(reading: spec(replacing: #""desktop": {"lifetime": "28d", "refresh_interval": "1h"}"#,
                                           with: #""desktop": {"lifetime": "28d"}"#))?.description,
                       "clients.desktop.refresh_interval: missing required key")
        XCTAssertEqual(error(reading: "{}")?.description, "name: missing required key")
    }

    func testAWrongTypeIsRefusedNamingWhatWasExpectedAndFound() {
        XCTAssertEqual(error(reading: spec(replacing: #""login_methods": ["google", "email_link"]"#, with: #""login_methods": "google""#))?.description,
                       "login_methods: expected an array of strings, found a string")
        XCTAssertEqual(error(reading: spec(replacing: #""logout_all_from": ["web"]"#, with: #""logout_all_from": ["web", 1]"#))?.description,
                       "logout_all_from[1]: expected a string, found a number")
        XCTAssertEqual(error(reading: spec(replacing: #""logout_all_revokes_tokens": false"#, with: #""logout_all_revokes_tokens": "false""#))?.description,
                       "logout_all_revokes_tokens: expected true or false, found a string")
        XCTAssertEqual(error(reading: spec(replacing: #""token": true"#, with: #""token": 1"#))?.description,
                       "clients.code.token: expected true or false, found a number")
        XCTAssertEqual(error(reading: spec(replacing: #""name": "web-28d""#, with: #""name": null"#))?.description,
                       "name: expected a string, found null")
        XCTAssertEqual(error(reading: "[]")?.description, "a policy must be a JSON object, found an array")
    }

    func testNamesThatNoEventCouldCarryAreRefused() {
        XCTAssertEqual(error(reading: spec(replacing: #""web":     {"#, with: #""Web":     {"#))?.description,
                       "clients.Web: a client name must match [a-z0-9_-]{1,32}")
        XCTAssertEqual(error(reading: spec(replacing: #"["google", "email_link"]"#, with: #"["google", "Email Link"]"#))?.description,
                       "login_methods[1]: must match [a-z0-9_-]{1,32}")
        XCTAssertEqual(error(reading: spec(replacing: #"["google", "email_link"]"#, with: #"["google", "google"]"#))?.description,
                       #"login_methods[1]: "google" is listed twice"#)
        XCTAssertEqual(error(reading: spec(replacing: #""name": "web-28d""#, with: #""name": """#))?.description,
                       "name: must not be empty")
    }

    func testTheDefaultClientCannotBeAToken() {
        XCTAssertEqual(error(reading: spec(replacing: #""default_client": {"lifetime": "28d", "refresh_interval": "1h"}"#,
                                           with: #""default_client": {"lifetime": "28d", "refresh_interval": "1h", "token": false}"#))?.description,
                       "default_client.token: not allowed here: a client not listed in clients is never a token")
    }

    func testADuplicatedKeyIsRefused() {
        XCTAssertEqual(error(reading: spec(replacing: #""max_skew": "5m""#, with: #""max_skew": "5m", "max_skew": "1h""#))?.description,
                       "max_skew: duplicated key")
        XCTAssertEqual(error(reading: spec(replacing: #""web":     {"lifetime": "28d", "#, with: #""web":     {"lifetime": "28d", "lifetime": null, "#))?.description,
                       "clients.web.lifetime: duplicated key")
    }

    func testBrokenJSONIsRefusedByLineAndColumn() {
        XCTAssertEqual(error(reading: spec(replacing: #""max_skew": "5m""#, with: #""max_skew": "5m","#))?.description,
                       "invalid JSON at line 15, column 1: expected a key in double quotes")
        XCTAssertEqual(error(reading: "{\"name\": \"a\"} x")?.description,
                       "invalid JSON at line 1, column 15: unexpected text after the JSON value")
        XCTAssertEqual(error(reading: "")?.description, "invalid JSON at line 1, column 1: expected a value, found the end of the text")
        XCTAssertNotNil(error(reading: "{\"name\": \"\u{1}\"}"))
        XCTAssertNotNil(error(reading: "{\"name\": \"\\ud800\"}"))
        XCTAssertNotNil(error(reading: String(repeating: "[", count: 100)))
        XCTAssertThrowsError(try Policy(json: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]))
    }

    func testEscapesAndAByteOrderMarkAreRead() throws {
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]
        bytes += Array(spec(replacing: #""name": "web-28d""#, with: #""name": "w\u00e9b \ud83d\ude00 \"x\"""#).utf8)
        XCTAssertEqual(try Policy(json: bytes).name, "wéb 😀 \"x\"")
    }
}
