#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The strict reader for one NDJSON line (SPEC.md section 2, messages in docs/INPUT.md).
///
/// A hand-written byte-level parser rather than `JSONDecoder`: it must refuse duplicated
/// keys, name the key at fault, and read several hundred thousand lines a second. The
/// schema is flat (only `meta` nests, one level of strings), which keeps it small.
public struct EventParser {
    /// The longest line accepted, newline not counted.
    public static let maxLineBytes = 65_536

    /// The top-level keys, in canonical order; the index is the key's slot.
    static let keyNames: [String] = ["type", "at", "user", "session", "client", "method", "id", "ip", "agent", "meta"]
    static let keyBytes: [[UInt8]] = keyNames.map { Array($0.utf8) }

    private var scratch: [UInt8] = []

    public init() { scratch.reserveCapacity(1024) }

    /// Parses one line (without its newline). Returns nil for a blank line.
    public mutating func parse(_ line: UnsafeRawBufferPointer, lineNumber: Int) throws -> Event? {
        if line.count > EventParser.maxLineBytes {
            throw InputError(line: lineNumber, key: nil, problem: "longer than \(EventParser.maxLineBytes) bytes")
        }
        var scanner = Scanner(bytes: line, lineNumber: lineNumber)
        scanner.skipWhitespace()
        if scanner.atEnd { return nil }
        return try parseObject(&scanner)
    }

    // MARK: - The object

    private mutating func parseObject(_ s: inout Scanner) throws -> Event {
        guard s.peek() == UInt8(ascii: "{") else { throw s.syntax("expected an object") }
        s.advance()
        var strings = StringSlots()
        var kind: Event.Kind??  // nil: no `type`; .some(nil): an unknown type
        var at: AtValue?
        var seen: UInt16 = 0
        var meta: [Event.MetaPair] = []
        var hasMeta = false
        s.skipWhitespace()
        if s.peek() == UInt8(ascii: "}") {
            s.advance()
        } else {
            while true {
                s.skipWhitespace()
                guard s.peek() == UInt8(ascii: "\"") else { throw s.syntax("expected a key in double quotes") }
                let slot = try readKey(&s)
                s.skipWhitespace()
                guard s.peek() == UInt8(ascii: ":") else { throw s.syntax("expected ':' after a key") }
                s.advance()
                s.skipWhitespace()
                let name = EventParser.keyNames[slot]
                if seen & (1 << slot) != 0 { throw s.error(name, "duplicated key") }
                seen |= 1 << slot
                if slot == 9 {
                    meta = try readMeta(&s)
                    hasMeta = true
                } else if slot == 0 {
                    kind = .some(try readBytes(&s, key: name) { Event.Kind(bytes: $0) })
                } else if slot == 1 {
                    at = try readBytes(&s, key: name) { bytes in
                        if let instant = Instant(rfc3339: bytes) { return .valid(instant) }
                        if bytes.count >= 19, bytes[16] == UInt8(ascii: ":"), bytes[17] == UInt8(ascii: "6"),
                           bytes[18] == UInt8(ascii: "0") { return .leapSecond }
                        return .invalid
                    }
                } else {
                    strings[slot] = try readString(&s, key: name)
                }
                s.skipWhitespace()
                guard let c = s.peek() else { throw s.syntax("expected ',' or '}'") }
                s.advance()
                if c == UInt8(ascii: "}") { break }
                guard c == UInt8(ascii: ",") else { throw s.syntax("expected ',' or '}'") }
            }
        }
        s.skipWhitespace()
        guard s.atEnd else { throw s.syntax("expected end of line after the object") }
        return try validate(kind: kind, at: at, strings, meta: meta, hasMeta: hasMeta, line: s.lineNumber)
    }

    /// What the `at` text turned out to be.
    enum AtValue {
        case valid(Instant)
        case leapSecond
        case invalid
    }

    /// Reads a string value and hands its decoded bytes to `body` without making a `String`.
    private mutating func readBytes<T>(_ s: inout Scanner, key: String, _ body: (UnsafeRawBufferPointer) -> T) throws -> T {
        guard s.peek() == UInt8(ascii: "\"") else { throw s.wrongType(key, expected: "a string") }
        if let end = s.plainStringEnd() {
            let raw = UnsafeRawBufferPointer(rebasing: s.bytes[(s.index + 1)..<end])
            s.index = end + 1
            return body(raw)
        }
        try decodeString(&s, key: key)
        return scratch.withUnsafeBytes { body($0) }
    }

