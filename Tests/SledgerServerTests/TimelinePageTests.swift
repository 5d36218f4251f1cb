import Foundation
import XCTest

/// The page's HTML as served (Tools/timeline_check.py checks it in Chromium too): the
/// fixture's stories, worked out by hand in Fixtures/incident-april/README.md.
final class TimelinePageTests: XCTestCase {
    func attributes(_ name: String, in html: String) -> [String] {
        html.components(separatedBy: " \(name)=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }

    func testDanasSessionsEndByLogOutOfAllByLogoutAndByExpiryWithTheirTicksAndFlags() async throws {
        let server = try ServerProcess(self)
        try await server.post(try repositoryFile("Fixtures/incident-april/events.ndjson")).assertOK()
        let page = try await server.get("/?user=dana.okafor@acme.example&at=2026-04-06T10:00")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.contentType, "text/html; charset=utf-8")
        XCTAssertEqual(attributes("data-session", in: page.text), ["s_dana_web", "s_dana_ios", "s_dana_web2"])
        XCTAssertEqual(attributes("data-end-reason", in: page.text), ["logout_all", "logout", "expired"])
        XCTAssertEqual(attributes("data-rule", in: page.text.components(separatedBy: "<table class=\"findings\"")[0]),
                       ["refresh-after-end", "refresh-after-end", "late-event", "early-refresh"])
        XCTAssertEqual(page.text.components(separatedBy: "class=\"tick\"").count - 1, 2, "refreshes at 09:10 and 14:20")
        // Who at 10:00 on 04-06: Dana, with her web and phone sessions.
        XCTAssertEqual(attributes("data-sessions", in: page.text), ["2"])
        // The picker offers every user the log names, in the order of their bytes.
        let log = try repositoryFile("Fixtures/incident-april/events.ndjson")
        let named = Set(try log.split(separator: "\n").map { line in
            try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["user"] as? String)
        })
        let datalist = page.text.components(separatedBy: "<datalist id=\"users\">").last!.components(separatedBy: "</datalist>")[0]
        XCTAssertGreaterThan(named.count, 1)
        XCTAssertEqual(attributes("value", in: datalist), named.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
    }

    /// Two session ids equal as Unicode text but not as bytes are two sessions (SPEC.md
    /// section 2): each bar has its own refreshes, not both.
    func testSessionsWhoseIdsDifferOnlyInTheirBytesKeepTheirOwnTicks() async throws {
        let server = try ServerProcess(self)
        let (composed, decomposed) = ("caf\u{E9}", "cafe\u{301}")
        XCTAssertEqual(composed, decomposed, "equal as Swift strings")
        for line in [
            #"{"type":"login","at":"2026-04-01T09:00:00Z","user":"ana","session":"\#(composed)","client":"web","method":"google"}"#,
            #"{"type":"login","at":"2026-04-01T09:01:00Z","user":"ana","session":"\#(decomposed)","client":"web","method":"google"}"#,
            #"{"type":"refresh","at":"2026-04-01T10:30:00Z","user":"ana","session":"\#(composed)"}"#,
            #"{"type":"refresh","at":"2026-04-01T11:00:00Z","user":"ana","session":"\#(decomposed)"}"#,
            #"{"type":"refresh","at":"2026-04-01T12:30:00Z","user":"ana","session":"\#(decomposed)"}"#,
        ] { try await server.post(line).assertOK() }
        let page = try await server.get("/?user=ana")
        let lanes = page.text.components(separatedBy: "<div class=\"lane\"").dropFirst()
        XCTAssertEqual(lanes.count, 2)
        let ticks = Dictionary(uniqueKeysWithValues: lanes.map { lane in
            (Array(attributes("data-session", in: " " + lane)[0].utf8), attributes("data-at", in: lane.components(separatedBy: "</div>")[0]).filter { $0.contains("T") }.count)
        })
        XCTAssertEqual(ticks[Array(composed.utf8)], 1)
        XCTAssertEqual(ticks[Array(decomposed.utf8)], 2)
    }

    func testAnIdWrittenInHTMLIsShownAsTextNeverAsMarkup() async throws {
        let server = try ServerProcess(self)
        let user = "<img src=x onerror=alert(1)>"
        try await server.post(#"{"type":"login","at":"2026-04-01T09:00:00Z","user":"\#(user)","session":"s\"1","client":"web","method":"google"}"#).assertOK()
        let page = try await server.get("/?user=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
        XCTAssertFalse(page.text.contains("<img"), "no tag made from the id")
        XCTAssertTrue(page.text.contains("&lt;img src=x onerror=alert(1)&gt;"))
        XCTAssertTrue(page.text.contains("data-session=\"s&quot;1\""))
    }
}
