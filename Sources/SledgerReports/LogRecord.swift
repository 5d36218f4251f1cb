import SessionLedger

/// `log`: a stored event with its `seq` and `recorded`, in the four formats.
public enum LogRecord {
    public static let fields = ["seq", "recorded", "type", "at", "user", "session", "client", "method", "id", "ip", "agent", "meta"]

    /// Writes the events with `seq` greater than `after` (at most `limit` of them); returns
    /// the last `seq` written, or `after` when there was none.
    @discardableResult
    public static func write(_ snapshot: LedgerSnapshot, after: UInt64, limit: Int = .max,
                             printer: inout RecordPrinter) throws -> UInt64 {
        var last = after
        var count = 0
        guard limit > 0 else { return last }
        try snapshot.forEachEvent(after: after) { stored in
            add(stored, to: &printer)
            last = stored.seq
            count += 1
            return count < limit
        }
        return last
    }

    /// Prints one event; `ndjson` is the canonical writer's form, as `export --with-seq` prints it.
    public static func add(_ stored: StoredEvent, to printer: inout RecordPrinter) {
        if printer.format == .ndjson {
            var line: [UInt8] = []
            CanonicalWriter.write(stored.event, seq: stored.seq, recorded: stored.recorded, into: &line)
            line.append(0x0A)
            printer.output.write(line)
        } else {
            printer.add(cells(stored))
        }
    }

    public static func cells(_ stored: StoredEvent) -> [Cell] {
        let e = stored.event
        func optional(_ s: String?) -> Cell { s.map(Cell.string) ?? .absent }
        var meta: Cell = .absent
        if e.hasMeta {
            var out: [UInt8] = [UInt8(ascii: "{")]
            for (i, pair) in e.meta.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalWriter.appendString(pair.key, &out)
                out.append(UInt8(ascii: ":"))
                CanonicalWriter.appendString(pair.value, &out)
            }
            out.append(UInt8(ascii: "}"))
            meta = .json(String(decoding: out, as: UTF8.self))
        }
        return [.integer(Int64(stored.seq)), .instant(stored.recorded), .string(e.kind.name),
                .instant(e.at), .string(e.user), optional(e.session), optional(e.client),
                optional(e.method), optional(e.id), optional(e.ip), optional(e.agent), meta]
    }
}