    /// Reads a key and returns its slot; unknown keys are refused here, as they are met.
    private mutating func readKey(_ s: inout Scanner) throws -> Int {
        let start = s.index
        // Fast path: a plain ASCII key equal to a known one.
        if let end = s.plainStringEnd() {
            let raw = UnsafeRawBufferPointer(rebasing: s.bytes[(start + 1)..<end])
            for (slot, known) in EventParser.keyBytes.enumerated() where known.count == raw.count {
                if known.withUnsafeBytes({ $0.elementsEqual(raw) }) {
                    s.index = end + 1
                    return slot
                }
            }
        }
        s.index = start
        try decodeString(&s, key: nil)
        for (slot, known) in EventParser.keyBytes.enumerated() where known == scratch { return slot }
        throw s.error(InputError.printable(key: scratch), "unknown key")
    }

    private mutating func readString(_ s: inout Scanner, key: String) throws -> String {
        guard s.peek() == UInt8(ascii: "\"") else { throw s.wrongType(key, expected: "a string") }
        if let end = s.plainStringEnd() {
            let raw = UnsafeRawBufferPointer(rebasing: s.bytes[(s.index + 1)..<end])
            s.index = end + 1
            return String(decoding: raw, as: UTF8.self)
        }
        try decodeString(&s, key: key)
        return String(decoding: scratch, as: UTF8.self)
    }

    private mutating func readMeta(_ s: inout Scanner) throws -> [Event.MetaPair] {
        guard s.peek() == UInt8(ascii: "{") else { throw s.wrongType("meta", expected: "an object") }
        s.advance()
        var pairs: [Event.MetaPair] = []
        var seen = Set<[UInt8]>()
        s.skipWhitespace()
        if s.peek() == UInt8(ascii: "}") { s.advance(); return pairs }
        while true {
            s.skipWhitespace()
            guard s.peek() == UInt8(ascii: "\"") else { throw s.syntax("expected a key in double quotes in meta") }
            try decodeString(&s, key: "meta")
            let keyBytes = scratch
            let keyName = "meta." + InputError.printable(key: keyBytes)
            // A key given twice is a fault of the JSON text: reported where it is met.
            guard seen.insert(keyBytes).inserted else { throw s.error(keyName, "duplicated key") }
            s.skipWhitespace()
            guard s.peek() == UInt8(ascii: ":") else { throw s.syntax("expected ':' after a key") }
            s.advance()
            s.skipWhitespace()
            let value = try readString(&s, key: keyName)
            pairs.append(Event.MetaPair(key: String(decoding: keyBytes, as: UTF8.self), value: value))
            s.skipWhitespace()
            guard let c = s.peek() else { throw s.syntax("expected ',' or '}' in meta") }
            s.advance()
            if c == UInt8(ascii: "}") { break }
            guard c == UInt8(ascii: ",") else { throw s.syntax("expected ',' or '}' in meta") }
        }
        return pairs
    }

