// The properties every fuzz input is checked against (docs/FUZZING.md). The in-suite campaign,
// Tests/SessionLedgerTests/ParserFuzzTests.swift, checks the same ones; keep the two in step.
#if canImport(Glibc)
import Glibc
#endif
import SessionLedger

/// One broken property: `kind` groups findings (one saved input per kind), `detail` explains.
public struct Violation: Error, CustomStringConvertible {
    public var kind: String
    public var detail: String
    public init(_ kind: String, _ detail: String) { self.kind = kind; self.detail = detail }
    public var description: String { "\(kind): \(detail)" }
}

/// What an error message may not contain: C0 controls and DEL (SPEC.md's control characters),
/// and, separately, the characters other than `\n` that end a line for some readers
/// (C1 controls such as U+0085 NEL, U+2028, U+2029).
public enum MessageText {
    public static func problem(_ text: String) -> (kind: String, scalar: UInt32)? {
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v < 0x20 || v == 0x7F { return ("message-control-character", v) }
        }
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if (0x80...0x9F).contains(v) || v == 0x2028 || v == 0x2029 { return ("message-c1-or-line-separator", v) }
        }
        return nil
    }

    /// A message's shape word: digits, quotes' contents and keys left out, so that one fault met
    /// in many inputs groups as one finding.
    public static func shape(_ text: String) -> String {
        String(text.unicodeScalars.filter { ($0.value >= 0x61 && $0.value <= 0x7A) || $0 == " " }.prefix(40).map(Character.init))
    }
}

public enum EventChecks {
    /// The line number every check passes; errors must start with `line 7: `.
    public static let lineNumber = 7
    /// The longest message a refusal may need: `line N: ` + a key cut to 64 bytes (after `meta.`) + the
    /// longest problem text (the `at` one). Longer means something of the input was echoed.
    public static let longestMessage = 200

    static func parse(_ parser: inout EventParser, _ bytes: [UInt8], line: Int) -> Result<Event?, Error> {
        bytes.withUnsafeBytes { raw in Result { try parser.parse(raw, lineNumber: line) } }
    }

    /// Checks one line; nil when every property holds.
    public static func check(line bytes: [UInt8]) -> Violation? {
        var parser = EventParser()
        let first = parse(&parser, bytes, line: lineNumber)
        // The same parser again (its scratch buffer is reused): the same answer.
        let again = parse(&parser, bytes, line: lineNumber)
        switch (first, again) {
        case let (.success(a), .success(b)) where a == b: break
        case let (.failure(a as InputError), .failure(b as InputError)) where a == b: break
        default: return Violation("parser-not-repeatable", "\(first) then \(again)")
        }
        switch first {
        case .failure(let error):
            guard let error = error as? InputError else {
                return Violation("non-input-error", "threw \(type(of: error)): \(error)")
            }
            let text = error.description
            guard text.utf8.starts(with: "line \(lineNumber): ".utf8), error.line == lineNumber, error.file == nil else {
                return Violation("message-prefix", text)
            }
            if let (kind, scalar) = MessageText.problem(text) {
                return Violation(kind, "U+\(String(scalar, radix: 16, uppercase: true)) in \(text.debugDescription) (\(MessageText.shape(error.problem)))")
            }
            if text.utf8.count > longestMessage {
                return Violation("message-too-long", "\(text.utf8.count) bytes: \(String(text.prefix(120)).debugDescription)")
            }
            return nil
        case .success(nil):
            // Blank: only spaces, tabs, CR (and LF, which a line cannot hold) are blank.
            guard bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }) else {
                return Violation("non-blank-returned-nil", "\(bytes.count) bytes")
            }
            return nil
        case .success(let event?):
            return checkAccepted(event, from: bytes)
        }
    }

    /// An accepted line: valid UTF-8 within the length limit, and its canonical form is a line
    /// that reads back as the same event and writes back as the same bytes.
    static func checkAccepted(_ event: Event, from bytes: [UInt8]) -> Violation? {
        if String(validating: bytes, as: UTF8.self) == nil {
            return Violation("accepted-invalid-utf8", "an accepted line is not valid UTF-8")
        }
        if bytes.count > EventParser.maxLineBytes {
            return Violation("accepted-overlong", "\(bytes.count) bytes")
        }
        let canonical = CanonicalWriter.bytes(of: event)
        if canonical.count > EventParser.maxLineBytes {
            return Violation("canonical-overlong", "\(canonical.count) bytes")
        }
        if canonical.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            return Violation("canonical-control-character", String(decoding: canonical, as: UTF8.self).debugDescription)
        }
        var parser = EventParser()
        let back: Event?
        do {
            back = try canonical.withUnsafeBytes { try parser.parse($0, lineNumber: 1) }
        } catch {
            return Violation("canonical-refused", "\(error) for \(String(decoding: canonical, as: UTF8.self).debugDescription)")
        }
        guard let back, back == event else {
            return Violation("canonical-reads-back-different", String(decoding: canonical, as: UTF8.self).debugDescription)
        }
        let again = CanonicalWriter.bytes(of: back)
        guard again == canonical else {
            return Violation("canonical-not-stable", "\(String(decoding: canonical, as: UTF8.self).debugDescription) then \(String(decoding: again, as: UTF8.self).debugDescription)")
        }
        return nil
    }
}

