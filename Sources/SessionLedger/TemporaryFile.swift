#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A file of scratch bytes with no name: made in `TMPDIR` (else `/tmp`) and unlinked at once,
/// so it goes when it is closed or the process ends, however it ends. What an answer too large
/// to hold in memory spills to (`SettledSessions`, a served answer), and what a piped input is
/// copied to (`InputSource`). Its descriptor is close-on-exec (set just after it is made;
/// sledger starts no other programs).
///
/// Not thread-safe: one owner writes it, then reads it.
public final class TemporaryFile {
    public let descriptor: Int32
    /// Bytes written so far.
    public private(set) var count = 0
    /// What the file holds, for messages ("this answer", "a copy of the input").
    private let purpose: String
    private let directory: String
    private var mapped: UnsafeRawBufferPointer?

    public static var directory: String {
        if let t = getenv("TMPDIR"), t.pointee != 0 { return String(cString: t) }
        return "/tmp"
    }

    /// Makes the file; `purpose` says in messages what it holds.
    public init(for purpose: String) throws {
        self.purpose = purpose
        directory = TemporaryFile.directory
        var template = Array("\(directory)/sledger-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw Failure("cannot create a temporary file in \(directory) for \(purpose): \(TemporaryFile.reason(errno)) (TMPDIR chooses the directory)")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        descriptor = fd
    }

    deinit {
        if let mapped { munmap(UnsafeMutableRawPointer(mutating: mapped.baseAddress), mapped.count) }
        close(descriptor)
    }

    /// Adds `bytes` at the end.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(mapped == nil, "append after map()")
        var written = 0
        while written < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(count + written))
            let error = errno
            if n < 0, error == EINTR { continue }
            guard n > 0 else {
                throw Failure("cannot write the temporary file of \(purpose) in \(directory): \(n == 0 ? "nothing written" : TemporaryFile.reason(error)) (TMPDIR chooses the directory)")
            }
            written += n
        }
        count += bytes.count
    }

    public func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// Reads up to `buffer.count` bytes from `offset`; returns how many (0 at the end).
    public func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = pread(descriptor, buffer.baseAddress!, min(buffer.count, max(count - offset, 0)), off_t(offset))
            if n >= 0 { return n }
            let error = errno
            if error == EINTR { continue }
            throw Failure("cannot read back the temporary file of \(purpose): \(TemporaryFile.reason(error))")
        }
    }

    /// Every byte written, through a read-only map of the file (file pages, not the process's
    /// own memory); nothing more may be appended. Unmapped when the file is closed.
    public func map() throws -> UnsafeRawBufferPointer {
        if let mapped { return mapped }
        guard count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        guard let p = mmap(nil, count, PROT_READ, MAP_SHARED, descriptor, 0), p != MAP_FAILED else {
            throw Failure("cannot read back the temporary file of \(purpose): \(TemporaryFile.reason(errno))")
        }
        mapped = UnsafeRawBufferPointer(start: p, count: count)
        return mapped!
    }

    private static func reason(_ error: Int32) -> String { String(cString: strerror(error)) }

    public struct Failure: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
        public init(_ message: String) { self.message = message }
    }
}
