import ArgumentParser
import SessionLedger
import SledgerReports

/// `--ledger DIR`, shared by every command.
struct LedgerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The ledger directory (default: $SLEDGER_LEDGER, else ./ledger).", valueName: "DIR"))
    var ledger: String?

    var path: String { Ledger.resolvePath(ledger) }

    /// Opens the ledger for queries: read-only, so a query can never write.
    func openForReading() throws -> Ledger { try Ledger(path: path, access: .readOnly) }

    /// Opens (creating if needed) the ledger for appending; `writes` as `Ledger.Writes` says.
    func openForWriting(writes: Ledger.Writes = .mapped) throws -> Ledger {
        try Ledger(path: path, access: .readWrite, writes: writes)
    }
}

/// `--format`, shared by every command that prints records.
struct FormatOptions: ParsableArguments {
    @Option(help: "Output format: table (for people), json (one document), ndjson (one object a line) or csv.")
    var format: OutputFormat = .table
}

extension OutputFormat: ExpressibleByArgument {}

extension Ledger.Writes: ExpressibleByArgument {}
