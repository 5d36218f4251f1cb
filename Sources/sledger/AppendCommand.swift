import ArgumentParser
import SessionLedger
import SledgerReports

struct AppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Store the NDJSON events read from standard input, all or nothing.")

    @OptionGroup var ledger: LedgerOptions
    @Flag(help: "Report every bad line, not only the first (nothing is stored either way).")
    var allErrors = false

    func run() throws {
        let summary = try Ingest.run(sources: [InputSource.standardInput()], ledger: ledger, allErrors: allErrors)
        Output.line("imported \(summary.imported), duplicates \(summary.duplicates)")
    }
}

/// What `append` and `import` share: open, append with progress on a terminal, report.
enum Ingest {
    static func run(sources: [InputSource], ledger options: LedgerOptions, allErrors: Bool) throws -> AppendSummary {
        var appendOptions = AppendOptions()
        appendOptions.allErrors = allErrors
        let showProgress = Output.standardErrorIsTerminal
        if showProgress {
            appendOptions.progress = { p in
                var text = "\rreading: \(p.lines) lines"
                if let total = p.totalBytes, total > 0 { text += " (\(p.bytesRead * 100 / total)%)" }
                Output.errorPartial(text)
            }
        }
        defer { if showProgress { Output.errorPartial("\r\u{1B}[K") } }
        var created = false
        do {
            // Scoped so the ledger is closed before a refused first call removes it.
            return try {
                // A small call changes few pages: buffered, it writes only those (decision 0012).
                let writes = try Ledger.Writes.forCall(sources)
                let ledger = try options.openForWriting(writes: writes)
                created = ledger.wasCreated
                let summary = try ledger.append(sources, options: appendOptions)
                if let problem = summary.checkpointError {
                    Output.error("warning: the events are stored, but writing checkpoints failed: \(problem)")
                }
                return summary
            }()
        } catch {
            // A refused call leaves things as they were: if there was no ledger, there is none.
            if created { Ledger.removeEmpty(at: options.path) }
            throw error
        }
    }
}
