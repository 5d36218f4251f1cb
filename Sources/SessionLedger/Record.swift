/// The binary record of one stored event, version 2 (docs/FORMAT.md, field by field).
///
/// A record names its user and session by their interned numbers; only the first record that
/// names each (in `seq` order) also carries the string (decision 0008), so that the checksum
/// and the hash chain cover every name once. Decoding takes the others from a `NameSource`.
public enum Record {
    public static let version: UInt8 = 2
    /// Bytes before the strings.
    static let headerSize = 28

    enum Flag {
        static let session: UInt8 = 1 << 0
        static let client: UInt8 = 1 << 1
        static let method: UInt8 = 1 << 2
        static let id: UInt8 = 1 << 3
        static let ip: UInt8 = 1 << 4
        static let agent: UInt8 = 1 << 5
        static let meta: UInt8 = 1 << 6
        static let all: UInt8 = 0x7F
    }

    /// Byte 3: which names the record carries as strings.
    public struct Carried: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let user = Carried(rawValue: 1 << 0)
        public static let session = Carried(rawValue: 1 << 1)
        static let all: UInt8 = 0x03
    }

    /// The fixed-size front of a record: enough for ordering and for the fold's fast paths.
    public struct Header: Equatable, Sendable {
        public var kind: Event.Kind
        public var at: Instant
        public var recorded: Instant
        public var userNumber: UInt32
        public var sessionNumber: UInt32
    }

    /// A record that does not decode.
    public struct Damage: Error, CustomStringConvertible {
        public var problem: String
        public var description: String { problem }
    }

    /// Encodes `event` into `out` (replacing its contents). `carrying` says which of its names
    /// this record is the first to use (the session only counts when the event has one).
    public static func encode(_ event: Event, recorded: Instant, userNumber: UInt32, sessionNumber: UInt32,
                              carrying: Carried, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var flags: UInt8 = 0
        if event.session != nil { flags |= Flag.session }
        if event.client != nil { flags |= Flag.client }
        if event.method != nil { flags |= Flag.method }
        if event.id != nil { flags |= Flag.id }
        if event.ip != nil { flags |= Flag.ip }
        if event.agent != nil { flags |= Flag.agent }
        if event.hasMeta { flags |= Flag.meta }
        out.append(version)
        out.append(event.kind.rawValue)
        var carried = carrying
        if event.session == nil { carried.remove(.session) }
        out.append(flags)
        out.append(carried.rawValue)
        appendLE(UInt64(bitPattern: event.at.nanoseconds), 8, &out)
        appendLE(UInt64(bitPattern: recorded.nanoseconds), 8, &out)
        appendLE(UInt64(userNumber), 4, &out)
        appendLE(UInt64(sessionNumber), 4, &out)
        if carried.contains(.user) { appendString(event.user, &out) }
        if carried.contains(.session), let value = event.session { appendString(value, &out) }
        if let value = event.client { appendString(value, &out) }
        if let value = event.method { appendString(value, &out) }
        if let value = event.id { appendString(value, &out) }
        if let value = event.ip { appendString(value, &out) }
        if let value = event.agent { appendString(value, &out) }
        if event.hasMeta {
            out.append(UInt8(event.meta.count))
            for pair in event.meta {
                appendString(pair.key, &out)
                appendString(pair.value, &out)
            }
        }
        let crc = out.withUnsafeBytes { CRC32.checksum($0) }
        appendLE(UInt64(crc), 4, &out)
    }

    /// Reads the fixed header after checking version, type and length; does not verify the checksum.
    @inline(__always)
    public static func header(_ bytes: UnsafeRawBufferPointer) throws -> Header {
        guard bytes.count >= headerSize + 4 else { throw Damage(problem: "record too short (\(bytes.count) bytes)") }
        guard bytes[0] == version else { throw Damage(problem: "unknown record version \(bytes[0])") }
        guard let kind = Event.Kind(rawValue: bytes[1]) else { throw Damage(problem: "unknown event type \(bytes[1])") }
        return Header(
            kind: kind,
            at: Instant(nanoseconds: Int64(bitPattern: readLE(bytes, 4, 8))),
            recorded: Instant(nanoseconds: Int64(bitPattern: readLE(bytes, 12, 8))),
            userNumber: UInt32(readLE(bytes, 20, 4)),
            sessionNumber: UInt32(readLE(bytes, 24, 4)))
    }

    /// Which names the record carries as strings (byte 3; `decode` checks it).
    @inline(__always)
    public static func carried(_ bytes: UnsafeRawBufferPointer) -> Carried {
        Carried(rawValue: bytes.count > 3 ? bytes[3] & Carried.all : 0)
    }

    /// True when the stored checksum matches the bytes before it.
    public static func checksumMatches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 4 else { return false }
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 4)])
        return CRC32.checksum(body) == UInt32(readLE(bytes, bytes.count - 4, 4))
    }

    /// Where a record's strings lie, found by `layout` after every check `decode` makes.
    struct Layout {
        typealias Span = Range<Int>
        var user: Span?  // only when the record carries it
        var session: Span?  // likewise
        var client: Span?
        var method: Span?
        var id: Span?
        var ip: Span?
        var agent: Span?
        /// Where the meta pairs begin (after their count byte), and how many there are.
        var metaStart = 0
        var metaCount = 0
    }

    /// Reads a record's length-prefixed strings in turn, up to its checksum. A struct rather
    /// than a nested function over a captured index: a captured variable is checked for
    /// exclusive access at every use, on every record a fold reads.
    private struct SpanReader {
        let bytes: UnsafeRawBufferPointer
        var i: Int
        let end: Int

        init(bytes: UnsafeRawBufferPointer, at start: Int) {
            (self.bytes, i, end) = (bytes, start, bytes.count - 4)
        }

        mutating func string() throws -> Layout.Span {
            guard i + 2 <= end else { throw Damage(problem: "string runs past the record") }
            let n = Int(readLE(bytes, i, 2))
            i += 2
            guard i + n <= end else { throw Damage(problem: "string runs past the record") }
            defer { i += n }
            return i..<(i + n)
        }
    }

    /// Checks the whole record as `decode` does (checksum, flags, numbers, the length of every
    /// string) and says where its strings lie, without making any of them.
    static func layout(_ bytes: UnsafeRawBufferPointer) throws -> (header: Header, layout: Layout) {
        let header = try header(bytes)
        guard checksumMatches(bytes) else { throw Damage(problem: "checksum mismatch") }
        let flags = bytes[2]
        guard flags & ~Flag.all == 0, bytes[3] & ~Carried.all == 0 else { throw Damage(problem: "unknown flags") }
        let carried = Carried(rawValue: bytes[3])
        guard flags & Flag.session != 0 || !carried.contains(.session) else {
            throw Damage(problem: "a session name on an event without a session")
        }
        guard header.userNumber != 0, (flags & Flag.session != 0) == (header.sessionNumber != 0) else {
            throw Damage(problem: "the user or session number does not match the record's fields")
        }
        var spans = SpanReader(bytes: bytes, at: headerSize)
        var layout = Layout()
        if carried.contains(.user) { layout.user = try spans.string() }
        if carried.contains(.session) { layout.session = try spans.string() }
        if flags & Flag.client != 0 { layout.client = try spans.string() }
        if flags & Flag.method != 0 { layout.method = try spans.string() }
        if flags & Flag.id != 0 { layout.id = try spans.string() }
        if flags & Flag.ip != 0 { layout.ip = try spans.string() }
        if flags & Flag.agent != 0 { layout.agent = try spans.string() }
        if flags & Flag.meta != 0 {
            guard spans.i < spans.end else { throw Damage(problem: "meta runs past the record") }
            layout.metaCount = Int(bytes[spans.i])
            spans.i += 1
            layout.metaStart = spans.i
            for _ in 0..<(2 * layout.metaCount) { _ = try spans.string() }
        }
        let (i, end) = (spans.i, spans.end)
        guard i == end else { throw Damage(problem: "\(end - i) unexpected bytes before the checksum") }
        return (header, layout)
    }

    /// Checks the whole record as `decode` does and returns its header, making no strings and
    /// asking no `NameSource`: for a fold that applies the event from its header alone.
    public static func check(_ bytes: UnsafeRawBufferPointer) throws -> Header {
        try layout(bytes).header
    }

    /// Decodes the whole record, verifying its checksum and layout; the names it does not carry
    /// come from `names`. With `foldOnly`, the strings the derivation never reads (`id`, `ip`,
    /// `agent`, `meta`) are checked for layout but not made into `String`s.
    public static func decode<Names: NameSource>(_ bytes: UnsafeRawBufferPointer, foldOnly: Bool = false,
                                                 names: Names) throws -> (header: Header, event: Event) {
        let (header, layout) = try layout(bytes)
        func text(_ span: Layout.Span) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: bytes[span]), as: UTF8.self)
        }
        func field(_ span: Layout.Span?, needed: Bool = true) -> String? {
            needed ? span.map(text) : nil
        }
        let user = try layout.user.map(text) ?? names.user(header.userNumber)
        var session: String?
        if header.sessionNumber != 0 {
            session = try layout.session.map(text) ?? names.session(header.sessionNumber)
        }
        var meta: [Event.MetaPair] = []
        if !foldOnly {
            var i = layout.metaStart
            func next() -> String {
                let n = Int(readLE(bytes, i, 2))
                defer { i += 2 + n }
                return text((i + 2)..<(i + 2 + n))
            }
            for _ in 0..<layout.metaCount {
                let key = next()
                meta.append(Event.MetaPair(key: key, value: next()))
            }
        }
        // Only a record that decoded whole hands over the names it carries.
        if layout.user != nil { names.carried(user: header.userNumber, user) }
        if layout.session != nil, let session { names.carried(session: header.sessionNumber, session) }
        let event = Event(kind: header.kind, at: header.at, user: user, session: session, client: field(layout.client),
                          method: field(layout.method), id: field(layout.id, needed: !foldOnly),
                          ip: field(layout.ip, needed: !foldOnly), agent: field(layout.agent, needed: !foldOnly),
                          meta: meta, hasMeta: bytes[2] & Flag.meta != 0)
        return (header, event)
    }

    @inline(__always)
    static func appendString(_ s: String, _ out: inout [UInt8]) {
        var s = s
        s.withUTF8 { bytes in
            appendLE(UInt64(bytes.count), 2, &out)
            out.append(contentsOf: bytes)
        }
    }
}

