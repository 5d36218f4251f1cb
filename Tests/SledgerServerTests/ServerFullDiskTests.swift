import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// `sledger serve` on a disk that fills up: a group that cannot get its disk blocks is answered
/// 507 with nothing stored, later ones too while the disk stays full, the server stays up, and
/// every request it acknowledged is in the ledger, which `sledger check` passes. Needs a small
/// tmpfs (root); skipped where it cannot mount one.
final class ServerFullDiskTests: XCTestCase {
    func testAFullDiskIsA507EveryTimeAndTheServerStaysUp() async throws {
        try await fillTheDisk(arguments: [])
    }

    /// Through the map, a write to a page without a disk block is SIGBUS: the map must never
    /// stay larger than the blocks reserved for it.
    func testAFullDiskIsA507EveryTimeAndTheServerStaysUpWritingThroughTheMap() async throws {
        try await fillTheDisk(arguments: ["--writes", "mapped"])
    }

    private func fillTheDisk(arguments: [String]) async throws {
        let mount = NSTemporaryDirectory() + "sledger-full-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        // The server reserves disk blocks for the map as it starts (64 MiB) and for at least
        // 64 MiB more when it grows: the first growth finds the disk full.
        guard Glibc.mount("tmpfs", mount, "tmpfs", 0, "size=96m") == 0 else {
            try? FileManager.default.removeItem(atPath: mount)
            throw XCTSkip("cannot mount a tmpfs here (not root?)")
        }
        addTeardownBlock {
            _ = Glibc.umount(mount)
            try? FileManager.default.removeItem(atPath: mount)
        }
        let server = try ServerProcess(self, ledger: mount + "/ledger", arguments: arguments)
        var acknowledged = 0
        var full = 0
        // Requests of 2,000 events of about 1 KB: the disk fills after about 30 of them.
        let agent = String(repeating: "x", count: 1_000)
        for r in 0..<400 where full < 5 {
            let body = (0..<2_000).map {
                #"{"type":"login","at":"2026-04-01T09:00:00Z","user":"user\#($0 % 50)","session":"s-r\#(r)-\#($0)","client":"web","method":"google","id":"r\#(r)-e\#($0)","agent":"\#(agent)"}"#
            }.joined(separator: "\n") + "\n"
            guard let answer = try? await server.post(body) else {
                XCTFail("request \(r) got no answer: the server died (exit \(server.stop()))")
                return
            }
            switch answer.status {
            case 200:
                XCTAssertEqual(full, 0, "request \(r) stored after the disk was found full: written where no block was reserved")
                acknowledged += 1
            case 507: full += 1
            default: XCTFail("request \(r): \(answer.status) \(answer.text)")
            }
        }
        XCTAssertEqual(full, 5, "the disk filled and stayed full")
        XCTAssertTrue(server.process.isRunning, "the server is still up")
        let stats = try await server.get("/v1/stats")
        XCTAssertEqual(stats.records.first?["events"] as? Int, acknowledged * 2_000, "every acknowledged request, nothing else")
        XCTAssertEqual(server.stop(), 0)
        let check = Process()
        check.executableURL = ServerProcess.executable
        check.arguments = ["check", "--ledger", mount + "/ledger"]
        check.standardOutput = FileHandle.nullDevice
        try check.run()
        check.waitUntilExit()
        XCTAssertEqual(check.terminationStatus, 0, "sledger check")
    }
}
