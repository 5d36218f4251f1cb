import SessionLedger

/// Prints `replay`'s findings as they come, then the summary.
///
/// `json` writes `{"events":N,"findings":[...],"summary":{...}}` with the findings streamed
/// into the array; `ndjson` and `csv` a finding a line (with `--trace`, `ndjson` prints the
/// trace steps instead, each with its findings); `table` aligned rows, then the summary.
public final class FindingReport {
    public let format: OutputFormat
    public let tracing: Bool
    public let output: RecordOutput
    private var printer: RecordPrinter?
    private var counts: [Finding.Rule: Int] = [:]
    private var collected: [Finding] = []
    public private(set) var errors = 0
    public private(set) var warnings = 0
    /// Set by `replay`: the events in the ledger, and what a narrowed replay read them for.
    private var ledgerEvents = 0
    private var narrowedTo: String?

    public init(format: OutputFormat, tracing: Bool, output: RecordOutput) {
        self.format = format
        self.tracing = tracing
        self.output = output
    }

    public func begin(events: Int) {
        switch format {
        case .json:
            output.write("{\"events\":\(events),\"findings\":[")
        case .ndjson where tracing, .csv where tracing:
            break
        case .table where tracing:
            break
        case .table:
            printer = RecordPrinter(format: .table, fields: FindingRecord.fields,
                                    titles: ["RULE", "SEVERITY", "SEQ", "AT", "USER", "SESSION", "MESSAGE"], output: output)
        case .ndjson, .csv:
            printer = RecordPrinter(format: format, fields: FindingRecord.fields, output: output)
        }
    }

    /// Replays the ledger with `fold`, reporting each finding as it is found (`begin` and the
    /// fold; `finish` is the caller's, once it has the trace). A fold whose findings are
    /// narrowed to a user (`--user U`) folds only the events their findings depend on
    /// (`UserLog(eventsOf:)`), one narrowed to a session the slice of `session S` with those
    /// of the users whose `logout_all` was made from it (`UserLog(eventsNaming:)`): the same
    /// findings and trace as the whole log, through the indexes. Otherwise the whole log.
    public func replay(_ ledger: Ledger, fold: LedgerFold, progress: ((Int) -> Void)? = nil,
                       trace: ((LedgerFold.Step) throws -> Void)? = nil) throws -> LedgerFold.Result {
        try ledger.read { snapshot in
            ledgerEvents = try snapshot.totalEvents()
            begin(events: ledgerEvents)
            // `FindingFilter.readsASlice` says which of these two a filter takes.
            if let user = fold.findings?.user {
                narrowedTo = "user " + user
                return try fold.run(UserLog(snapshot: snapshot, eventsOf: user), progress: progress, onFinding: add, trace: trace)
            }
            if let session = fold.findings?.session {
                narrowedTo = "session " + session
                return try fold.run(UserLog(snapshot: snapshot, eventsNaming: session), progress: progress, onFinding: add, trace: trace)
            }
            return try fold.run(snapshot, progress: progress, onFinding: add, trace: trace)
        }
    }

    public func add(_ finding: Finding) {
        counts[finding.rule, default: 0] += 1
        if finding.severity == .error { errors += 1 } else { warnings += 1 }
        switch format {
        case .json:
            output.write((errors + warnings == 1 ? "" : ",") + FindingRecord.json(finding))
        case .table where tracing:
            collected.append(finding)  // a trace is for a narrowed replay; its findings print after it
        default:
            printer?.add(FindingRecord.cells(finding))
        }
    }

    public func finish(_ result: ParallelReplay.Summary, traced: [String]) {
        switch format {
        case .json:
            var text = "],\"summary\":{"
            text += Finding.Rule.allCases.map { "\"\($0.name)\":\(counts[$0] ?? 0)" }.joined(separator: ",")
            text += "}"
            if tracing { text += ",\"trace\":[" + traced.joined(separator: ",") + "]" }
            output.line(text + "}")
        case .ndjson, .csv:
            printer?.finish()
        case .table:
            if tracing {
                var rows = RecordPrinter(format: .table, fields: FindingRecord.fields,
                                         titles: ["RULE", "SEVERITY", "SEQ", "AT", "USER", "SESSION", "MESSAGE"], output: output)
                for finding in collected { rows.add(FindingRecord.cells(finding)) }
                printer = rows
            }
            if errors + warnings > 0 {
                if tracing { output.line("") }
                printer?.finish()
                output.line("")
            }
            if let narrowedTo {
                // A slice's sessions and users are partial: only its own count is said.
                output.line("replayed \(result.events) of the ledger's \(ledgerEvents) events (those the findings of "
                            + "\(narrowedTo) depend on); \(errors) errors, \(warnings) warnings")
            } else {
                output.line("replayed \(result.events) events: \(result.sessions) sessions, "
                            + "\(result.users) users; \(errors) errors, \(warnings) warnings")
            }
            for rule in Finding.Rule.allCases where counts[rule] != nil {
                output.line("  \(rule.name) (\(rule.severity.name)): \(counts[rule]!)")
            }
        }
        output.flush()
    }
}
