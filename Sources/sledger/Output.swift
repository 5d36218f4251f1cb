import SledgerReports
#if canImport(Glibc)
import Glibc
#endif

/// Buffered standard output and unbuffered standard error.
enum Output {
    /// Standard output, for the record printers of `SledgerReports`.
    nonisolated(unsafe) static let standard = RecordOutput { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { break }
            offset += n
        }
    }

    static func write(_ bytes: [UInt8]) { standard.write(bytes) }

    static func write(_ text: String) { standard.write(text) }

    static func line(_ text: String) { standard.line(text) }

    static func flush() { standard.flush() }

    static func error(_ text: String) {
        let line = Array((text + "\n").utf8)
        _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress!, $0.count) }
    }

    static var standardErrorIsTerminal: Bool { isatty(2) == 1 }
}

extension Output {
    /// Writes to standard error without a newline (progress lines).
    static func errorPartial(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress!, $0.count) }
    }
}

extension RecordPrinter {
    /// A printer to standard output.
    init(format: OutputFormat, fields: [String], titles: [String]? = nil) {
        self.init(format: format, fields: fields, titles: titles, output: Output.standard)
    }
}