    /// Decodes the string at the scanner (escapes, UTF-8, control characters) into `scratch`.
    /// `key` nil means the string is itself a key.
    private mutating func decodeString(_ s: inout Scanner, key: String?) throws {
        scratch.removeAll(keepingCapacity: true)
        s.advance()  // the opening quote
        @inline(__always) func fail(_ problem: String) -> InputError {
            if let key { return s.error(key, problem) }
            if problem == "invalid UTF-8" { return InputError(line: s.lineNumber, key: nil, problem: "invalid UTF-8 in a key") }
            return s.syntax("\(problem) in a key")
        }
        while true {
            guard let c = s.peek() else { throw s.syntax("unterminated string") }
            if c == UInt8(ascii: "\"") { s.advance(); break }
            if c == UInt8(ascii: "\\") {
                s.advance()
                guard let e = s.peek() else { throw s.syntax("unterminated string") }
                s.advance()
                switch e {
                case UInt8(ascii: "\""): scratch.append(0x22)
                case UInt8(ascii: "\\"): scratch.append(0x5C)
                case UInt8(ascii: "/"): scratch.append(0x2F)
                case UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    if key != nil { throw fail("contains a control character") }
                    // In a key: keep the character, so "unknown key" shows it escaped as written.
                    let controls: [UInt8: UInt8] = [0x62: 0x08, 0x66: 0x0C, 0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09]
                    scratch.append(controls[e]!)
                case UInt8(ascii: "u"):
                    guard var scalar = s.hex4() else { throw s.syntax("invalid \\u escape") }
                    if scalar >= 0xD800 && scalar <= 0xDBFF {
                        guard s.peek() == UInt8(ascii: "\\"), s.peek(1) == UInt8(ascii: "u") else {
                            throw fail("invalid \\u escape (lone surrogate)")
                        }
                        s.index += 2
                        guard let low = s.hex4() else { throw s.syntax("invalid \\u escape") }
                        guard low >= 0xDC00 && low <= 0xDFFF else { throw fail("invalid \\u escape (lone surrogate)") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                        throw fail("invalid \\u escape (lone surrogate)")
                    }
                    if (scalar < 0x20 || scalar == 0x7F) && key != nil { throw fail("contains a control character") }
                    appendUTF8(scalar)
                default:
                    throw s.syntax("invalid escape in a string")
                }
                continue
            }
            if c < 0x20 || c == 0x7F {
                if key != nil { throw fail("contains a control character") }
                throw s.syntax("control character in a key")
            }
            if c < 0x80 {
                scratch.append(c)
                s.advance()
                continue
            }
            guard let length = s.validUTF8SequenceLength() else { throw fail("invalid UTF-8") }
            for k in 0..<length { scratch.append(s.bytes[s.index + k]) }
            s.index += length
        }
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | (scalar >> 6)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | (scalar >> 12)))
            scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            scratch.append(UInt8(0xF0 | (scalar >> 18)))
            scratch.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    // MARK: - Per-key rules, in the table order of SPEC.md section 2

    /// The string-valued keys of one line, by slot, without a heap-allocated array per line.
    struct StringSlots {
        var user, session, client, method, id, ip, agent: String?
        subscript(slot: Int) -> String? {
            get {
                switch slot {
                case 2: user
                case 3: session
                case 4: client
                case 5: method
                case 6: id
                case 7: ip
                default: agent
                }
            }
            set {
                switch slot {
                case 2: user = newValue
                case 3: session = newValue
                case 4: client = newValue
                case 5: method = newValue
                case 6: id = newValue
                case 7: ip = newValue
                default: agent = newValue
                }
            }
        }
    }

    private func validate(kind: Event.Kind??, at atValue: AtValue?, _ strings: StringSlots, meta: [Event.MetaPair], hasMeta: Bool,
                          line: Int) throws -> Event {
        func error(_ key: String, _ problem: String) -> InputError { InputError(line: line, key: key, problem: problem) }

        guard let kind else { throw error("type", "missing required key") }
        guard let kind else { throw error("type", "unknown event type") }

        let at: Instant
        switch atValue {
        case nil: throw error("at", "missing required key")
        case .leapSecond: throw error("at", "leap second (:60) is not accepted")
        case .invalid: throw error("at", "not an RFC 3339 instant (years 1678-2261, 0-9 fractional digits, Z or +HH:MM)")
        case .valid(let instant): at = instant
        }

        guard let user = strings.user else { throw error("user", "missing required key") }
        guard (1...256).contains(user.utf8.count) else { throw error("user", "must be 1 to 256 bytes") }

        let session = strings.session
        if let session {
            guard (1...256).contains(session.utf8.count) else { throw error("session", "must be 1 to 256 bytes") }
        } else if kind != .logoutAll {
            throw error("session", "missing required key")
        }

        for (slot, name) in [(4, "client"), (5, "method")] {
            if let value = strings[slot] {
                guard kind == .login else { throw error(name, "only allowed on login") }
                guard EventParser.isIdentifier(value) else { throw error(name, "must match [a-z0-9_-]{1,32}") }
            } else if kind == .login {
                throw error(name, "missing required key")
            }
        }

        if let id = strings.id, !(1...128).contains(id.utf8.count) { throw error("id", "must be 1 to 128 bytes") }
        if let ip = strings.ip, !EventParser.isIPAddress(ip) { throw error("ip", "not a textual IPv4 or IPv6 address") }
        if let agent = strings.agent, agent.utf8.count > 1024 { throw error("agent", "longer than 1024 bytes") }

        if meta.count > 32 { throw error("meta", "more than 32 pairs") }
        for pair in meta {
            guard EventParser.isMetaKey(pair.key) else { throw error("meta", "key must match [A-Za-z0-9_.-]{1,64}") }
            if pair.value.utf8.count > 1024 { throw error("meta.\(pair.key)", "longer than 1024 bytes") }
        }

        return Event(kind: kind, at: at, user: user, session: session, client: strings.client, method: strings.method,
                     id: strings.id, ip: strings.ip, agent: strings.agent, meta: meta, hasMeta: hasMeta)
    }

