import ArgumentParser
import SessionLedger
import SledgerReports

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Print the policy in force as JSON (the built-in one, or --policy FILE checked and normalised).")

    @OptionGroup var policy: PolicyOptions

    func run() throws {
        Output.line(try policy.load().canonicalJSON())
    }
}
