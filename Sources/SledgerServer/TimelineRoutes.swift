import Hummingbird
import SessionLedger
import SledgerReports

/// `GET /?user=U&at=T`: the timeline page. The data comes from the same engine as the
/// queries: every user the ledger names for the picker (its `users` index), a fold of the
/// events the user's findings depend on (`replay --user U`'s: the user's sessions with each
/// applied refresh and every finding of their events), and `who` at T.
struct TimelineRoutes {
    let access: LedgerAccess
    let policy: Policy
    /// "Who was signed in at T" is `sessions` at T, in its lane.
    let lanes: QueryLanes

    func add(to router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in
            do {
                let q = QueryParameters(request)
                let user = q["user"].flatMap { $0.isEmpty ? nil : $0 }
                let at = try q["at"].flatMap { $0.isEmpty ? nil : $0 }.map { try TimelineRoutes.pickedInstant($0) }
                let policy = self.policy
                let page = try await access.query(in: at.map { lanes.lane(.at($0), counts: false) }) { ledger in
                    try TimelineRoutes.gather(ledger, policy: policy, user: user, at: at)
                }
                return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: TimelinePage.render(page))))
            } catch {
                return ErrorBody.response(for: error)
            }
        }
    }

    /// An instant from the page's time picker (`datetime-local`, in UTC, seconds optional)
    /// or written in full RFC 3339.
    static func pickedInstant(_ text: String) throws -> Instant {
        if let instant = Instant(rfc3339: text) { return instant }
        let completed = text.count == 16 ? text + ":00Z" : text + "Z"
        return try parseInstant(completed, option: "at")
    }

    static func gather(_ ledger: Ledger, policy: Policy, user: String?, at: Instant?) throws -> TimelinePage.Data {
        var page = TimelinePage.Data(now: Instant.now(), user: user, at: at)
        // Findings only for the user's events (none computed without a user).
        let fold = LedgerFold(policy: policy, findings: user.map { FindingFilter(user: $0) })
        // By the ids' bytes, as the fold tells sessions apart (two ids equal as Unicode text
        // but not as bytes are two sessions).
        var refreshes: [ByteIdentity: [Instant]] = [:]
        var events: [Instant] = []
        let trace: ((LedgerFold.Step) throws -> Void)? = user == nil ? nil : { step in
            events.append(step.event.event.at)
            for change in step.changes where change.after.refreshCount > (change.before?.refreshCount ?? 0) {
                refreshes[ByteIdentity(change.after.session), default: []].append(step.event.event.at)
            }
        }
        let result = try ledger.read { snapshot -> LedgerFold.Result? in
            page.events = Int(try snapshot.eventCount())
            page.range = try snapshot.timeRange()
            page.users = try snapshot.userNames()
            guard let user else { return nil }
            return try fold.run(UserLog(snapshot: snapshot, eventsOf: user), traceWhen: { $0.user.isSameID(as: user) }, trace: trace)
        }
        if let user, let result {
            page.findings = result.findings
            page.eventTimes = events
            var findings: [ByteIdentity: [Finding]] = [:]
            for finding in result.findings {
                if let session = finding.session { findings[ByteIdentity(session), default: []].append(finding) }
            }
            page.sessions = result.derivation.sessions(ofUser: user).map { state in
                TimelinePage.Session(state: state, refreshes: refreshes[ByteIdentity(state.session)] ?? [],
                                     findings: findings[ByteIdentity(state.session)] ?? [])
            }
        }
        if let at {
            page.signedIn = try ActiveSessions.find(ledger, policy: policy, when: .at(at)).sessions
        }
        return page
    }
}
