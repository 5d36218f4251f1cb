import Foundation
import XCTest

/// Runs the real `sledger` executable built next to the tests.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum Sledger {
    /// The built executable: the tests and the tool share a products directory.
    static let executable: URL = {
        let candidates = [
            Bundle.main.bundleURL,
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle(for: Marker.self).bundleURL.deletingLastPathComponent(),
        ]
        for directory in candidates {
            let url = directory.appendingPathComponent("sledger")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        fatalError("the sledger executable was not found next to the tests (\(candidates))")
    }()

    final class Marker {}

    /// What one reader thread collected; read only after the group is done.
    final class Collected: @unchecked Sendable { var data = Data() }

    /// Runs `sledger ARGS` to completion with `stdin` as standard input.
    @discardableResult
    static func run(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) throws -> CommandResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SLEDGER_LEDGER")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try process.run()
        if let stdin {
            let writer = Thread {
                input.fileHandleForWriting.write(stdin)
                try? input.fileHandleForWriting.close()
            }
            writer.start()
        }
        // Read both pipes while it runs, so a large output cannot block it.
        let outData = Collected(), errData = Collected()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outData.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        process.waitUntilExit()
        group.wait()
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: outData.data, as: UTF8.self),
                             stderr: String(decoding: errData.data, as: UTF8.self))
    }

    /// Starts `sledger ARGS` and returns the running process (output discarded).
    static func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The number of events stored, read through `stats --format json`.
    static func eventCount(_ ledger: String) throws -> Int {
        let result = try run(["stats", "--ledger", ledger, "--format", "json"])
        guard result.status == 0 else { throw NSError(domain: "stats", code: Int(result.status), userInfo: [NSLocalizedDescriptionKey: result.stderr]) }
        let records = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [[String: Any]]
        return records[0]["events"] as! Int
    }

    static func digest(_ ledger: String) throws -> String {
        try run(["digest", "--ledger", ledger]).stdout
    }
}

/// A fresh temporary directory, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "sledger-cli-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// The repository's top folder.
let repositoryDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
    return url.deletingLastPathComponent().path
}()

let fixturesDirectory = repositoryDirectory + "/Fixtures"

/// Writes a deterministic NDJSON log of `count` events (every one with an id) to `path`.
func writeGeneratedLog(to path: String, count: Int, idPrefix: String = "e", agentBytes: Int = 0) throws {
    let agent = agentBytes > 0 ? #","agent":"\#(String(repeating: "a", count: agentBytes))""# : ""
    var text = ""
    text.reserveCapacity(count * 130)
    var state: UInt64 = 7
    func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }
    var seconds = 1_767_225_600  // 2026-01-01T00:00:00Z
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    for i in 0..<count {
        seconds += Int(next() % 30)
        let at = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        let user = next() % 2000
        if i % 10 == 0 {
            text += #"{"type":"login","at":"\#(at)","user":"u\#(user)","session":"s\#(i)","client":"web","method":"google","id":"\#(idPrefix)\#(i)"\#(agent)}"# + "\n"
        } else {
            text += #"{"type":"refresh","at":"\#(at)","user":"u\#(user)","session":"s\#(i - i % 10)","id":"\#(idPrefix)\#(i)"\#(agent)}"# + "\n"
        }
    }
    try text.write(toFile: path, atomically: false, encoding: .utf8)
}
