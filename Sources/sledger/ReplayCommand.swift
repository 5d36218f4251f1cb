import ArgumentParser
import SessionLedger
import SledgerReports

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "The verifier: replay the log against the policy and report every finding.",
        discussion: """
            --user, --session, --from and --to narrow what is reported, never what is applied: state \
            always comes from the whole log. Exit status 1 when a reported finding is an error \
            (or any finding, with --strict), 0 otherwise. Findings are printed as they are found, \
            so memory does not grow with their number (except with --trace --format json).
            """)

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var policy: PolicyOptions
    @OptionGroup var output: FormatOptions
    @Option(help: "Report only findings of this user's events.") var user: String?
    @Option(help: "Report only findings of events naming this session.") var session: String?
    @Option(help: "Report only findings of events with at >= this instant.") var from: String?
    @Option(help: "Report only findings of events with at < this instant.") var to: String?
    @Flag(help: "Print every reported event with the state it leaves: status and expiry before and after, and why.")
    var trace = false
    @Flag(help: "Exit 1 on warnings too.") var strict = false
    @Option(help: ArgumentHelp("Verify this NDJSON file instead of a ledger (no `recorded`, so no future-event).", valueName: "FILE"))
    var input: String?
    @Option(help: ArgumentHelp("Fold a ledger on this many threads (1 to 64), split by user; the output is the same as with one. (--trace and --input run one; --user and --session fold only the events their findings depend on, on one.)", valueName: "N"))
    var jobs: Int = 1

    func validate() throws {
        guard (1...ParallelReplay.maxJobs).contains(jobs) else { throw ValidationError("--jobs must be from 1 to \(ParallelReplay.maxJobs)") }
    }

    func run() throws {
        let filter = FindingFilter(user: user, session: session,
                                   from: try from.map { try parseInstant($0, option: "--from") },
                                   to: try to.map { try parseInstant($0, option: "--to") })
        var fold = LedgerFold(policy: try policy.load(), findings: filter)
        fold.retireEvery = LedgerFold.replayRetireEvery
        let showProgress = Output.standardErrorIsTerminal
        let progress: ((Int) -> Void)? = showProgress ? { Output.errorPartial("\rreplaying: \($0) events") } : nil
        defer { if showProgress { Output.errorPartial("\r\u{1B}[K") } }
        let report = FindingReport(format: output.format, tracing: trace, output: Output.standard)
        var tracer = TracePrinter(format: output.format, output: Output.standard)
        let onStep: ((LedgerFold.Step) throws -> Void)? = trace ? { tracer.print($0) } : nil
        let summary: ParallelReplay.Summary
        if let input {
            let log = try SortedInput(source: InputSource(path: input), maxSkew: fold.policy.maxSkew)
            report.begin(events: try log.totalEvents())
            summary = .init(try fold.run(log, progress: progress, onFinding: report.add, trace: onStep))
        } else if jobs > 1 && !trace && !filter.readsASlice {
            let ledger = try ledger.openForReading()
            report.begin(events: try ledger.read { try $0.totalEvents() })
            summary = try ParallelReplay(policy: fold.policy, filter: filter, jobs: jobs).run(ledger, onFinding: report.add)
        } else {
            summary = .init(try report.replay(ledger.openForReading(), fold: fold, progress: progress, trace: onStep))
        }
        report.finish(summary, traced: tracer.steps)
        if report.errors > 0 || (strict && report.warnings > 0) { throw ExitCode(1) }
    }
}
