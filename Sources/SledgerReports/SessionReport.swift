import SessionLedger

/// `session ID`: one session's state and status at T, its events with their findings, and
/// the instant it expired (derived, not an event), in the four formats.
public enum SessionReport {
    public static let timelineFields = ["seq", "at", "type", "user", "status", "derived", "findings"]

    /// One line of the timeline: an event that named the session or changed it, or its expiry.
    public struct Row {
        public var at: Instant
        public var cells: [Cell]
        public var findings: [Finding]
    }

    /// The session as of `t` and its timeline, or nil when the ledger has no such session then.
    public static func find(_ ledger: Ledger, policy: Policy, id: String, at t: Instant) throws -> (state: SessionState, rows: [Row])? {
        let fold = LedgerFold(policy: policy, horizon: .through(t), findings: .all)
        var rows: [Row] = []
        let result = try ledger.read { snapshot in
            // Only the owner's slice of the log, through the indexes (UserLog explains why it suffices).
            try fold.run(try UserLog(snapshot: snapshot, ownerOf: id, horizon: fold.horizon), traceWhen: { ($0.session?.isSameID(as: id) ?? false) || $0.kind == .logoutAll }, trace: { step in
                let e = step.event.event
                let changed = step.changes.first { $0.after.session.isSameID(as: id) }
                guard (e.session?.isSameID(as: id) ?? false) || changed != nil else { return }
                let status = (changed?.after ?? step.named)?.status(at: e.at).name ?? "-"
                rows.append(Row(at: e.at, cells: [.integer(Int64(step.event.seq)), .string(e.at.description), .string(e.kind.name),
                                                  .string(e.user), .string(status), .string("no")], findings: step.findings))
            })
        }
        guard let state = result.derivation.session(id) else { return nil }
        // The instant it expired is derived, not an event: show it where it falls.
        if let expires = state.expiresAt, expires <= t, state.endedAt.map({ $0 > expires }) ?? true {
            let index = rows.firstIndex { $0.at >= expires } ?? rows.count
            rows.insert(Row(at: expires, cells: [.null, .string(expires.description), .string("expired"), .string(state.user),
                                                 .string("expired"), .string("yes")], findings: []), at: index)
        }
        return (state, rows)
    }

    /// Prints the session; false (and nothing printed) when there is no such session as of `t`.
    public static func print(_ ledger: Ledger, policy: Policy, id: String, at t: Instant,
                             format: OutputFormat, output: RecordOutput) throws -> Bool {
        guard let (state, rows) = try find(ledger, policy: policy, id: id, at: t) else { return false }
        let record = SessionRecord.cells(state, at: t)
        switch format {
        case .table:
            let width = SessionRecord.fields.map(\.count).max()!
            for (name, cell) in zip(SessionRecord.fields, record) where !(cell.isAbsent) {
                output.line(name + String(repeating: " ", count: width - name.count) + "  " + (cell.isNull ? "never" : cell.text))
            }
            output.line("")
            var printer = RecordPrinter(format: .table, fields: timelineFields,
                                        titles: ["SEQ", "AT", "EVENT", "USER", "STATUS AFTER", "DERIVED", "FINDINGS"], output: output)
            for row in rows {
                var cells = row.cells
                cells[0] = cells[0].isNull ? .string("-") : cells[0]
                cells.append(.string(row.findings.map { "\($0.rule.name) (\($0.severity.name))" }.joined(separator: "; ")))
                printer.add(cells)
            }
            printer.finish()
            for finding in rows.flatMap(\.findings) {
                output.line("  #\(finding.seq) \(finding.rule.name): \(finding.message)")
            }
        case .json:
            let timeline = rows.map { row -> String in
                var cells = row.cells
                cells[5] = .json(cells[5].text == "yes" ? "true" : "false")
                cells.append(.json("[" + row.findings.map(FindingRecord.json).joined(separator: ",") + "]"))
                return RecordPrinter.object(fields: timelineFields, cells: cells)
            }
            output.line("{\"session\":" + RecordPrinter.object(fields: SessionRecord.fields, cells: record)
                        + ",\"events\":[" + timeline.joined(separator: ",") + "]}")
        case .ndjson, .csv:
            // ndjson: the session record first (as `sessions` prints it), then its timeline.
            // csv has one header row, so it carries the timeline only: the state is in the others.
            if format == .ndjson {
                output.line(RecordPrinter.object(fields: SessionRecord.fields, cells: record))
            }
            var printer = RecordPrinter(format: format, fields: timelineFields, output: output)
            for row in rows {
                var cells = row.cells
                if format == .ndjson { cells[5] = .json(cells[5].text == "yes" ? "true" : "false") }
                cells.append(format == .ndjson
                    ? .json("[" + row.findings.map(FindingRecord.json).joined(separator: ",") + "]")
                    : .string(row.findings.map(\.rule.name).joined(separator: ";")))
                printer.add(cells)
            }
            printer.finish()
        }
        output.flush()
        return true
    }
}

extension Cell {
    public var isAbsent: Bool { if case .absent = self { return true } else { return false } }
    public var isNull: Bool { if case .null = self { return true } else { return false } }
}
