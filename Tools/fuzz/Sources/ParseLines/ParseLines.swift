#if canImport(Glibc)
import Glibc
#endif
import SessionLedger

/// `ParseLines FILE`: every line of FILE (split on `\n` only) through `EventParser`, one
/// answer a line: `BLANK`, `OK <canonical form>` or `ERR <message>`. The Swift half of
/// Tools/fuzz/differential.py, which compares it with Tools/canonical.py.
/// The program's `main` as SwiftPM links it (`main` bound to `ParseLines_main`), as in the
/// fuzz targets, which are built with the same flags.
@_cdecl("ParseLines_main")
public func parseLinesMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    do {
        guard CommandLine.arguments.count == 2, let f = fopen(CommandLine.arguments[1], "rb") else {
            fputs("usage: ParseLines FILE\n", stderr)
            exit(2)
        }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        fclose(f)
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var out: [UInt8] = []
        var parser = EventParser()
        for (i, line) in lines.enumerated() {
            do {
                let event = try Array(line).withUnsafeBytes { try parser.parse($0, lineNumber: i + 1) }
                if let event {
                    out += Array("OK ".utf8) + CanonicalWriter.bytes(of: event)
                } else {
                    out += Array("BLANK".utf8)
                }
            } catch {
                out += Array("ERR \(error)".utf8)
            }
            out.append(0x0A)
        }
        _ = out.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, stdout) }
    }
    return 0
}

/// Never called: built with `-sanitize=fuzzer` like the targets, the program links libFuzzer,
/// which needs this symbol.
@_cdecl("LLVMFuzzerTestOneInput")
public func unusedTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { 0 }
