import Foundation
import SessionLedger
import XCTest

/// Short versions of Tools/reliability/crash_campaign.sh and concurrency_campaign.sh
/// (SPEC.md section 3: durability, atomic input, idempotency, concurrency).
final class ReliabilityCampaignTests: XCTestCase {
    /// 12 imports and appends killed with SIGKILL at random moments on one growing ledger: after
    /// each, `check` passes, no acknowledged event is lost, the killed call is all or nothing, and
    /// the same call run again converges on the ledger a run without kills gives. Half the calls
    /// write through LMDB's buffers (at most 2 MiB of input), half through the map (the same
    /// events with a long `agent`): decision 0012.
    func testKilledImportsAndAppendsLoseNothingLeaveNothingHalfWrittenAndConverge() throws {
        let dir = try temporaryDirectory(self)
        let ledger = dir + "/ledger"
        let size = 5_000
        // How long one call of each way takes here, to spread the kills over it.
        var duration: [Bool: TimeInterval] = [:]
        for mapped in [false, true] {
            let probe = dir + "/probe-\(mapped).ndjson"
            try writeGeneratedLog(to: probe, count: size, idPrefix: "probe-", agentBytes: mapped ? 500 : 0)
            let started = Date()
            XCTAssertEqual(try Sledger.run(["import", "--ledger", dir + "/probe-\(mapped)", probe]).status, 0)
            duration[mapped] = Date().timeIntervalSince(started)
        }

        var generator = SystemRandomNumberGenerator()
        var calls: [(ids: [String], acknowledged: Bool)] = []
        var expected: [String] = []
        var beforeCommit: [Bool: Int] = [false: 0, true: 0]
        var finished = 0
        for round in 0..<12 {
            let file = dir + "/r\(round).ndjson"
            let mapped = round % 4 >= 2  // so both ways are imported and appended
            try writeGeneratedLog(to: file, count: size, idPrefix: "r\(round)-", agentBytes: mapped ? 500 : 0)
            XCTAssertEqual(Campaign.fileSize(file) > Ledger.Writes.bufferedCallBytes, mapped, "round \(round)")
            let ids = try Campaign.ids(ofFile: file)
            let mode = round % 2 == 0 ? "import" : "append"
            let process = mode == "import"
                ? try Campaign.start(["import", "--ledger", ledger, file])
                : try Campaign.start(["append", "--ledger", ledger], stdinFile: file)
            usleep(UInt32(Double.random(in: 0...(1.3 * duration[mapped]!), using: &generator) * 1_000_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let acknowledged = process.terminationReason == .exit && process.terminationStatus == 0
            if acknowledged { finished += 1 }
            calls.append((ids, acknowledged))

            let check = try Sledger.run(["check", "--ledger", ledger])
            if round > 0 || acknowledged {
                XCTAssertEqual(check.status, 0, "round \(round): \(check.stdout)\(check.stderr)")
            }
            let log = (try? Campaign.log(ledger)) ?? []
            let audit = Campaign.audit(log: log, calls: calls)
            XCTAssertEqual(audit.violations, 0, "round \(round) (\(mode), acknowledged \(acknowledged)): \(audit)")
            if !acknowledged && !audit.present[round] { beforeCommit[mapped]! += 1 }

            // The same call again: it succeeds, and the ledger is the one a kill-free run makes.
            let rerun = try Campaign.call(mode, ledger: ledger, file: file)
            XCTAssertEqual(rerun.status, 0, "round \(round): \(rerun.stderr)")
            calls[round].acknowledged = true
            expected += ids
            let export = try Sledger.run(["export", "--ledger", ledger])
            XCTAssertEqual(try Campaign.ids(ofNDJSON: export.stdout), expected, "round \(round): the re-run did not converge")
        }
        XCTAssertEqual(try Sledger.run(["check", "--ledger", ledger]).status, 0)
        XCTAssertGreaterThan(beforeCommit[false]!, 0, "no kill landed before a buffered call's commit (finished first: \(finished))")
        XCTAssertGreaterThan(beforeCommit[true]!, 0, "no kill landed before a mapped call's commit (finished first: \(finished))")
    }

    /// A reader killed inside its read transaction leaves a stale slot in LMDB's reader table
    /// while another process keeps the ledger open; the next writer clears it (mdb_reader_check),
    /// so the pages the dead reader pinned are reused and the file does not grow for it.
    func testReadersKilledInsideATransactionAreClearedByTheNextWriter() throws {
        let dir = try temporaryDirectory(self)
        let ledger = dir + "/ledger", log = dir + "/log.ndjson"
        try writeGeneratedLog(to: log, count: 20_000)
        XCTAssertEqual(try Sledger.run(["import", "--ledger", ledger, log]).status, 0)
        // LMDB resets the reader table when the first process opens the ledger again, so keep it open.
        let follower = try Campaign.start(["log", "--ledger", ledger, "--follow", "--after", "20000"])
        defer { follower.terminate(); follower.waitUntilExit() }
        usleep(300_000)
        for _ in 0..<3 {
            // export blocks writing into a pipe nobody reads, inside its read transaction
            let process = Process()
            process.executableURL = Sledger.executable
            process.arguments = ["export", "--ledger", ledger]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(500_000)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            try? pipe.fileHandleForReading.close()
        }
        XCTAssertEqual(try Campaign.auditTool(["readers", ledger]), "3", "three stale reader slots")
        let usedBefore = try usedPages(ledger)
        for i in 0..<20 {
            let event = #"{"type":"logout","at":"2026-06-01T00:00:00Z","user":"u","session":"s","id":"stale-\#(i)"}"#
            XCTAssertEqual(try Sledger.run(["append", "--ledger", ledger], stdin: Data(event.utf8)).status, 0)
        }
        XCTAssertEqual(try Campaign.auditTool(["readers", ledger]), "0", "the writer cleared the stale slots")
        // With the slots cleared, 20 small appends reuse freed pages; a pinned snapshot costs ~18 pages each.
        XCTAssertLessThan(try usedPages(ledger) - usedBefore, 100)
        XCTAssertEqual(try Sledger.run(["check", "--ledger", ledger]).status, 0)
    }

    /// Three writer processes append and import batches at once while two readers query: every
    /// acknowledged event present exactly once, seq gapless, each call contiguous, check intact,
    /// and every reader saw the count only grow.
    func testWritersAndReadersAtOnceKeepEveryAcknowledgedEventExactlyOnce() throws {
        let dir = try temporaryDirectory(self)
        let ledger = dir + "/ledger"
        let writers = 3, batches = 6
        var files: [[String]] = []
        for w in 0..<writers {
            files.append(try (0..<batches).map { b in
                let file = dir + "/w\(w)b\(b).ndjson"
                try writeGeneratedLog(to: file, count: 500 + 400 * ((w + b) % 5), idPrefix: "w\(w)b\(b)-")
                return file
            })
        }
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var calls: [(ids: [String], acknowledged: Bool)] = []
            var problems: [String] = []
            var queries = 0
            var stopped = false
            func add(_ problem: String) { lock.lock(); problems.append(problem); lock.unlock() }
        }
        let results = Results()
        let done = DispatchSemaphore(value: 0)
        let readerGroup = DispatchGroup()
        for r in 0..<2 {
            readerGroup.enter()
            Thread {
                var last = 0
                while true {
                    results.lock.lock(); let finished = results.stopped; results.lock.unlock()
                    if finished { break }
                    guard FileManager.default.fileExists(atPath: ledger + "/data.mdb") else { usleep(20_000); continue }
                    do {
                        let count = try Sledger.eventCount(ledger)
                        if count < last { results.add("reader \(r): the count went from \(last) to \(count)") }
                        last = count
                        let check = try Sledger.run(["check", "--ledger", ledger])
                        if check.status != 0 { results.add("reader \(r): check \(check.status) \(check.stdout)\(check.stderr)") }
                        results.lock.lock(); results.queries += 2; results.lock.unlock()
                    } catch where last == 0 && "\(error)".contains("no ledger at") {
                        // data.mdb exists from the moment the first writer opens it, but the
                        // ledger does only once that writer's first transaction commits.
                        usleep(20_000)
                    } catch {
                        results.add("reader \(r): \(error)")
                    }
                }
                readerGroup.leave()
            }.start()
        }
        let batchFiles = files
        for w in 0..<writers {
            Thread {
                for (b, file) in batchFiles[w].enumerated() {
                    do {
                        let ids = try Campaign.ids(ofFile: file)
                        let result = try Campaign.call(b % 2 == 0 ? "import" : "append", ledger: ledger, file: file)
                        let acknowledged = result.status == 0 && result.stdout == "imported \(ids.count), duplicates 0\n"
                        if !acknowledged { results.add("writer \(w) batch \(b): \(result.status) \(result.stdout)\(result.stderr)") }
                        results.lock.lock(); results.calls.append((ids, acknowledged)); results.lock.unlock()
                    } catch {
                        results.add("writer \(w) batch \(b): \(error)")
                    }
                }
                done.signal()
            }.start()
        }
        for _ in 0..<writers { done.wait() }
        results.lock.lock(); results.stopped = true; results.lock.unlock()
        readerGroup.wait()

        XCTAssertEqual(results.problems, [])
        XCTAssertGreaterThan(results.queries, 0)
        let audit = Campaign.audit(log: try Campaign.log(ledger), calls: results.calls)
        XCTAssertEqual(audit.violations, 0, "\(audit)")
        XCTAssertEqual(results.calls.count, writers * batches)
        let check = try Sledger.run(["check", "--ledger", ledger])
        XCTAssertEqual(check.status, 0, check.stdout)
    }

    /// Writers take turns (SPEC.md section 3) also when one of them grows the map: a 72 MB
    /// import (the map grows from 64 MiB to 256 MiB and the import writes pages past 64 MiB)
    /// while other processes append single events. Every call must succeed, the ledger stay intact.
    func testSmallAppendsDuringAnImportThatGrowsTheMapDoNotBreakIt() throws {
        let dir = try temporaryDirectory(self)
        let ledger = dir + "/ledger", big = dir + "/big.ndjson"
        let pad = String(repeating: "x", count: 1000)
        let meta = (0..<8).map { #""k\#($0)":"\#(pad)""# }.joined(separator: ",")
        var text = ""
        for i in 0..<8_000 {
            text += #"{"type":"logout","at":"2026-01-01T00:00:00Z","user":"u\#(i % 50)","session":"s\#(i)","id":"fat-\#(i)","agent":"\#(pad)","meta":{\#(meta)}}"# + "\n"
        }
        try text.write(toFile: big, atomically: false, encoding: .utf8)
        XCTAssertEqual(try Sledger.run(["append", "--ledger", ledger], stdin: Data(#"{"type":"logout","at":"2026-01-01T00:00:00Z","user":"u","session":"s","id":"first"}"#.utf8)).status, 0)
        let importer = try Campaign.start(["import", "--ledger", ledger, big])
        var appended = 1
        var small = 0
        while importer.isRunning {
            let event = #"{"type":"logout","at":"2026-01-01T00:00:00Z","user":"u","session":"s","id":"small-\#(small)"}"#
            let result = try Sledger.run(["append", "--ledger", ledger], stdin: Data(event.utf8), environment: ["SWIFT_BACKTRACE": "enable=no"])
            XCTAssertEqual(result.status, 0, "small append \(small): \(result.stderr)")
            if result.status == 0 { appended += 1 }
            small += 1
        }
        importer.waitUntilExit()
        XCTAssertEqual(importer.terminationReason, .exit, "the import died of signal \(importer.terminationStatus) (7 is SIGBUS)")
        XCTAssertEqual(importer.terminationStatus, 0)
        let check = try Sledger.run(["check", "--ledger", ledger])
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertEqual(try? Sledger.eventCount(ledger), appended + 8_000)
    }

    private func usedPages(_ ledger: String) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", "import lmdb,sys; e=lmdb.open(sys.argv[1],readonly=True,max_dbs=16,create=False); print(e.info()['last_pgno'])", ledger]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}
