/// The events of one request body held in memory (NDJSON, or one JSON object), parsed and
/// validated before any transaction begins: the same parser, line numbers and messages as
/// `append` (docs/INPUT.md).
public struct EventBatch: Sendable {
    public struct Line: Sendable {
        public var event: Event
        /// The 1-based line number within the body.
        public var number: Int
    }

    public var lines: [Line]
    /// The body's size, to size the map before a group commit.
    public var byteCount: Int

    public var count: Int { lines.count }

    /// Parses an NDJSON body: blank lines are counted and skipped; the first bad line throws
    /// its `InputError`.
    public static func parse(ndjson body: [UInt8]) throws -> EventBatch {
        var parser = EventParser()
        var lines: [Line] = []
        var number = 0
        try body.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                let newline = raw[start...].firstIndex(of: 0x0A) ?? raw.count
                number += 1
                let line = UnsafeRawBufferPointer(rebasing: raw[start..<newline])
                if let event = try parser.parse(line, lineNumber: number) {
                    lines.append(Line(event: event, number: number))
                }
                start = newline + 1
            }
        }
        return EventBatch(lines: lines, byteCount: body.count)
    }

    /// Parses one JSON object, which may span several lines: a line break can only be
    /// whitespace in a valid event (control characters are refused inside strings), so the
    /// object is read as line 1 with its line breaks taken as spaces.
    public static func parse(object body: [UInt8]) throws -> EventBatch {
        let flat = body.map { $0 == 0x0A || $0 == 0x0D ? UInt8(ascii: " ") : $0 }
        return try parse(ndjson: flat)
    }
}
