import ArgumentParser
import SessionLedger

struct SessionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session",
        abstract: "One session: its state and status at T, its events with their findings, and when it expired.")

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var policy: PolicyOptions
    @OptionGroup var output: FormatOptions
    @Argument(help: "The session id.") var id: String
    @Option(help: "The instant (RFC 3339; default: now).") var at: String?

    static let timelineFields = ["seq", "at", "type", "user", "status", "derived", "findings"]

    func run() throws {
        let t = try at.map { try parseInstant($0, option: "--at") } ?? Instant.now()
        let ledger = try ledger.openForReading()
        let fold = LedgerFold(policy: try policy.load(), horizon: .through(t), findings: .all)
        var rows: [(at: Instant, cells: [Cell], findings: [Finding])] = []
        let result = try ledger.read { snapshot in
            // Only the owner's slice of the log, through the indexes (UserLog explains why it suffices).
            try fold.run(try UserLog(snapshot: snapshot, ownerOf: id), traceWhen: { ($0.session?.isSameID(as: id) ?? false) || $0.kind == .logoutAll }) { step in
                let e = step.event.event
                let changed = step.changes.first { $0.after.session.isSameID(as: id) }
                guard (e.session?.isSameID(as: id) ?? false) || changed != nil else { return }
                let status = (changed?.after ?? step.named)?.status(at: e.at).name ?? "-"
                rows.append((e.at, [.integer(Int64(step.event.seq)), .string(e.at.description), .string(e.kind.name),
                                    .string(e.user), .string(status), .string("no")], step.findings))
            }
        }
        guard let state = result.derivation.session(id) else {
            Output.error("no session \(id) in the ledger as of \(t)")
            throw ExitCode(1)
        }
        // The instant it expired is derived, not an event: show it where it falls.
        if let expires = state.expiresAt, expires <= t, state.endedAt.map({ $0 > expires }) ?? true {
            let index = rows.firstIndex { $0.at >= expires } ?? rows.count
            rows.insert((expires, [.null, .string(expires.description), .string("expired"), .string(state.user),
                                   .string("expired"), .string("yes")], []), at: index)
        }
        switch output.format {
        case .table:
            let record = SessionRecord.cells(state, at: t)
            let width = SessionRecord.fields.map(\.count).max()!
            for (name, cell) in zip(SessionRecord.fields, record) where !(cell.isAbsent) {
                Output.line(name + String(repeating: " ", count: width - name.count) + "  " + (cell.isNull ? "never" : cell.text))
            }
            Output.line("")
            var printer = RecordPrinter(format: .table, fields: SessionCommand.timelineFields,
                                        titles: ["SEQ", "AT", "EVENT", "USER", "STATUS AFTER", "DERIVED", "FINDINGS"])
            for row in rows {
                var cells = row.cells
                cells[0] = cells[0].isNull ? .string("-") : cells[0]
                cells.append(.string(row.findings.map { "\($0.rule.name) (\($0.severity.name))" }.joined(separator: "; ")))
                printer.add(cells)
            }
            printer.finish()
            for finding in rows.flatMap(\.findings) {
                Output.line("  #\(finding.seq) \(finding.rule.name): \(finding.message)")
            }
        case .json:
            let timeline = rows.map { row -> String in
                var cells = row.cells
                cells[5] = .json(cells[5].text == "yes" ? "true" : "false")
                cells.append(.json("[" + row.findings.map(FindingRecord.json).joined(separator: ",") + "]"))
                return RecordPrinter.object(fields: SessionCommand.timelineFields, cells: cells)
            }
            Output.line("{\"session\":" + RecordPrinter.object(fields: SessionRecord.fields, cells: SessionRecord.cells(state, at: t))
                        + ",\"events\":[" + timeline.joined(separator: ",") + "]}")
        case .ndjson, .csv:
            // ndjson: the session record first (as `sessions` prints it), then its timeline.
            // csv has one header row, so it carries the timeline only: the state is in the others.
            if output.format == .ndjson {
                Output.line(RecordPrinter.object(fields: SessionRecord.fields, cells: SessionRecord.cells(state, at: t)))
            }
            var printer = RecordPrinter(format: output.format, fields: SessionCommand.timelineFields)
            for row in rows {
                var cells = row.cells
                if output.format == .ndjson { cells[5] = .json(cells[5].text == "yes" ? "true" : "false") }
                cells.append(output.format == .ndjson
                    ? .json("[" + row.findings.map(FindingRecord.json).joined(separator: ",") + "]")
                    : .string(row.findings.map(\.rule.name).joined(separator: ";")))
                printer.add(cells)
            }
            printer.finish()
        }
    }
}

extension Cell {
    var isAbsent: Bool { if case .absent = self { return true } else { return false } }
    var isNull: Bool { if case .null = self { return true } else { return false } }
}