    /// `[a-z0-9_-]{1,32}`
    static func isIdentifier(_ s: String) -> Bool {
        let u = s.utf8
        guard (1...32).contains(u.count) else { return false }
        return u.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D }
    }

    /// `[A-Za-z0-9_.-]{1,64}`
    static func isMetaKey(_ s: String) -> Bool {
        let u = s.utf8
        guard (1...64).contains(u.count) else { return false }
        return u.allSatisfy {
            ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39)
                || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D
        }
    }

    static func isIPAddress(_ s: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, s, &buffer) == 1 || inet_pton(AF_INET6, s, &buffer) == 1
    }
}

/// A cursor over one line's bytes.
struct Scanner {
    let bytes: UnsafeRawBufferPointer
    let lineNumber: Int
    var index = 0

    init(bytes: UnsafeRawBufferPointer, lineNumber: Int) {
        self.bytes = bytes
        self.lineNumber = lineNumber
    }

    var atEnd: Bool { index >= bytes.count }

    @inline(__always) func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    @inline(__always) mutating func advance() { index += 1 }

    @inline(__always) mutating func skipWhitespace() {
        while index < bytes.count {
            let c = bytes[index]
            guard c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D else { return }
            index += 1
        }
    }

    /// When the string at `index` is printable ASCII with no escapes, the index of its closing quote.
    @inline(__always) func plainStringEnd() -> Int? {
        var i = index + 1
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x22 { return i }
            if c == 0x5C || c < 0x20 || c >= 0x7F { return nil }
            i += 1
        }
        return nil
    }

    mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = bytes[index + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        index += 4
        return v
    }

    /// The length of the well-formed UTF-8 sequence at `index` (RFC 3629: no overlong forms,
    /// no surrogates, nothing above U+10FFFF), or nil.
    func validUTF8SequenceLength() -> Int? {
        let b0 = bytes[index]
        func cont(_ k: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            index + k < bytes.count && bytes[index + k] >= low && bytes[index + k] <= high
        }
        switch b0 {
        case 0xC2...0xDF: return cont(1) ? 2 : nil
        case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : nil
        case 0xE1...0xEC, 0xEE...0xEF: return cont(1) && cont(2) ? 3 : nil
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : nil
        case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : nil
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : nil
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : nil
        default: return nil
        }
    }

    /// What kind of JSON value starts here, for "expected a string, found ...", or nil when
    /// the text is not the start of a JSON value at all (then it is a syntax error).
    func valueKind() -> String? {
        guard let c = peek() else { return nil }
        func literal(_ word: String) -> Bool {
            let w = Array(word.utf8)
            guard index + w.count <= bytes.count else { return false }
            for (k, b) in w.enumerated() where bytes[index + k] != b { return false }
            let next = index + w.count < bytes.count ? bytes[index + w.count] : 0x20
            return next == 0x20 || next == 0x09 || next == 0x0D || next == 0x0A || next == 0x2C || next == 0x7D
        }
        switch c {
        case UInt8(ascii: "{"): return "an object"
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "t"): return literal("true") ? "true" : nil
        case UInt8(ascii: "f"): return literal("false") ? "false" : nil
        case UInt8(ascii: "n"): return literal("null") ? "null" : nil
        case UInt8(ascii: "-"):
            return index + 1 < bytes.count && (0x30...0x39).contains(bytes[index + 1]) ? "a number" : nil
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return "a number"
        default: return nil
        }
    }

    /// The error for a value of the wrong type under `key`, or for no JSON value at all.
    func wrongType(_ key: String, expected: String) -> InputError {
        guard let kind = valueKind() else { return syntax("expected a value") }
        return error(key, "expected \(expected), found \(kind)")
    }

    func error(_ key: String, _ problem: String) -> InputError {
        InputError(line: lineNumber, key: key, problem: problem)
    }

    func syntax(_ problem: String) -> InputError {
        InputError(line: lineNumber, key: nil, problem: "invalid JSON: \(problem)")
    }
}
