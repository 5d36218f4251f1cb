import SessionLedger

/// The session record of SPEC.md section 6, and the finding record.
public enum SessionRecord {
    public static let fields = ["session", "user", "client", "method", "login_at", "last_extended_at", "expires_at",
                         "refresh_count", "status", "ended_at", "end_reason"]

    /// The record of `state` with its status at `t`. `ended_at`/`end_reason` are left out of
    /// JSON until the session has ended; `expires_at` is null when the lifetime is null.
    public static func cells(_ state: SessionState, at t: Instant) -> [Cell] {
        var row: [Cell] = []
        fill(&row, state, at: t)
        return row
    }

    /// The same into `row`, whose storage is reused: a long listing changes one array in place
    /// instead of making and freeing one per session.
    public static func fill(_ row: inout [Cell], _ state: SessionState, at t: Instant) {
        row.removeAll(keepingCapacity: true)
        row.append(.string(state.session))
        row.append(.string(state.user))
        row.append(.string(state.client))
        row.append(.string(state.method))
        row.append(.instant(state.loginAt))
        row.append(.instant(state.lastExtendedAt))
        row.append(state.expiresAt.map(Cell.instant) ?? .null)
        row.append(.integer(Int64(state.refreshCount)))
        row.append(.string(state.status(at: t).name))
        row.append(state.endedAt.map(Cell.instant) ?? .absent)
        row.append(state.endReason.map { .string($0.name) } ?? .absent)
    }

    public static func printer(_ format: OutputFormat, output: RecordOutput) -> RecordPrinter {
        RecordPrinter(format: format, fields: fields, output: output)
    }
}

public enum FindingRecord {
    public static let fields = ["rule", "severity", "seq", "at", "user", "session", "message"]

    public static func cells(_ f: Finding) -> [Cell] {
        [.string(f.rule.name), .string(f.severity.name), .integer(Int64(f.seq)), .instant(f.at),
         .string(f.user), f.session.map(Cell.string) ?? .null, .string(f.message)]
    }

    public static func json(_ f: Finding) -> String { RecordPrinter.object(fields: fields, cells: cells(f)) }
}

/// The instant a range's records are "as of": the last instant of [T1, T2), whose state is
/// the one after every event with `at < T2` (SPEC.md section 6).
public func lastInstant(before end: Instant) -> Instant { Instant(nanoseconds: end.nanoseconds - 1) }
