import Foundation
import XCTest

/// SIGTERM while clients are writing: the server answers what is in flight and exits 0, and
/// every acknowledged request is in the ledger, whole.
final class ServerShutdownTests: XCTestCase {
    /// What the writers saw; read after they are done.
    actor Acknowledged {
        var requests: [String] = []
        var refusedWhileStopping = 0
        func add(_ request: String) { requests.append(request) }
        func refused() { refusedWhileStopping += 1 }
    }

    func testShutdownWhileWritingLosesNothingAcknowledgedAndLeavesNoHalfRequest() async throws {
        try await writeThenStop { XCTAssertEqual($0.stop(), 0, "a graceful stop exits 0") }
    }

    /// An acknowledgement is sent only after the commit: a server killed outright (SIGKILL,
    /// no chance to finish anything) still has every request it acknowledged.
    func testAKilledServerStillHasEveryRequestItAcknowledged() async throws {
        try await writeThenStop { server in
            kill(server.process.processIdentifier, SIGKILL)
            XCTAssertEqual(server.stop(), SIGKILL)
        }
    }

    /// The same for a server writing through the map (`--writes mapped`; the default above
    /// writes through LMDB's buffers, decision 0012).
    func testAKilledServerWritingThroughTheMapStillHasEveryRequestItAcknowledged() async throws {
        try await writeThenStop(arguments: ["--writes", "mapped"]) { server in
            kill(server.process.processIdentifier, SIGKILL)
            XCTAssertEqual(server.stop(), SIGKILL)
        }
    }

    func writeThenStop(arguments: [String] = [], _ stop: (ServerProcess) -> Void) async throws {
        let server = try ServerProcess(self, arguments: arguments)
        let acknowledged = Acknowledged()
        let writers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<8 {
                    group.addTask {
                        for r in 0..<10_000 {
                            let request = "w\(w)-r\(r)"
                            let body = (0..<50).map { login("\(request)-e\($0)", user: "user\(w)") }.joined(separator: "\n")
                            guard let answer = try? await server.post(body) else { return }  // connection refused: stopped
                            if answer.status == 200 {
                                await acknowledged.add(request)
                            } else {
                                XCTAssertEqual(answer.status, 503, answer.text)
                                await acknowledged.refused()
                                return
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        // Let the writers get going, then stop the server under them.
        try await Task.sleep(nanoseconds: 1_500_000_000)
        let before = await acknowledged.requests.count
        XCTAssertGreaterThan(before, 0, "the writers were writing")
        stop(server)
        try await writers.value
        let requests = await acknowledged.requests

        // Read the ledger back through a new server on the same directory.
        let reader = try ServerProcess(self, ledger: server.ledger)
        let log = try await reader.get("/v1/log?format=ndjson")
        let ids = log.lines.compactMap { $0["id"] as? String }
        let stored = Set(ids)
        for request in requests {
            for e in 0..<50 { XCTAssertTrue(stored.contains("\(request)-e\(e)"), "acknowledged \(request) is whole") }
        }
        // Nothing half-written: every stored request has all its 50 events.
        var perRequest: [Substring: Int] = [:]
        for id in ids { perRequest[id[..<id.lastIndex(of: "-")!], default: 0] += 1 }
        XCTAssertTrue(perRequest.values.allSatisfy { $0 == 50 }, "\(perRequest.filter { $0.value != 50 })")
        XCTAssertGreaterThanOrEqual(perRequest.count, requests.count)
    }
}
