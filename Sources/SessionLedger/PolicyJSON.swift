/// A JSON value as read from a policy file: just enough JSON (RFC 8259) for a small,
/// hand-written configuration document, and strict about it.
///
/// Objects keep their keys in order and refuse a duplicated key (a policy that says
/// `max_skew` twice is a mistake, not a choice); numbers are kept as their text, since a
/// policy has none; strings must be valid UTF-8. Nesting is limited to 32 levels.
enum PolicyJSON: Hashable {
    case object([(key: String, value: PolicyJSON)])
    case array([PolicyJSON])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    static func == (a: PolicyJSON, b: PolicyJSON) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)):
            x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(x), .array(y)): x == y
        case let (.string(x), .string(y)): x == y
        case let (.number(x), .number(y)): x == y
        case let (.bool(x), .bool(y)): x == y
        case (.null, .null): true
        default: false
        }
    }

    func hash(into hasher: inout Hasher) {
        switch self {
        case .object(let members):
            hasher.combine(0)
            for (k, v) in members { hasher.combine(k); hasher.combine(v) }
        case .array(let items): hasher.combine(1); hasher.combine(items)
        case .string(let s): hasher.combine(2); hasher.combine(s)
        case .number(let n): hasher.combine(3); hasher.combine(n)
        case .bool(let b): hasher.combine(4); hasher.combine(b)
        case .null: hasher.combine(5)
        }
    }

    /// The JSON type's name as an error names it: "a string", "a number", "an object", ...
    var typeName: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        }
    }

    /// Parses one JSON document (a UTF-8 byte order mark and surrounding whitespace allowed).
    /// Errors name the line and column, and the key path for a duplicated key.
    static func parse(_ bytes: [UInt8]) throws(PolicyError) -> PolicyJSON {
        var parser = Parser(bytes: bytes)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.i = 3 }
        parser.skipSpace()
        let value = try parser.value(path: "", depth: 0)
        parser.skipSpace()
        guard parser.i == bytes.count else { throw parser.fail("unexpected text after the JSON value") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func fail(_ what: String) -> PolicyError {
            var line = 1
            var column = 1
            for b in bytes[..<min(i, bytes.count)] {
                if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
            }
            return PolicyError(key: nil, message: "invalid JSON at line \(line), column \(column): \(what)")
        }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D {
                i += 1
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard bytes.count - i >= n else { return false }
            for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return false }
            i += n
            return true
        }

        mutating func value(path: String, depth: Int) throws(PolicyError) -> PolicyJSON {
            guard depth < 32 else { throw fail("nested more than 32 levels deep") }
            guard i < bytes.count else { throw fail("expected a value, found the end of the text") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var members: [(key: String, value: PolicyJSON)] = []
                var seen = Set<ByteIdentity>()
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key in double quotes") }
                    let key = try string()
                    let keyPath = path.isEmpty ? key : path + "." + key
                    if !seen.insert(ByteIdentity(key)).inserted {
                        throw PolicyError(key: PolicyReader.printable(keyPath), message: "duplicated key")
                    }
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
                    i += 1
                    skipSpace()
                    members.append((key, try value(path: keyPath, depth: depth + 1)))
                    skipSpace()
                    guard i < bytes.count else { throw fail("expected ',' or '}', found the end of the text") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                    throw fail("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                i += 1
                var items: [PolicyJSON] = []
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    skipSpace()
                    items.append(try value(path: "\(path)[\(items.count)]", depth: depth + 1))
                    skipSpace()
                    guard i < bytes.count else { throw fail("expected ',' or ']', found the end of the text") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                    throw fail("expected ',' or ']'")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"):
                if literal("true") { return .bool(true) }
            case UInt8(ascii: "f"):
                if literal("false") { return .bool(false) }
            case UInt8(ascii: "n"):
                if literal("null") { return .null }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .number(try number())
            default:
                break
            }
            throw fail("expected a value")
        }

        mutating func digits() -> Int {
            let start = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            return i - start
        }

        mutating func number() throws(PolicyError) -> String {
            let start = i
            if bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 else { throw fail("expected a digit") }
            if bytes[i] == UInt8(ascii: "0") { i += 1 } else { _ = digits() }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                guard digits() > 0 else { throw fail("expected a digit after '.'") }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { throw fail("expected a digit in the exponent") }
            }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }

        mutating func hex4() throws(PolicyError) -> UInt32 {
            guard bytes.count - i >= 4 else { throw fail("expected four hex digits after \\u") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x41...0x46: d = c - 0x41 + 10
                case 0x61...0x66: d = c - 0x61 + 10
                default: throw fail("expected four hex digits after \\u")
                }
                v = v << 4 | UInt32(d)
                i += 1
            }
            return v
        }

        /// Reads a string starting at its opening quote.
        mutating func string() throws(PolicyError) -> String {
            i += 1
            var raw: [UInt8] = []
            while true {
                guard i < bytes.count else { throw fail("unterminated string") }
                let c = bytes[i]
                if c == UInt8(ascii: "\"") { i += 1; break }
                if c < 0x20 { throw fail("control character in a string") }
                if c != UInt8(ascii: "\\") { raw.append(c); i += 1; continue }
                i += 1
                guard i < bytes.count else { throw fail("unterminated string") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): raw.append(e)
                case UInt8(ascii: "b"): raw.append(0x08)
                case UInt8(ascii: "f"): raw.append(0x0C)
                case UInt8(ascii: "n"): raw.append(0x0A)
                case UInt8(ascii: "r"): raw.append(0x0D)
                case UInt8(ascii: "t"): raw.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard literal("\\u") else { throw fail("lone surrogate in a \\u escape") }
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("lone surrogate in a \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("lone surrogate in a \\u escape")
                    }
                    raw.append(contentsOf: String(UnicodeScalar(scalar)!).utf8)
                default:
                    throw fail("invalid escape in a string")
                }
            }
            guard let s = String(validating: raw, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
            return s
        }
    }
}
