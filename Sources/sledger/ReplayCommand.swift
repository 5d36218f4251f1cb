import ArgumentParser
import SessionLedger

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "The verifier: replay the log against the policy and report every finding.",
        discussion: """
            --user, --session, --from and --to narrow what is reported, never what is applied: state \
            always comes from the whole log. Exit status 1 when a reported finding is an error \
            (or any finding, with --strict), 0 otherwise.
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

    func run() throws {
        let filter = FindingFilter(user: user, session: session,
                                   from: try from.map { try parseInstant($0, option: "--from") },
                                   to: try to.map { try parseInstant($0, option: "--to") })
        let fold = LedgerFold(policy: try policy.load(), findings: filter)
        var tracer = TracePrinter(format: output.format)
        let onStep: ((LedgerFold.Step) throws -> Void)? = trace ? { tracer.print($0) } : nil
        let showProgress = Output.standardErrorIsTerminal
        let progress: ((Int) -> Void)? = showProgress ? { Output.errorPartial("\rreplaying: \($0) events") } : nil
        defer { if showProgress { Output.errorPartial("\r\u{1B}[K") } }
        let result: LedgerFold.Result
        if let input {
            result = try fold.run(InputLog(source: InputSource(path: input)), progress: progress, trace: onStep)
        } else {
            let ledger = try ledger.openForReading()
            result = try ledger.read { try fold.run($0, progress: progress, trace: onStep) }
        }
        report(result, traced: tracer.steps)
        let failing = result.findings.contains { strict || $0.severity == .error }
        if failing { throw ExitCode(1) }
    }

    private func report(_ result: LedgerFold.Result, traced: [String]) {
        var counts: [Finding.Rule: Int] = [:]
        for finding in result.findings { counts[finding.rule, default: 0] += 1 }
        switch output.format {
        case .json:
            var text = "{\"events\":\(result.events),\"findings\":["
            text += result.findings.map(FindingRecord.json).joined(separator: ",")
            text += "],\"summary\":{"
            text += Finding.Rule.allCases.map { "\"\($0.name)\":\(counts[$0] ?? 0)" }.joined(separator: ",")
            text += "}"
            if trace { text += ",\"trace\":[" + traced.joined(separator: ",") + "]" }
            Output.line(text + "}")
        case .ndjson, .csv:
            if trace {
                for line in traced { Output.line(line) }
                return
            }
            var printer = RecordPrinter(format: output.format, fields: FindingRecord.fields)
            for finding in result.findings { printer.add(FindingRecord.cells(finding)) }
            printer.finish()
        case .table:
            if !result.findings.isEmpty {
                var printer = RecordPrinter(format: .table, fields: FindingRecord.fields,
                                            titles: ["RULE", "SEVERITY", "SEQ", "AT", "USER", "SESSION", "MESSAGE"])
                for finding in result.findings { printer.add(FindingRecord.cells(finding)) }
                printer.finish()
                Output.line("")
            }
            let errors = result.findings.filter { $0.severity == .error }.count
            Output.line("replayed \(result.events) events: \(result.derivation.sessionCount) sessions, "
                        + "\(result.derivation.users.count) users; \(errors) errors, \(result.findings.count - errors) warnings")
            for rule in Finding.Rule.allCases where counts[rule] != nil {
                Output.line("  \(rule.name) (\(rule.severity.name)): \(counts[rule]!)")
            }
        }
        Output.flush()
    }
}

/// Prints `replay --trace` steps: for people as they happen, for scripts as JSON objects.
struct TracePrinter {
    let format: OutputFormat
    /// JSON objects (json and ndjson formats), printed with the report.
    private(set) var steps: [String] = []

    init(format: OutputFormat) { self.format = format }

    mutating func print(_ step: LedgerFold.Step) {
        let e = step.event.event
        let at = e.at
        switch format {
        case .table, .csv:
            var line = "#\(step.event.seq)  \(at)  \(e.kind.name)  user=\(e.user)"
            if let session = e.session { line += "  session=\(session)" }
            Output.line(line)
            if step.changes.isEmpty {
                Output.line("    no session changed" + (step.findings.isEmpty ? "" : ": see below"))
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
            var object = "{\"seq\":\(step.event.seq),\"at\":\"\(at)\",\"type\":\"\(e.kind.name)\","
            var user: [UInt8] = []
            CanonicalWriter.appendString(e.user, &user)
            object += "\"user\":" + String(decoding: user, as: UTF8.self)
            if let session = e.session {
                var s: [UInt8] = []
                CanonicalWriter.appendString(session, &s)
                object += ",\"session\":" + String(decoding: s, as: UTF8.self)
            }
            object += ",\"changes\":[" + changes.joined(separator: ",") + "]"
            object += ",\"findings\":[" + step.findings.map(FindingRecord.json).joined(separator: ",") + "]}"
            steps.append(object)
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
