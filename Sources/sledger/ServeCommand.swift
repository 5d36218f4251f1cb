import ArgumentParser
import Dispatch
import SessionLedger
import SledgerReports
import SledgerServer

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the ledger over HTTP: ingest events, answer queries, show the timeline page.",
        discussion: """
            The server holds the ledger open for writing from start to stop, so `sledger append` \
            and `import` wait until it stops: send events to POST /v1/events instead. Queries \
            from other processes (the CLI, Tools/user_events.py) work as usual. It prints \
            "listening on http://HOST:PORT" once ready, and stops gracefully on SIGTERM or \
            SIGINT. See docs/SERVER.md.
            """)

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var policy: PolicyOptions
    @Option(help: ArgumentHelp("The address to listen on; port 0 picks a free one.", valueName: "HOST:PORT"))
    var listen = "127.0.0.1:8787"
    @Option(help: ArgumentHelp("Bearer tokens, one a line: `read TOKEN` or `write TOKEN` (required off loopback).", valueName: "FILE"))
    var tokenFile: String?
    @Option(help: ArgumentHelp("""
        How group commits reach the disk: `buffered` (only the pages they change are written; \
        a request holds at most 15,000 events and 16 MiB) or `mapped` (through the file mapping, which \
        writes back far more on a large ledger; requests of any size up to 64 MiB, for bulk \
        loads over HTTP). See docs/SERVER.md.
        """, valueName: "WAY"))
    var writes: Ledger.Writes = .buffered
    @Option(help: ArgumentHelp("""
        How many queries that fold a range or the whole log (`sessions` over a range, `replay`) run \
        at once; later ones wait their turn. At 100M events one year of sessions took the server \
        to about 300 MiB, a whole replay to about 400 MiB. \
        See docs/SERVER.md.
        """, valueName: "N"))
    var longQueries = 1

    func validate() throws {
        guard (1...64).contains(longQueries) else { throw ValidationError("--long-queries must be from 1 to 64") }
    }

    func run() throws {
        guard let address = ListenAddress(listen) else {
            throw UsageError("--listen: expected HOST:PORT (for example 127.0.0.1:8787)")
        }
        let tokens: AccessTokens?
        do {
            tokens = try tokenFile.map { try AccessTokens(file: $0) }
        } catch let error as AccessTokens.FileError {
            throw UsageError(error.description)
        }
        guard tokens != nil || address.isLoopback else {
            throw UsageError("--listen \(address) is not a loopback address: give --token-file too")
        }
        let configuration = SledgerServer.Configuration(
            ledgerPath: ledger.path, listen: address, tokens: tokens, policy: try policy.load(), writes: writes,
            longQueries: longQueries,
            onListening: { port in
                let host = address.host.contains(":") ? "[\(address.host)]" : address.host
                Output.line("listening on http://\(host):\(port)")
                Output.flush()
            })
        let finished = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: (any Error)?
        Task {
            do { try await SledgerServer.run(configuration) } catch { failure = error }
            finished.signal()
        }
        finished.wait()
        if let failure { throw failure }
    }
}
