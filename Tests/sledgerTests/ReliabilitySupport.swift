import Foundation
import XCTest

/// Helpers for the short versions of the reliability campaigns (Tools/reliability/).
enum Campaign {
    /// Starts `sledger ARGS` with standard input from `stdinFile` (or nothing) and output discarded.
    static func start(_ arguments: [String], stdinFile: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = Sledger.executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SLEDGER_LEDGER")
        env["SWIFT_BACKTRACE"] = "enable=no"
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        if let stdinFile {
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdinFile))
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    /// Runs a call (`import FILE` or `append < FILE`) to completion.
    static func call(_ mode: String, ledger: String, file: String) throws -> CommandResult {
        if mode == "import" { return try Sledger.run(["import", "--ledger", ledger, file]) }
        return try Sledger.run(["append", "--ledger", ledger], stdin: try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    /// The ids of an NDJSON file, in order.
    static func ids(ofFile path: String) throws -> [String] {
        try ids(ofNDJSON: String(contentsOfFile: path, encoding: .utf8))
    }

    static func ids(ofNDJSON text: String) throws -> [String] {
        try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return object["id"] as! String
        }
    }

    /// The ledger's log as (seq, id) pairs, through `log --format ndjson`.
    static func log(_ ledger: String) throws -> [(seq: Int, id: String)] {
        let result = try Sledger.run(["log", "--ledger", ledger, "--format", "ndjson"])
        guard result.status == 0 else {
            throw NSError(domain: "log", code: Int(result.status), userInfo: [NSLocalizedDescriptionKey: result.stderr])
        }
        return try result.stdout.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return (object["seq"] as! Int, object["id"] as! String)
        }
    }

    struct Audit {
        var lost = 0, partial = 0, duplicated = 0, gaps = 0, notContiguous = 0, strays = 0
        var present: [Bool] = []
        var violations: Int { lost + partial + duplicated + gaps + notContiguous + strays }
    }

    /// Every id of an acknowledged call present exactly once; an unacknowledged call entirely or
    /// not at all; seq 1...N; each call's events contiguous and in order; nothing from elsewhere.
    static func audit(log: [(seq: Int, id: String)], calls: [(ids: [String], acknowledged: Bool)]) -> Audit {
        var audit = Audit()
        var position: [String: Int] = [:]
        for (i, entry) in log.enumerated() {
            if entry.seq != i + 1 { audit.gaps += 1 }
            if position[entry.id] != nil { audit.duplicated += 1 } else { position[entry.id] = i }
        }
        var known = Set<String>()
        for call in calls {
            known.formUnion(call.ids)
            let here = call.ids.compactMap { position[$0] }
            if call.acknowledged { audit.lost += call.ids.count - here.count }
            else if !here.isEmpty && here.count < call.ids.count { audit.partial += 1 }
            if let first = here.first, here != Array(first..<(first + here.count)) { audit.notContiguous += 1 }
            audit.present.append(here.count == call.ids.count)
        }
        audit.strays = log.filter { !known.contains($0.id) }.count
        return audit
    }

    /// Runs Tools/reliability/audit.py with `arguments`; returns its standard output, trimmed.
    static func auditTool(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [repositoryDirectory + "/Tools/reliability/audit.py"] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "audit.py", code: Int(process.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "\(arguments)"])
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? -1
    }
}
