/// Where printed records go: a buffer handed to `drain` whenever it grows past 64 KiB and
/// on `flush`. The command line drains to standard output; the server to a response body.
///
/// Not thread-safe: one report writes to one output at a time.
public final class RecordOutput {
    private var buffer: [UInt8] = []
    private let drain: ([UInt8]) -> Void
    static let flushAt = 1 << 16

    public init(drain: @escaping ([UInt8]) -> Void) {
        self.drain = drain
        buffer.reserveCapacity(RecordOutput.flushAt)
    }

    public func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= RecordOutput.flushAt { flush() }
    }

    public func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= RecordOutput.flushAt { flush() }
    }

    public func line(_ text: String) {
        write(text)
        write([0x0A])
    }

    public func flush() {
        guard !buffer.isEmpty else { return }
        drain(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// A `RecordOutput` that keeps everything in memory (for a response body or a test).
public final class RecordCollector {
    public private(set) var bytes: [UInt8] = []
    public lazy var output = RecordOutput { [unowned self] in self.bytes.append(contentsOf: $0) }

    public init() {}

    /// Everything written, once the output is flushed.
    public func finish() -> [UInt8] {
        output.flush()
        return bytes
    }

    /// What was written since the last `take`, and forgets it (for a streamed body).
    public func take() -> [UInt8] {
        output.flush()
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }
}

/// The four formats of SPEC.md section 6.
public enum OutputFormat: String, CaseIterable, Sendable {
    case table, json, ndjson, csv
}
