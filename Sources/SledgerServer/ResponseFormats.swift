import Hummingbird
import SessionLedger
import SledgerReports

/// The answer's format: `?format=` first, else the `Accept` header, else JSON.
enum ResponseFormat {
    static func choose(_ request: Request) throws -> OutputFormat {
        if let name = request.uri.queryParameters["format"] {
            guard let format = OutputFormat(rawValue: String(name)) else {
                throw QueryArgumentError("format: expected json, ndjson, csv or table")
            }
            return format
        }
        let accept = request.headers[.accept] ?? ""
        if accept.contains("application/x-ndjson") || accept.contains("application/ndjson") { return .ndjson }
        if accept.contains("text/csv") { return .csv }
        if accept.contains("text/plain") { return .table }
        return .json
    }

    static func contentType(_ format: OutputFormat) -> String {
        switch format {
        case .json: "application/json"
        case .ndjson: "application/x-ndjson"
        case .csv: "text/csv; charset=utf-8"
        case .table: "text/plain; charset=utf-8"
        }
    }

    static func response(_ format: OutputFormat, _ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: contentType(format)],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Error answers: one JSON object with the message (and, for bad input, the line and key).
enum ErrorBody {
    static func response(_ status: HTTPResponse.Status, _ message: String, line: Int? = nil, key: String? = nil) -> Response {
        let text = RecordPrinter.object(
            fields: ["error", "line", "key"],
            cells: [.string(message), line.map { .integer(Int64($0)) } ?? .absent, key.map(Cell.string) ?? .absent])
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    /// The answer for an error a handler threw: the caller's mistakes are 4xx with the same
    /// one-line message the command line prints; the ledger's problems are 5xx.
    static func response(for error: any Error) -> Response {
        switch error {
        case let error as QueryArgumentError:
            return response(.badRequest, error.message)
        case let error as InputError:
            return response(.badRequest, error.description, line: error.line, key: error.key)
        case let error as InputErrors:
            let first = error.errors.first
            return response(.badRequest, error.description, line: first?.line, key: first?.key)
        case is GroupCommitWriter.Stopping:
            return response(.serviceUnavailable, "the server is shutting down; nothing of this request was stored")
        case let error as LedgerError:
            if case .storage(let cause, _) = error, cause.code == .noSpace {
                return response(.init(code: 507, reasonPhrase: "Insufficient Storage"), error.description)
            }
            return response(.internalServerError, error.description)
        case let error as HTTPError:
            return response(error.status, error.body ?? "\(error.status)")
        default:
            return response(.internalServerError, "\(error)")
        }
    }
}
