import ArgumentParser
import SessionLedger
import SledgerReports

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store the NDJSON events of one or more files, all files in one all-or-nothing call.",
        discussion: "`-` reads standard input. On a terminal a progress line shows how far the reading is.")

    @OptionGroup var ledger: LedgerOptions
    @Argument(help: "NDJSON files (`-` for standard input).")
    var files: [String]
    @Flag(help: "Report every bad line, not only the first (nothing is stored either way).")
    var allErrors = false

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one FILE (or - for standard input)") }
    }

    func run() throws {
        let sources = try files.map { try InputSource(path: $0) }
        let summary = try Ingest.run(sources: sources, ledger: ledger, allErrors: allErrors)
        Output.line("imported \(summary.imported), duplicates \(summary.duplicates)")
    }
}
