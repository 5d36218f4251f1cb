#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an `import` or `append` reads NDJSON from: a named file or standard input.
///
/// A source can be read again from the start (`rewind`), because a write that runs out of
/// map space is retried from the beginning after the map grows. A named file or redirected
/// regular file is simply re-read; a pipe is copied to an unlinked temporary file as it is
/// read, so the second pass reads the copy and then whatever the pipe still holds.
public final class InputSource {
    /// The name shown in errors (nil for standard input).
    public let name: String?
    private let fd: Int32
    private let ownsDescriptor: Bool
    private let seekable: Bool
    /// Where reading began: standard input may be a file already partly read by someone else.
    private let startOffset: off_t
    /// Size in bytes when known (regular files, and a pipe read to its end by `extent`): what
    /// is left to read from `startOffset`.
    public private(set) var size: Int?
    /// What a pipe gave so far, kept to be read again after `rewind`.
    private var spool: TemporaryFile?
    private var spoolLength: Int { spool?.count ?? 0 }
    private var spoolReadOffset = 0
    private var replaying = false
    /// Set by `readsOnce()`: a pipe is not copied, and cannot be read again.
    private var once = false
    private var consumed = 0
    /// Whether a descriptor that cannot seek has said end of input: it is not read again (a
    /// terminal would wait for another end of input, a FIFO could bring a new writer's lines).
    private var ended = false

    /// Opens a named file; `-` means standard input.
    public convenience init(path: String) throws {
        if path == "-" {
            self.init(fileDescriptor: 0, name: nil, closesIt: false)
            return
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SourceError(message: "\(path): \(String(cString: strerror(errno)))") }
        self.init(fileDescriptor: fd, name: path)
    }

    public static func standardInput() throws -> InputSource { try InputSource(path: "-") }

    /// The bytes `sources` hold from where each stands, when every size is known (nil else).
    public static func totalSize(of sources: [InputSource]) -> Int? {
        let known = sources.compactMap(\.size)
        return known.count == sources.count ? known.reduce(0, +) : nil
    }

    /// The bytes and lines left to read when there are at most `limit` bytes, else nil. A
    /// pipe is read ahead to tell (at most `limit` + 1 bytes, into its copy), and reading then
    /// starts again from the first byte, as after `rewind`. Call it before reading anything else.
    public func extent(atMost limit: Int) throws -> (bytes: Int, lines: Int)? {
        let from: Int32, start: off_t
        if seekable {
            guard let size, size <= limit else { return nil }
            (from, start) = (fd, startOffset)
        } else {
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while spoolLength <= limit, !ended {
                _ = try chunk.withUnsafeMutableBytes { try read(into: $0.baseAddress!, count: min($0.count, limit + 1 - spoolLength)) }
            }
            try rewind()
            guard ended, spoolLength <= limit else { return nil }
            size = spoolLength
            (from, start) = (spool?.descriptor ?? -1, 0)
        }
        return (size!, try InputSource.lines(of: from, from: start, bytes: size!))
    }

