import SessionLedger

/// Prints `replay --trace` steps: for people and `ndjson` as they happen, for `json` kept
/// for the report's `trace` array.
public struct TracePrinter {
    public let format: OutputFormat
    public let output: RecordOutput
    /// JSON objects for the `json` format, printed with the report.
    public private(set) var steps: [String] = []
    private var csv: RecordPrinter?

    static let csvFields = ["seq", "at", "type", "user", "session", "changed_session", "status_before", "status_after",
                            "expires_before", "expires_after", "why", "findings"]

    public init(format: OutputFormat, output: RecordOutput) {
        self.format = format
        self.output = output
        if format == .csv { csv = RecordPrinter(format: .csv, fields: TracePrinter.csvFields, output: output) }
    }

    public mutating func print(_ step: LedgerFold.Step) {
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
            output.line(line)
            if step.changes.isEmpty {
                if let named = step.named {
                    let expires = named.expiresAt?.description ?? "never"
                    output.line("    \(named.session): \(named.status(at: at).name), expires \(expires) (no change)")
                } else {
                    output.line("    no session changed")
                }
            }
            for change in step.changes {
                output.line("    " + TracePrinter.describe(change, at: at))
            }
            for finding in step.findings {
                output.line("    ! \(finding.rule.name) (\(finding.severity.name)): \(finding.message)")
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
            if format == .ndjson { output.line(object) } else { steps.append(object) }
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