public enum PolicyChecks {
    /// `KEY: WHAT`: a key path cut to 64 bytes (plus `...`) and the longest message, which
    /// quotes a duration text cut to 64 bytes.
    public static let longestMessage = 400

    public static func check(json bytes: [UInt8]) -> Violation? {
        let policy: Policy
        do {
            policy = try Policy(json: bytes)
        } catch {
            let text = error.description
            if let (kind, scalar) = MessageText.problem(text) {
                return Violation("policy-" + kind, "U+\(String(scalar, radix: 16, uppercase: true)) in \(text.debugDescription) (\(MessageText.shape(error.message)))")
            }
            if text.isEmpty { return Violation("policy-message-empty", "") }
            if text.utf8.count > longestMessage {
                return Violation("policy-message-too-long", "\(text.utf8.count) bytes: \(String(text.prefix(120)).debugDescription)")
            }
            return nil
        }
        let canonical = policy.canonicalJSON()
        let back: Policy
        do {
            back = try Policy(json: Array(canonical.utf8))
        } catch {
            return Violation("policy-canonical-refused", "\(error) for \(canonical.debugDescription)")
        }
        guard back == policy else {
            return Violation("policy-canonical-reads-back-different", canonical.debugDescription)
        }
        let again = back.canonicalJSON()
        guard again == canonical else {
            return Violation("policy-canonical-not-stable", "\(canonical.debugDescription) then \(again.debugDescription)")
        }
        return nil
    }
}

/// Collects findings without stopping the campaign: one saved input per kind (the shortest
/// met), a count per kind, and a summary line at exit. Inputs go to `$FUZZ_FINDINGS_DIR`.
public final class Findings {
    public static let shared = Findings()
    var counts: [String: Int] = [:]
    var shortest: [String: Int] = [:]
    var installed = false
    var target = ""
    let directory: String? = getenv("FUZZ_FINDINGS_DIR").map { String(cString: $0) }

    public func installSummaryOnce(target: String) {
        guard !installed else { return }
        installed = true
        self.target = target
        atexit { Findings.shared.printSummary() }
    }

    public func record(_ violation: Violation, input: [UInt8]) {
        let kind = violation.kind + MessageText.shapeKey(violation)
        counts[kind, default: 0] += 1
        if counts[kind] == 1 {
            fputs("FINDING \(kind): \(violation.detail.prefix(300))\n", stderr)
        }
        guard let directory, input.count < (shortest[kind] ?? Int.max) else { return }
        shortest[kind] = input.count
        write(input, to: "\(directory)/\(kind).input")
        write(Array("\(violation)\n".utf8), to: "\(directory)/\(kind).txt")
    }

    func write(_ bytes: [UInt8], to path: String) {
        guard let f = fopen(path, "wb") else { return }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }

    func printSummary() {
        let total = counts.values.reduce(0, +)
        var line = "FINDINGS \(target): \(counts.count) kinds, \(total) inputs"
        for (kind, n) in counts.sorted(by: { $0.key < $1.key }) { line += "; \(kind) x\(n)" }
        fputs(line + "\n", stderr)
    }
}

extension MessageText {
    /// Groups the message findings by where the offending text came from: the character after a
    /// backslash (`invalid escape '\X'`), or a key name.
    static func shapeKey(_ violation: Violation) -> String {
        guard violation.kind.contains("message-c") else { return "" }
        return violation.detail.contains("invalid escape") ? ".invalid-escape" : ".key-name"
    }
}

// MARK: - The libFuzzer driver

/// libFuzzer's entry for a program that has its own `main` (SwiftPM links every executable
/// with `main` bound to `<Target>_main`, so libFuzzer's own `main` is never used).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

public func runFuzzer(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                      _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector, callback)
}

/// The bytes of one libFuzzer input.
public func inputBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}