    /// The lines in `bytes` bytes of `fd` from `offset` (a last one without a newline counts),
    /// read with `pread`, so the descriptor's position does not move.
    private static func lines(of fd: Int32, from offset: off_t, bytes: Int) throws -> Int {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var lines = 0, done = 0
        var last: UInt8 = 0x0A
        while done < bytes {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, min($0.count, bytes - done), offset + off_t(done)) }
            guard n > 0 else { throw SourceError(message: "cannot read the input to count its lines") }
            for byte in buffer[..<n] where byte == 0x0A { lines += 1 }
            last = buffer[n - 1]
            done += n
        }
        return lines + (last == 0x0A ? 0 : 1)
    }

    /// A source over an open descriptor (a pipe, say), read from where it stands; the source
    /// closes it unless `closesIt` is false.
    public init(fileDescriptor: Int32, name: String?, closesIt: Bool = true) {
        self.name = name
        self.fd = fileDescriptor
        self.ownsDescriptor = closesIt
        var st = stat()
        let offset = lseek(fileDescriptor, 0, SEEK_CUR)
        if fstat(fileDescriptor, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, offset >= 0 {
            self.seekable = true
            self.startOffset = offset
            self.size = max(0, Int(st.st_size) - Int(offset))
        } else {
            self.seekable = false
            self.startOffset = 0
            self.size = nil
        }
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    /// Says the source will be read once, from its first byte to its end (`SortedInput`): a
    /// pipe is then not copied to a temporary file. Call it before reading anything.
    public func readsOnce() {
        once = true
    }

    /// Starts again from the first byte.
    public func rewind() throws {
        if seekable {
            guard lseek(fd, startOffset, SEEK_SET) == startOffset else { throw SourceError(message: "cannot rewind input") }
            return
        }
        if once {
            guard consumed == 0 else { throw SourceError(message: "cannot read \(name ?? "standard input") again: it was read once, without a copy") }
            return
        }
        replaying = true
        spoolReadOffset = 0
    }

    /// Reads up to `count` bytes into `buffer`; 0 at the end.
    func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        if replaying {
            if spoolReadOffset < spoolLength {
                let n = try spool!.read(at: spoolReadOffset, into: UnsafeMutableRawBufferPointer(start: buffer, count: count))
                spoolReadOffset += n
                return n
            }
            replaying = false
        }
        if ended { return 0 }
        var n: Int
        repeat { n = Glibc.read(fd, buffer, count) } while n < 0 && errno == EINTR
        guard n >= 0 else { throw SourceError(message: "\(name ?? "standard input"): \(String(cString: strerror(errno)))") }
        consumed += n
        if !seekable && !once && n > 0 { try keepCopy(buffer, n) }
        if !seekable && n == 0 { ended = true }
        return n
    }

    private func keepCopy(_ buffer: UnsafeMutableRawPointer, _ n: Int) throws {
        if spool == nil { spool = try TemporaryFile(for: "a copy of the input") }
        try spool!.append(UnsafeRawBufferPointer(start: buffer, count: n))
    }

    public struct SourceError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}

/// Splits a source into lines without holding more than one buffer and one line.
///
/// A line longer than `EventParser.maxLineBytes` is not kept: it is reported by length only,
/// and its bytes are skipped up to the next newline.
struct LineReader {
    private let source: InputSource
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var eof = false
    private(set) var lineNumber = 0
    /// Bytes consumed so far (for progress).
    private(set) var bytesRead = 0

    init(source: InputSource, capacity: Int = 1 << 20) {
        self.source = source
        self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, EventParser.maxLineBytes * 2 + 2), alignment: 8)
    }

    func deallocate() { buffer.deallocate() }

    enum Line {
        case text(UnsafeRawBufferPointer)
        case tooLong
    }

    /// The next line (valid until the next call), or nil at the end.
    mutating func next() throws -> Line? {
        var overlong = false
        while true {
            if let nl = findNewline() {
                let line = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[start..<nl])
                start = nl + 1
                lineNumber += 1
                return overlong ? .tooLong : .text(line)
            }
            if eof {
                guard start < end || overlong else { return nil }
                let line = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[start..<end])
                start = end
                lineNumber += 1
                return overlong ? .tooLong : .text(line)
            }
            if end - start > EventParser.maxLineBytes {
                overlong = true
                start = end  // drop what we have of it; keep scanning for its end
            }
            try fill()
        }
    }

    private func findNewline() -> Int? {
        guard start < end else { return nil }
        let base = buffer.baseAddress!
        guard let p = memchr(base + start, 0x0A, end - start) else { return nil }
        return base.distance(to: p)
    }

    private mutating func fill() throws {
        if start > 0 {
            let remaining = end - start
            if remaining > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + start, remaining) }
            start = 0
            end = remaining
        }
        let n = try source.read(into: buffer.baseAddress! + end, count: buffer.count - end)
        if n == 0 { eof = true }
        end += n
        bytesRead += n
    }
}

extension InputSource {
    /// A source over bytes in memory (library use and tests), through an unlinked temporary file.
    public convenience init(bytes: [UInt8]) throws {
        let file = try TemporaryFile(for: "the input")
        try file.append(bytes)
        // The source's own descriptor (close-on-exec, at offset 0); the file closes its own.
        let fd = fcntl(file.descriptor, F_DUPFD_CLOEXEC, 0)
        guard fd >= 0 else { throw SourceError(message: "cannot open the temporary file of the input: \(String(cString: strerror(errno)))") }
        self.init(fileDescriptor: fd, name: nil)
    }
}
