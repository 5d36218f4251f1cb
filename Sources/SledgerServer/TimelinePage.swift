import SessionLedger

/// The timeline page: server-rendered HTML with its CSS inline, no script, no external asset.
///
/// A user's sessions are bars across one time axis, coloured by client; each applied
/// refresh is a tick; the end is marked with its reason (logout, log out of all, token
/// deleted, expired) or left open while active; findings are flagged on the bar at their
/// instant and listed below. "Who was signed in at T" lists the users and sessions active
/// at T and draws T across the timeline. Every element a check needs carries `data-`
/// attributes (Tools/timeline_check.py reads them from the DOM Chromium builds).
enum TimelinePage {
    struct Session: Sendable {
        var state: SessionState
        /// The instants of the refreshes that extended it.
        var refreshes: [Instant]
        var findings: [Finding]
    }

    struct Data: Sendable {
        var now: Instant
        var user: String?
        var at: Instant?
        var events = 0
        var range: (first: Instant, last: Instant)?
        var users: [String] = []
        var sessions: [Session] = []
        /// Every finding of the user's events, in the order their events apply.
        var findings: [Finding] = []
        /// The instants of the user's events (to size the axis).
        var eventTimes: [Instant] = []
        var signedIn: [SessionState]?
    }

    static func render(_ page: Data) -> String {
        var h = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>sledger\(page.user.map { " · " + escape($0) } ?? "")</title>
            <style>\(style)</style></head><body>
            <header><h1>sledger</h1><p class="summary">\(page.events) events
            """
        if let range = page.range { h += " from \(range.first) to \(range.last)" }
        h += " · \(page.users.count) users · times in UTC</p></header>\n"
        h += form(page)
        if let user = page.user { h += timeline(page, user: user) }
        if let at = page.at, let signedIn = page.signedIn { h += who(at: at, signedIn) }
        if page.user == nil && page.at == nil {
            h += "<p class=\"hint\">Pick a user to see their sessions, or an instant to see who was signed in then.</p>\n"
        }
        return h + "</body></html>\n"
    }

    private static func form(_ page: Data) -> String {
        var h = "<form method=\"get\" action=\"/\" id=\"pick\">\n"
        h += "<label>User <input name=\"user\" list=\"users\" value=\"\(escape(page.user ?? ""))\" placeholder=\"user id\"></label>\n"
        h += "<datalist id=\"users\">" + page.users.map { "<option value=\"\(escape($0))\">" }.joined() + "</datalist>\n"
        let picked = page.at.map { String($0.description.prefix(19)) } ?? ""
        h += "<label>Who was signed in at <input type=\"datetime-local\" name=\"at\" step=\"1\" value=\"\(picked)\"> UTC</label>\n"
        h += "<button type=\"submit\">Show</button></form>\n"
        return h
    }

    // MARK: - The timeline

    private struct Axis {
        var start: Int64
        var end: Int64

        func percent(_ t: Instant) -> Double {
            let p = Double(t.nanoseconds - start) / Double(end - start) * 100
            return min(100, max(0, p))
        }

        func contains(_ t: Instant) -> Bool { t.nanoseconds >= start && t.nanoseconds <= end }
    }

    private static func axis(_ page: Data) -> Axis {
        var times = page.eventTimes.map(\.nanoseconds)
        for session in page.sessions {
            times.append(session.state.loginAt.nanoseconds)
            if let ended = session.state.endedAt { times.append(ended.nanoseconds) }
        }
        if let at = page.at { times.append(at.nanoseconds) }
        let low = times.min() ?? page.now.nanoseconds, high = times.max() ?? page.now.nanoseconds
        let span = max(high - low, 3_600_000_000_000)
        return Axis(start: low - span / 25, end: low + span + span / 25)
    }

    private static func timeline(_ page: Data, user: String) -> String {
        var h = "<section id=\"timeline\" data-user=\"\(escape(user))\">\n<h2>Sessions of \(escape(user))</h2>\n"
        guard !page.sessions.isEmpty else {
            return h + "<p class=\"empty\">No session of this user in the ledger.</p></section>\n"
        }
        let axis = axis(page)
        h += "<div class=\"grid\">\n<div class=\"label\"></div><div class=\"lane scale\">"
        for (t, text) in scale(axis) {
            h += "<span class=\"mark\" style=\"left:\(format(axis.percent(t)))%\">\(text)</span>"
        }
        h += "</div>\n"
        for session in page.sessions { h += row(session, axis: axis, page: page) }
        h += "</div>\n" + legend(page.sessions) + findings(page.findings)
        return h + "</section>\n"
    }

    private static func row(_ session: Session, axis: Axis, page: Data) -> String {
        let s = session.state
        let status = s.status(at: page.now)
        // The end of the active interval: an event that ended it, an expiry that has passed,
        // or none yet (the bar runs to the edge).
        var end: Instant?
        var reason: String?
        if let ended = s.endedAt, s.expiresAt.map({ ended < $0 }) ?? true, let why = s.endReason {
            end = ended
            reason = why.name
        } else if let expires = s.expiresAt, expires <= page.now {
            end = expires
            reason = "expired"
        }
        var h = "<div class=\"label\"><b>\(escape(s.session))</b><small>\(escape(s.client)) · \(escape(s.method))"
        h += s.isToken ? " · token" : ""
        h += "</small></div>\n"
        h += "<div class=\"lane\" data-session=\"\(escape(s.session))\" data-client=\"\(escape(s.client))\" data-status=\"\(status.name)\""
        h += " data-login-at=\"\(s.loginAt)\"" + (reason.map { " data-end-reason=\"\($0)\"" } ?? "")
        h += end.map { " data-end-at=\"\($0)\"" } ?? ""
        h += ">"
        let left = axis.percent(s.loginAt)
        let right = end.map { axis.percent($0) } ?? 100
        let open = end.map { !axis.contains($0) } ?? true
        var title = "\(s.session) (\(s.client), \(s.method)): signed in \(s.loginAt)"
        if let end, let reason {
            title += reason == "expired" ? ", expired \(end)" : ", ended \(end) by \(endText(reason))"
        } else {
            title += ", still active"
        }
        if let expires = s.expiresAt, end == nil { title += ", expires \(expires)" }
        h += "<span class=\"bar\(open ? " open" : "")\" style=\"left:\(format(left))%;width:\(format(max(right - left, 0.4)))%;"
        h += "background:\(colour(s.client))\" title=\"\(escape(title))\"></span>"
        for t in session.refreshes where axis.contains(t) {
            h += "<span class=\"tick\" data-at=\"\(t)\" style=\"left:\(format(axis.percent(t)))%\" title=\"refresh at \(t)\"></span>"
        }
        if let reason, let end, axis.contains(end) {
            h += "<span class=\"end\" data-reason=\"\(reason)\" style=\"left:\(format(right))%\" title=\"\(endText(reason)) at \(end)\">\(endText(reason))</span>"
        } else {
            let text = reason.map { "\(endText($0)) \(end!.description.prefix(10))" }
                ?? (s.expiresAt.map { "active, expires \($0.description.prefix(10))" } ?? "active")
            h += "<span class=\"end beyond\" data-reason=\"\(reason ?? "active")\" style=\"left:100%\">→ \(escape(text))</span>"
        }
        for finding in session.findings {
            h += "<span class=\"flag \(finding.severity.name)\" data-rule=\"\(finding.rule.name)\" data-seq=\"\(finding.seq)\""
            h += " style=\"left:\(format(axis.percent(finding.at)))%\" title=\"\(escape("#\(finding.seq) \(finding.rule.name): \(finding.message)"))\">!</span>"
        }
        if let at = page.at {
            h += "<span class=\"cursor\" style=\"left:\(format(axis.percent(at)))%\"></span>"
        }
        return h + "</div>\n"
    }

    /// Labels at round steps (an hour up to a week), at most about eight across.
    private static func scale(_ axis: Axis) -> [(Instant, String)] {
        let hour: Int64 = 3_600_000_000_000
        let steps: [Int64] = [1, 2, 3, 6, 12, 24, 48, 96, 168, 336, 672].map { $0 * hour }
        let span = axis.end - axis.start
        let step: Int64 = steps.first(where: { span / $0 <= 8 }) ?? steps[steps.count - 1]
        var marks: [(Instant, String)] = []
        var t = (axis.start / step + 1) * step
        while t < axis.end {
            let text = Instant(nanoseconds: t).description
            // "04-06 12:00" from "2026-04-06T12:00:00Z"
            let day = text.dropFirst(5).prefix(5), time = text.dropFirst(11).prefix(5)
            marks.append((Instant(nanoseconds: t), step >= 24 * hour ? String(day) : "\(day) \(time)"))
            t += step
        }
        return marks
    }

    private static func legend(_ sessions: [Session]) -> String {
        var seen: [String] = []
        for s in sessions where !seen.contains(s.state.client) { seen.append(s.state.client) }
        var h = "<ul class=\"legend\">"
        for client in seen { h += "<li><span class=\"swatch\" style=\"background:\(colour(client))\"></span>\(escape(client))</li>" }
        h += "<li><span class=\"tick-sample\"></span>refresh</li><li><span class=\"flag-sample\">!</span>finding</li></ul>\n"
        return h
    }

    private static func findings(_ findings: [Finding]) -> String {
        guard !findings.isEmpty else { return "<p class=\"clean\">No findings for this user.</p>\n" }
        var h = "<table class=\"findings\"><caption>Findings</caption><tr><th>rule</th><th>severity</th><th>seq</th><th>at</th><th>session</th><th>message</th></tr>\n"
        for f in findings {
            h += "<tr class=\"\(f.severity.name)\" data-rule=\"\(f.rule.name)\"><td>\(f.rule.name)</td><td>\(f.severity.name)</td><td>\(f.seq)</td>"
            h += "<td>\(f.at)</td><td>\(escape(f.session ?? "-"))</td><td>\(escape(f.message))</td></tr>\n"
        }
        return h + "</table>\n"
    }

    // MARK: - Who was signed in

    private static func who(at: Instant, _ sessions: [SessionState]) -> String {
        var h = "<section id=\"who\" data-at=\"\(at)\"><h2>Signed in at \(at)</h2>\n"
        guard !sessions.isEmpty else { return h + "<p class=\"empty\">Nobody.</p></section>\n" }
        // Grouped in one pass (a filter of every session for each user was quadratic: 387 s
        // for the 125,000 sessions signed in at an instant of a 100M-event ledger).
        var grouped: [ByteIdentity: [SessionState]] = [:]
        for state in sessions { grouped[ByteIdentity(state.user), default: []].append(state) }
        let byUser = SessionQuery.who(sessions).map { ($0.user, grouped[ByteIdentity($0.user)] ?? []) }
        h += "<table><tr><th>user</th><th>sessions</th><th>which</th></tr>\n"
        for (user, list) in byUser {
            h += "<tr data-user=\"\(escape(user))\" data-sessions=\"\(list.count)\"><td><a href=\"/?user=\(percentEncode(user))&amp;at=\(at)\">\(escape(user))</a></td><td>\(list.count)</td><td>"
            h += list.map { "<span class=\"chip\" style=\"border-color:\(colour($0.client))\">\(escape($0.session)) (\(escape($0.client)))</span>" }.joined(separator: " ")
            h += "</td></tr>\n"
        }
        return h + "</table></section>\n"
    }

    // MARK: - Helpers

    static func endText(_ reason: String) -> String {
        switch reason {
        case "logout": "logout"
        case "logout_all": "log out of all"
        case "token_deleted": "token deleted"
        case "expired": "expired"
        default: reason
        }
    }

    /// A colour per client: fixed for the clients SPEC.md names, picked from a palette for others.
    static func colour(_ client: String) -> String {
        switch client {
        case "web": return "#2b6cb0"
        case "ios": return "#805ad5"
        case "android": return "#2f855a"
        case "desktop": return "#c05621"
        case "code": return "#4a5568"
        default:
            let palette = ["#b83280", "#2c7a7b", "#975a16", "#9b2c2c", "#5a67d8"]
            let sum = client.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF }
            return palette[sum % palette.count]
        }
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if c.isASCII && (c.isLetter || c.isNumber || "-._~@".contains(c)) { out.append(c) } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }

    private static func format(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        return "\(hundredths / 100).\(String(hundredths % 100).leftPadded(2))"
    }

    static let style = """
        body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:0 24px 48px;color:#1a202c;background:#fff}
        header{display:flex;align-items:baseline;gap:16px;border-bottom:1px solid #e2e8f0;margin-bottom:16px}
        h1{font-size:22px;margin:14px 0}.summary{color:#4a5568;margin:0}
        h2{font-size:18px;margin:24px 0 10px}
        form{display:flex;flex-wrap:wrap;gap:16px;align-items:end;background:#f7fafc;border:1px solid #e2e8f0;border-radius:6px;padding:12px}
        label{display:flex;flex-direction:column;font-size:13px;color:#4a5568;gap:4px}
        input{font:inherit;padding:4px 6px;border:1px solid #cbd5e0;border-radius:4px;min-width:260px}
        button{font:inherit;padding:5px 16px;border:0;border-radius:4px;background:#2b6cb0;color:#fff;cursor:pointer}
        .grid{display:grid;grid-template-columns:220px 1fr;row-gap:10px;column-gap:12px;align-items:center;margin-right:150px}
        .label b{display:block;font-weight:600;overflow-wrap:anywhere}.label small{color:#718096}
        .lane{position:relative;height:34px;background:repeating-linear-gradient(90deg,#f7fafc 0 1px,transparent 1px 100%);border-bottom:1px dashed #e2e8f0}
        .lane.scale{height:22px;border-bottom:1px solid #a0aec0}
        .mark{position:absolute;bottom:2px;transform:translateX(-50%);font-size:12px;color:#4a5568;white-space:nowrap}
        .mark::after{content:"";position:absolute;left:50%;bottom:-4px;height:4px;border-left:1px solid #a0aec0}
        .bar{position:absolute;top:9px;height:16px;border-radius:3px;opacity:.9}
        .bar.open{border-top-right-radius:0;border-bottom-right-radius:0}
        .tick{position:absolute;top:5px;height:24px;width:2px;margin-left:-1px;background:#1a202c}
        .end{position:absolute;top:8px;margin-left:4px;font-size:12px;white-space:nowrap;padding:0 4px;border-left:3px solid #1a202c;background:#fff;line-height:18px}
        .end[data-reason=expired]{border-left-style:dotted;color:#4a5568}
        .end[data-reason=logout_all],.end[data-reason=token_deleted]{border-left-color:#c53030;color:#9b2c2c}
        .end.beyond{border-left:0;color:#4a5568}
        .flag{position:absolute;top:-4px;width:16px;height:16px;margin-left:-8px;border-radius:50%;font-size:11px;font-weight:700;line-height:16px;text-align:center;color:#fff;cursor:help}
        .flag.error{background:#c53030}.flag.warning{background:#d69e2e}
        .cursor{position:absolute;top:-4px;bottom:-6px;border-left:2px solid #e53e3e}
        .legend{list-style:none;display:flex;gap:18px;padding:0;margin:16px 0;font-size:13px;color:#4a5568}
        .legend li{display:flex;align-items:center;gap:6px}
        .swatch{display:inline-block;width:22px;height:12px;border-radius:2px}
        .tick-sample{display:inline-block;width:2px;height:14px;background:#1a202c}
        .flag-sample{display:inline-block;width:14px;height:14px;border-radius:50%;background:#c53030;color:#fff;font-size:10px;text-align:center;line-height:14px;font-weight:700}
        table{border-collapse:collapse;width:100%;font-size:13px;margin-top:8px}
        caption{text-align:left;font-weight:600;padding:6px 0}
        th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e2e8f0;vertical-align:top}
        .findings td:nth-child(-n+4){white-space:nowrap}
        tr.error td:first-child{color:#c53030;font-weight:600}tr.warning td:first-child{color:#b7791f;font-weight:600}
        .chip{display:inline-block;border:2px solid;border-radius:10px;padding:0 8px;margin:1px 0}
        .hint,.empty,.clean{color:#4a5568}
        """
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
