import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// A real `sledger serve` process on an ephemeral loopback port, on a ledger in a fresh
/// temporary directory, stopped (SIGTERM) when the test ends.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let ledger: String
    private(set) var port = 0
    private let output = Pipe()
    private let errors = Pipe()

    /// The `sledger` executable built beside the test bundle.
    static let executable: URL = {
        let bundle = Bundle(for: ServerProcess.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("sledger") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }()

    /// Starts the server (with `environment` added to this process's) and waits for its
    /// "listening on" line.
    init(_ test: XCTestCase, ledger: String? = nil, arguments: [String] = [], environment: [String: String] = [:]) throws {
        self.ledger = try ledger ?? temporaryLedger(test)
        process.executableURL = ServerProcess.executable
        process.arguments = ["serve", "--ledger", self.ledger, "--listen", "127.0.0.1:0"] + arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        test.addTeardownBlock { [self] in stop() }
        // The first line of standard output: "listening on http://127.0.0.1:PORT".
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.waitUntilExit()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw NSError(domain: "serve", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "sledger serve did not start: \(text) \(stderr)"])
        }
        self.port = port
    }

    /// The permissions of the server's mapping of `data.mdb` in /proc/PID/maps ("rw-s" when
    /// LMDB writes through it, "r--s" when it only reads through it).
    func dataFileMapping() throws -> String? {
        let maps = try String(contentsOfFile: "/proc/\(process.processIdentifier)/maps", encoding: .utf8)
        let line = maps.split(separator: "\n").first { $0.hasSuffix("/data.mdb") }
        return line.map { String($0.split(separator: " ")[1]) }
    }

    /// Sends SIGTERM and waits for the exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func url(_ pathAndQuery: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(pathAndQuery)")! }

    /// One HTTP request on a new connection; the answer's status, headers and body.
    func request(_ method: String = "GET", _ pathAndQuery: String, body: Data? = nil,
                 headers: [String: String] = [:]) async throws -> HTTPAnswer {
        var request = URLRequest(url: url(pathAndQuery))
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 60
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await ServerProcess.session.data(for: request)
        let http = response as! HTTPURLResponse
        return HTTPAnswer(status: http.statusCode, contentType: http.value(forHTTPHeaderField: "Content-Type") ?? "", body: data)
    }

    func get(_ pathAndQuery: String, headers: [String: String] = [:]) async throws -> HTTPAnswer {
        try await request("GET", pathAndQuery, headers: headers)
    }

    func post(_ ndjson: String, headers: [String: String] = [:]) async throws -> HTTPAnswer {
        try await request("POST", "/v1/events", body: Data(ndjson.utf8), headers: headers)
    }

    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 128
        return URLSession(configuration: configuration)
    }()
}

struct HTTPAnswer {
    var status: Int
    var contentType: String
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as JSON (an object or an array).
    var json: Any { (try? JSONSerialization.jsonObject(with: body)) ?? NSNull() }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var records: [[String: Any]] { json as? [[String: Any]] ?? [] }
    /// The body as NDJSON objects.
    var lines: [[String: Any]] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}

/// A path for a ledger inside a fresh temporary directory, removed when the test ends.
func temporaryLedger(_ test: XCTestCase) throws -> String {
    let directory = NSTemporaryDirectory() + "sledger-serve-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
    return directory + "/ledger"
}

/// The repository's files (fixtures, docs).
let repositoryDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
    return url.deletingLastPathComponent().path
}()

func repositoryFile(_ path: String) throws -> String {
    try String(contentsOfFile: repositoryDirectory + "/" + path, encoding: .utf8)
}

/// A login event with an id, as one NDJSON line.
func login(_ id: String, user: String = "u1", session: String? = nil, at: String = "2026-04-01T09:00:00Z") -> String {
    #"{"type":"login","at":"\#(at)","user":"\#(user)","session":"\#(session ?? "s-" + id)","client":"web","method":"google","id":"\#(id)"}"#
}
