import ArgumentParser
import SessionLedger

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
    @Option(help: ArgumentHelp("Fold a ledger on this many threads, split by user; the output is the same as with one. (--trace and --input run one.)", valueName: "N"))
    var jobs: Int = 1

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        let filter = FindingFilter(user: user, session: session,
                                   from: try from.map { try parseInstant($0, option: "--from") },
                                   to: try to.map { try parseInstant($0, option: "--to") })
        let fold = LedgerFold(policy: try policy.load(), findings: filter)
        let showProgress = Output.standardErrorIsTerminal
        let progress: ((Int) -> Void)? = showProgress ? { Output.errorPartial("\rreplaying: \($0) events") } : nil
        defer { if showProgress { Output.errorPartial("\r\u{1B}[K") } }
        let report = FindingReport(format: output.format, tracing: trace)
        var tracer = TracePrinter(format: output.format)
        let onStep: ((LedgerFold.Step) throws -> Void)? = trace ? { tracer.print($0) } : nil
        let summary: ParallelReplay.Summary
        if let input {
            let log = try InputLog(source: InputSource(path: input))
            report.begin(events: try log.totalEvents())
            summary = .init(try fold.run(log, progress: progress, onFinding: report.add, trace: onStep))
        } else if jobs > 1 && !trace {
            let ledger = try ledger.openForReading()
            report.begin(events: try ledger.read { try $0.totalEvents() })
            summary = try ParallelReplay(policy: fold.policy, filter: filter, jobs: jobs).run(ledger, onFinding: report.add)
        } else {
            let ledger = try ledger.openForReading()
            summary = .init(try ledger.read { snapshot in
                report.begin(events: try snapshot.totalEvents())
                return try fold.run(snapshot, progress: progress, onFinding: report.add, trace: onStep)
            })
        }
        report.finish(summary, traced: tracer.steps)
        if report.errors > 0 || (strict && report.warnings > 0) { throw ExitCode(1) }
    }
}

/// Prints `replay`'s findings as they come, then the summary.
///
/// `json` writes `{"events":N,"findings":[...],"summary":{...}}` with the findings streamed
/// into the array; `ndjson` and `csv` a finding a line (with `--trace`, `ndjson` prints the
/// trace steps instead, each with its findings); `table` aligned rows, then the summary.
final class FindingReport {
    let format: OutputFormat
    let tracing: Bool
    private var printer: RecordPrinter?
    private var counts: [Finding.Rule: Int] = [:]
    private var collected: [Finding] = []
    private(set) var errors = 0
    private(set) var warnings = 0

    init(format: OutputFormat, tracing: Bool) {
        self.format = format
        self.tracing = tracing
    }

    func begin(events: Int) {
        switch format {
        case .json:
            Output.write("{\"events\":\(events),\"findings\":[")
        case .ndjson where tracing, .csv where tracing:
            break
        case .table where tracing:
            break
        case .table:
            printer = RecordPrinter(format: .table, fields: FindingRecord.fields,
                                    titles: ["RULE", "SEVERITY", "SEQ", "AT", "USER", "SESSION", "MESSAGE"])
        case .ndjson, .csv:
            printer = RecordPrinter(format: format, fields: FindingRecord.fields)
        }
    }

    func add(_ finding: Finding) {
        counts[finding.rule, default: 0] += 1
        if finding.severity == .error { errors += 1 } else { warnings += 1 }
        switch format {
        case .json:
            Output.write((errors + warnings == 1 ? "" : ",") + FindingRecord.json(finding))
        case .table where tracing:
            collected.append(finding)  // a trace is for a narrowed replay; its findings print after it
        default:
            printer?.add(FindingRecord.cells(finding))
        }
    }

    func finish(_ result: ParallelReplay.Summary, traced: [String]) {
        switch format {
        case .json:
            var text = "],\"summary\":{"
            text += Finding.Rule.allCases.map { "\"\($0.name)\":\(counts[$0] ?? 0)" }.joined(separator: ",")
            text += "}"
            if tracing { text += ",\"trace\":[" + traced.joined(separator: ",") + "]" }
            Output.line(text + "}")
        case .ndjson, .csv:
            printer?.finish()
        case .table:
            if tracing {
                var rows = RecordPrinter(format: .table, fields: FindingRecord.fields,
                                         titles: ["RULE", "SEVERITY", "SEQ", "AT", "USER", "SESSION", "MESSAGE"])
                for finding in collected { rows.add(FindingRecord.cells(finding)) }
                printer = rows
            }
            if errors + warnings > 0 {
                if tracing { Output.line("") }
                printer?.finish()
                Output.line("")
            }
            Output.line("replayed \(result.events) events: \(result.sessions) sessions, "
                        + "\(result.users) users; \(errors) errors, \(warnings) warnings")
            for rule in Finding.Rule.allCases where counts[rule] != nil {
                Output.line("  \(rule.name) (\(rule.severity.name)): \(counts[rule]!)")
            }
        }
        Output.flush()
    }
}

