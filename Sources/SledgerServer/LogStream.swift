import Hummingbird
import ServiceLifecycle
import SessionLedger
import SledgerReports

/// `GET /v1/log?after=SEQ[&limit=N][&follow=true]`: stored events with `seq` and `recorded`
/// in `seq` order, streamed in chunks of short read transactions; with `follow` the answer
/// stays open and new events are sent as they are committed (polled every 100 ms), until
/// the client goes or the server stops. A followed log is NDJSON (or CSV): a JSON document
/// would never end.
struct LogStream {
    let access: LedgerAccess
    static let chunk = 1000

    func add(to router: Router<BasicRequestContext>) {
        router.get("/v1/log") { request, _ in
            await answer(request) { format, q in
                let after = try q["after"].map { try LogStream.number($0, "after") } ?? 0
                let limit = try q["limit"].map { Int(try LogStream.number($0, "limit")) } ?? Int.max
                let follow = ["true", "1", "yes"].contains(q["follow"] ?? "")
                var format = format
                if follow && format == .json {
                    guard q["format"] == nil else { throw QueryArgumentError("follow: a followed log is ndjson or csv, not json") }
                    format = .ndjson
                }
                let chosen = format
                let body = ResponseBody { writer in
                    try await stream(format: chosen, after: after, limit: limit, follow: follow, to: &writer)
                }
                return Response(status: .ok, headers: [.contentType: ResponseFormat.contentType(format)], body: body)
            }
        }
    }

    private func stream(format: OutputFormat, after: UInt64, limit: Int, follow: Bool,
                        to writer: inout any ResponseBodyWriter) async throws {
        let out = RecordCollector()
        var printer = RecordPrinter(format: format, fields: LogRecord.fields, output: out.output)
        var last = after
        var sent = 0
        while sent < limit {
            let from = last, wanted = min(LogStream.chunk, limit - sent)
            let events = try await access.query { ledger in
                try ledger.read { snapshot in
                    var events: [StoredEvent] = []
                    try snapshot.forEachEvent(after: from) { events.append($0); return events.count < wanted }
                    return events
                }
            }
            for event in events { LogRecord.add(event, to: &printer) }
            last = events.last?.seq ?? last
            sent += events.count
            printer.flush()
            let bytes = out.take()
            if !bytes.isEmpty { try await writer.write(ByteBuffer(bytes: bytes)) }
            if events.count == wanted { continue }
            guard follow, !Task.isShuttingDownGracefully, !Task.isCancelled else { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        printer.finish()
        let rest = out.take()
        if !rest.isEmpty { try await writer.write(ByteBuffer(bytes: rest)) }
        try await writer.finish(nil)
    }

    static func number(_ text: String, _ name: String) throws -> UInt64 {
        guard let value = UInt64(text) else { throw QueryArgumentError("\(name): expected a whole number") }
        return value
    }
}
