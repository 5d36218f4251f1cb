import ArgumentParser
import Foundation
import SessionLedger
import SledgerReports

/// `--policy FILE`, on every command that derives state.
struct PolicyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A policy JSON file (default: the built-in policy; see `sledger policy`).", valueName: "FILE"))
    var policy: String?

    func load() throws -> Policy {
        guard let policy else { return .default }
        return try loadPolicy(policy)
    }
}

/// Reads a policy file; a bad one is a usage error naming the file and the key.
func loadPolicy(_ path: String) throws -> Policy {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw UsageError("\(path): cannot read the policy file")
    }
    do {
        return try Policy(json: [UInt8](data))
    } catch {
        throw UsageError("\(path): \(error)")
    }
}

/// `--at T`, or `--from T1 --to T2`: an instant or a range (SPEC.md section 6).
struct InstantOrRange: ParsableArguments {
    @Option(help: "The instant (RFC 3339; default: now).") var at: String?
    @Option(help: "Start of a range [from, to): sessions active at any instant of it.") var from: String?
    @Option(help: "End of the range (exclusive).") var to: String?


    func validate() throws {
        if at != nil && (from != nil || to != nil) { throw ValidationError("give --at or --from/--to, not both") }
        if (from == nil) != (to == nil) { throw ValidationError("--from and --to go together") }
    }

    func choice() throws -> TimeSelection { try TimeSelection.parse(at: at, from: from, to: to, prefix: "--") }
}
