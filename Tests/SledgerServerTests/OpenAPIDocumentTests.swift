import Foundation
import SessionLedger
@testable import SledgerServer
import XCTest

/// docs/openapi.json matches the server: the same routes, and every documented GET answers
/// a real request with a documented status and content type.
final class OpenAPIDocumentTests: XCTestCase {
    func document() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(try repositoryFile("docs/openapi.json").utf8)) as! [String: Any]
    }

    func testTheDocumentNamesExactlyTheRoutesTheServerRegisters() throws {
        let paths = try document()["paths"] as! [String: [String: Any]]
        let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })
        let access = try LedgerAccess(path: try temporaryLedger(self), room: 1 << 20)
        let writer = GroupCommitWriter(access: access)
        defer { writer.stop() }
        let router = SledgerServer.router(access: access, writer: writer, policy: .default, tokens: nil, lanes: QueryLanes(policy: .default, long: 1))
        // Hummingbird writes a parameter as `{id}` or `:id`; OpenAPI as `{id}`.
        let registered = Set(router.routes.map { route in
            "\(route.method) " + "\(route.path)".split(separator: "/", omittingEmptySubsequences: false).map {
                $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0)
            }.joined(separator: "/")
        }.map { $0 == "GET " ? "GET /" : $0 })
        XCTAssertEqual(registered, documented)
    }

    func testEveryDocumentedReadAnswersWithADocumentedStatusAndContentType() async throws {
        let document = try document()
        let paths = document["paths"] as! [String: [String: Any]]
        let shared = (document["components"] as! [String: Any])["responses"] as! [String: [String: Any]]
        let server = try ServerProcess(self)
        try await server.post(try repositoryFile("Fixtures/incident-april/events.ndjson")).assertOK()
        let examples = ["{id}": "s_dana_web"]
        let userExample = "dana.okafor@acme.example"
        for (path, operations) in paths {
            guard let get = operations["get"] as? [String: Any] else { continue }
            var concrete = path.replacingOccurrences(of: "{id}", with: examples["{id}"]!)
            if path == "/v1/users/{id}" { concrete = "/v1/users/\(userExample)" }
            let responses = get["responses"] as! [String: [String: Any]]
            for format in ["json", "ndjson", "csv"] where path != "/" && path != "/healthz" || format == "json" {
                let separator = concrete.contains("?") ? "&" : "?"
                let answer = try await server.get(path == "/" || path == "/healthz" ? concrete : concrete + separator + "format=\(format)")
                let documented = try XCTUnwrap(responses[String(answer.status)], "\(path) answered \(answer.status), not documented")
                let resolved = (documented["$ref"] as? String).map { shared[String($0.split(separator: "/").last!)]! } ?? documented
                let types = (resolved["content"] as? [String: Any]).map { Array($0.keys) } ?? []
                XCTAssertTrue(types.contains(answer.contentType), "\(path) \(format): \(answer.contentType) not in \(types)")
                XCTAssertEqual(answer.status, 200, "\(path) \(format): \(answer.text)")
            }
        }
    }
}