/// Prints `replay --trace` steps: for people and `ndjson` as they happen, for `json` kept
/// for the report's `trace` array.
struct TracePrinter {
    let format: OutputFormat
    /// JSON objects for the `json` format, printed with the report.
    private(set) var steps: [String] = []
    private var csv: RecordPrinter?

    static let csvFields = ["seq", "at", "type", "user", "session", "changed_session", "status_before", "status_after",
                            "expires_before", "expires_after", "why", "findings"]

    init(format: OutputFormat) {
        self.format = format
        if format == .csv { csv = RecordPrinter(format: .csv, fields: TracePrinter.csvFields) }
    }

    mutating func print(_ step: LedgerFold.Step) {
        let e = step.event.event
        let at = e.at
        switch format {
        case .csv:
            let findings = Cell.string(step.findings.map(\.rule.name).joined(separator: ";"))
            let front: [Cell] = [.integer(Int64(step.event.seq)), .string(at.description), .string(e.kind.name),
                                 .string(e.user), e.session.map(Cell.string) ?? .null]
            if step.changes.isEmpty {
                let named = step.named
                csv?.add(front + [named.map { .string($0.session) } ?? .null,
                                  named.map { .string($0.status(at: at).name) } ?? .null,
                                  named.map { .string($0.status(at: at).name) } ?? .null,
                                  named.map { $0.expiresAt.map { .string($0.description) } ?? .null } ?? .null,
                                  named.map { $0.expiresAt.map { .string($0.description) } ?? .null } ?? .null,
                                  .string("no change"), findings])
            }
            for change in step.changes {
                csv?.add(front + [.string(change.after.session),
                                  .string(change.before?.status(at: at).name ?? SessionState.Status.notStarted.name),
                                  .string(change.after.status(at: at).name),
                                  change.before.map { $0.expiresAt.map { .string($0.description) } ?? .null } ?? .null,
                                  change.after.expiresAt.map { .string($0.description) } ?? .null,
                                  .string(TracePrinter.why(change)), findings])
            }
        case .table:
            var line = "#\(step.event.seq)  \(at)  \(e.kind.name)  user=\(e.user)"
            if let session = e.session { line += "  session=\(session)" }
            Output.line(line)
            if step.changes.isEmpty {
                if let named = step.named {
                    let expires = named.expiresAt?.description ?? "never"
                    Output.line("    \(named.session): \(named.status(at: at).name), expires \(expires) (no change)")
                } else {
                    Output.line("    no session changed")
                }
            }
            for change in step.changes {
                Output.line("    " + TracePrinter.describe(change, at: at))
            }
            for finding in step.findings {
                Output.line("    ! \(finding.rule.name) (\(finding.severity.name)): \(finding.message)")
            }
        case .json, .ndjson:
            let changes = step.changes.map { change -> String in
                let fields = ["session", "status_before", "status_after", "expires_before", "expires_after", "why"]
                let before = change.before
                return RecordPrinter.object(fields: fields, cells: [
                    .string(change.after.session),
                    .string(before?.status(at: at).name ?? SessionState.Status.notStarted.name),
                    .string(change.after.status(at: at).name),
                    before?.expiresAt.map { .string($0.description) } ?? .null,
                    change.after.expiresAt.map { .string($0.description) } ?? .null,
                    .string(TracePrinter.why(change)),
                ])
            }
            let object = RecordPrinter.object(
                fields: ["seq", "at", "type", "user", "session", "changes", "findings"],
                cells: [.integer(Int64(step.event.seq)), .string(at.description), .string(e.kind.name), .string(e.user),
                        e.session.map(Cell.string) ?? .absent, .json("[" + changes.joined(separator: ",") + "]"),
                        .json("[" + step.findings.map(FindingRecord.json).joined(separator: ",") + "]")])
            if format == .ndjson { Output.line(object) } else { steps.append(object) }
        }
    }

    static func describe(_ change: LedgerFold.Step.Change, at: Instant) -> String {
        let before = change.before?.status(at: at).name ?? "not_started"
        let after = change.after.status(at: at).name
        let expiresBefore = change.before.map { $0.expiresAt?.description ?? "never" } ?? "-"
        let expiresAfter = change.after.expiresAt?.description ?? "never"
        return "\(change.after.session): \(before) -> \(after); expires \(expiresBefore) -> \(expiresAfter) (\(why(change)))"
    }

    static func why(_ change: LedgerFold.Step.Change) -> String {
        guard let before = change.before else { return "created by login" }
        if before.endedAt == nil, let reason = change.after.endReason { return "ended by \(reason.name)" }
        if change.after.refreshCount > before.refreshCount { return "extended by refresh" }
        return "changed"
    }
}

