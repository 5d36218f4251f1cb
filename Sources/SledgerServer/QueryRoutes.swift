import Foundation
import Hummingbird
import SessionLedger
import SledgerReports

/// The read side: the queries of SPEC.md section 6, with the CLI's engine, field names and
/// formats (`SledgerReports`), each on a worker thread in one read transaction.
struct QueryRoutes {
    let access: LedgerAccess
    let policy: Policy
    /// `who` past the last checkpoint and `sessions` past the last event, kept between requests.
    let tail: LiveTail
    /// How many folding queries run at once.
    let lanes: QueryLanes

    init(access: LedgerAccess, policy: Policy, lanes: QueryLanes) {
        self.access = access
        self.policy = policy
        self.lanes = lanes
        tail = LiveTail(policy: policy)
    }

    func add(to router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}\n")))
        }
        router.get("/v1/sessions") { request, _ in
            await answer(request) { format, q in
                let when = try TimeSelection.parse(at: q["at"], from: q["from"], to: q["to"])
                let (user, client) = (q["user"], q["client"])
                return try await render(format, lane: user == nil ? lanes.lane(when, counts: false) : nil) {
                    try ActiveSessions.printSessions($0, policy: policy, when: when, user: user, client: client, format: format, output: $1, tail: tail)
                }
            }
        }
        router.get("/v1/who") { request, _ in
            await answer(request) { format, q in
                let when = try TimeSelection.parse(at: q["at"], from: q["from"], to: q["to"])
                let client = q["client"]
                return try await render(format, lane: lanes.lane(when, counts: true)) {
                    try ActiveSessions.printWho($0, policy: policy, when: when, client: client, format: format, output: $1, tail: tail)
                }
            }
        }
        router.get("/v1/sessions/{id}") { request, context in
            await answer(request) { format, q in
                let id = try QueryRoutes.pathID(context)
                let t = try q["at"].map { try parseInstant($0, option: "at") } ?? Instant.now()
                let bytes = try await access.query { ledger -> [UInt8]? in
                    let out = RecordCollector()
                    guard try SessionReport.print(ledger, policy: policy, id: id, at: t, format: format, output: out.output) else { return nil }
                    return out.finish()
                }
                guard let bytes else { return ErrorBody.response(.notFound, "no session \(id) in the ledger as of \(t)") }
                return ResponseFormat.response(format, bytes)
            }
        }
        router.get("/v1/users/{id}") { request, context in
            await answer(request) { format, q in
                let id = try QueryRoutes.pathID(context)
                let t = try q["at"].map { try parseInstant($0, option: "at") } ?? Instant.now()
                return try await render(format) {
                    try ActiveSessions.printUser($0, policy: policy, user: id, at: t, format: format, output: $1)
                }
            }
        }
        router.get("/v1/replay") { request, _ in
            await answer(request) { format, q in
                let filter = FindingFilter(user: q["user"], session: q["session"],
                                           from: try q["from"].map { try parseInstant($0, option: "from") },
                                           to: try q["to"].map { try parseInstant($0, option: "to") })
                // One user's or session's replay reads through the indexes (FindingReport.replay).
                return try await render(format, lane: filter.readsASlice ? nil : lanes.long) { ledger, out in
                    let report = FindingReport(format: format, tracing: false, output: out)
                    var fold = LedgerFold(policy: policy, findings: filter)
                    fold.retireEvery = LedgerFold.replayRetireEvery
                    let result = try report.replay(ledger, fold: fold)
                    report.finish(.init(result), traced: [])
                }
            }
        }
        router.get("/v1/stats") { request, _ in
            await answer(request) { format, _ in
                try await render(format) { try StatsRecord.print($0, format: format, output: $1) }
            }
        }
    }

    /// The `{id}` of the path, percent-decoded (an id may hold `/`, spaces, anything but
    /// control characters).
    static func pathID(_ context: BasicRequestContext) throws -> String {
        let raw = try context.parameters.require("id")
        guard let id = raw.removingPercentEncoding else { throw QueryArgumentError("id: invalid percent-encoding") }
        return id
    }

    /// Runs a query that prints its whole answer into a spool (memory, then a temporary file),
    /// once its `lane` has room, and answers with the spool once the query is done: with an
    /// error when it fails. The lane's place is given back before the answer is sent.
    func render(_ format: OutputFormat, lane: QueryLane? = nil,
                _ body: @escaping @Sendable (Ledger, RecordOutput) throws -> Void) async throws -> Response {
        let answer = try await access.query(in: lane) { ledger in
            let spool = AnswerSpool()
            try body(ledger, spool.output)
            try spool.finish()
            return spool
        }
        return Response(status: .ok, headers: [.contentType: ResponseFormat.contentType(format)], body: answer.body())
    }
}

/// The query string as plain strings (percent-decoded).
struct QueryParameters: Sendable {
    private let values: [String: String]

    init(_ request: Request) {
        var values: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { values[String(key)] = String(value) }
        self.values = values
    }

    subscript(_ name: String) -> String? { values[name] }
}

/// Chooses the format, runs `body`, and turns whatever it throws into an error answer.
func answer(_ request: Request, _ body: (OutputFormat, QueryParameters) async throws -> Response) async -> Response {
    do {
        return try await body(try ResponseFormat.choose(request), QueryParameters(request))
    } catch {
        return ErrorBody.response(for: error)
    }
}