/// Where `Record.decode` finds the names a record does not carry, by number; it also hands
/// over the names a record carries once the whole record has decoded (checksum and layout),
/// which a source may keep.
public protocol NameSource {
    func user(_ number: UInt32) throws -> String
    func session(_ number: UInt32) throws -> String
    func carried(user number: UInt32, _ name: String)
    func carried(session number: UInt32, _ name: String)
}

extension NameSource {
    public func carried(user number: UInt32, _ name: String) {}
    public func carried(session number: UInt32, _ name: String) {}
}

// MARK: - Integer byte orders

@inline(__always)
func appendLE(_ value: UInt64, _ width: Int, _ out: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0[0..<width]) }
}

@inline(__always)
func readLE(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> UInt64 {
    var v: UInt64 = 0
    for k in (0..<width).reversed() { v = v << 8 | UInt64(bytes[offset + k]) }
    return v
}

@inline(__always)
func appendBE(_ value: UInt64, _ width: Int, _ out: inout [UInt8]) {
    withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0[(8 - width)..<8]) }
}

@inline(__always)
func readBE(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> UInt64 {
    var v: UInt64 = 0
    for k in 0..<width { v = v << 8 | UInt64(bytes[offset + k]) }
    return v
}

extension Instant {
    /// The instant as 8 big-endian bytes whose byte order is time order (sign bit flipped).
    @inline(__always)
    var biased: UInt64 { UInt64(bitPattern: nanoseconds) ^ 0x8000_0000_0000_0000 }

    @inline(__always)
    init(biased: UInt64) { self.init(nanoseconds: Int64(bitPattern: biased ^ 0x8000_0000_0000_0000)) }
}
