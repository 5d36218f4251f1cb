import Hummingbird
import SessionLedger
import SledgerReports

/// The write side: `POST /v1/events`, an NDJSON body (or one JSON object with
/// `Content-Type: application/json`), all or nothing, answered once durable.
struct IngestRoutes {
    let writer: GroupCommitWriter
    /// The largest body accepted (413 beyond).
    static let maxBodyBytes = 64 << 20

    /// 413 for a request over a buffered server's limit (`GroupCommitWriter.requestLimit`).
    static func tooLarge(_ limit: GroupCommitWriter.Limit, _ holding: String) -> Response {
        ErrorBody.response(.contentTooLarge, "a request holds at most \(limit.events) events and \(limit.bytes >> 20) MiB when the server writes through buffers (--writes buffered, the default); this one holds \(holding): split it, or run the server with --writes mapped. Nothing was stored.")
    }

    func add(to router: Router<BasicRequestContext>) {
        router.post("/v1/events") { request, _ in
            do {
                var request = request
                let body = try await request.collectBody(upTo: IngestRoutes.maxBodyBytes)
                let bytes = Array(body.readableBytesView)
                if let limit = writer.requestLimit, bytes.count > limit.bytes {
                    return IngestRoutes.tooLarge(limit, "\(bytes.count) bytes")
                }
                // Parsed and validated here, on this request's task, before it joins a group.
                let isObject = request.headers[.contentType]?.hasPrefix("application/json") ?? false
                let batch = try isObject ? EventBatch.parse(object: bytes) : EventBatch.parse(ndjson: bytes)
                if let limit = writer.requestLimit, batch.count > limit.events {
                    return IngestRoutes.tooLarge(limit, "\(batch.count) events")
                }
                let receipt = try await writer.submit(batch)
                switch receipt.outcome {
                case .refused(let error):
                    return ErrorBody.response(.badRequest, error.description, line: error.line, key: error.key)
                case .stored(let imported, let duplicates):
                    let text = RecordPrinter.object(fields: ["imported", "duplicates", "seq"],
                                                    cells: [.integer(Int64(imported)), .integer(Int64(duplicates)),
                                                            .integer(Int64(receipt.head.seq))])
                    return Response(status: .ok, headers: [.contentType: "application/json"],
                                    body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
                }
            } catch {
                return ErrorBody.response(for: error)
            }
        }
    }
}
