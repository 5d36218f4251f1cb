import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import SessionLedger
import SledgerReports

/// A query's answer as it is printed, kept until the query is done and then sent as the
/// response body: the first `memoryBytes` in memory, the rest in a `TemporaryFile`, read back
/// a chunk at a time as the client takes it. A served answer is found whole before its first
/// byte is sent (a query that fails answers with an error, never half a body), but it is not
/// held in the server's memory: a year of sessions at 100M events is 233 MB of CSV.
final class AnswerSpool: @unchecked Sendable {
    /// The bytes an answer keeps in memory before it goes to a file: 8 MiB, or
    /// `SLEDGER_ANSWER_MEMORY_BYTES` when that is a whole number (tests send spilled answers
    /// through a real server with it; docs/SERVER.md).
    static let memoryBytes: Int = {
        guard let text = getenv("SLEDGER_ANSWER_MEMORY_BYTES").map({ String(cString: $0) }), let bytes = Int(text), bytes >= 0 else { return 8 << 20 }
        return bytes
    }()
    /// The bytes read from the file and handed to the client at a time.
    static let chunkBytes = 1 << 20

    private let memoryBytes: Int
    private var head: [UInt8] = []
    private var file: TemporaryFile?
    private var failure: (any Error)?
    private var finished = false

    init(memoryBytes: Int = AnswerSpool.memoryBytes) {
        self.memoryBytes = memoryBytes
    }

    /// Where the query prints. Written from one thread (the query's), then `finish()`.
    private(set) lazy var output = RecordOutput { [unowned self] bytes in self.keep(bytes) }

    /// The answer's length in bytes.
    var count: Int { head.count + (file?.count ?? 0) }
    /// Whether part of it went to the file (for tests).
    var spilled: Bool { file != nil }

    private func keep(_ bytes: [UInt8]) {
        guard failure == nil else { return }
        if file == nil, head.count + bytes.count <= memoryBytes {
            head.append(contentsOf: bytes)
            return
        }
        do {
            if file == nil { file = try TemporaryFile(for: "this answer") }
            try file!.append(bytes)
        } catch {
            failure = error  // thrown by `finish()`: the printers' output cannot throw
        }
    }

    /// Ends the answer (after the query's last write); throws what writing its file failed
    /// with, so that the query answers with an error instead.
    func finish() throws {
        output.flush()
        finished = true
        if let failure { throw failure }
    }

    /// The response body: the bytes in memory, then the file's, read on a worker thread (a
    /// read that waits for the disk must not hold one of the few threads that run requests).
    func body() -> ResponseBody {
        precondition(finished, "body() before finish()")
        return ResponseBody(contentLength: count) { writer in
            if !self.head.isEmpty { try await writer.write(ByteBuffer(bytes: self.head)) }
            var offset = self.head.count
            while offset < self.count {
                let from = offset
                let chunk = try await AnswerSpool.onWorkerThread { try self.fileChunk(at: from) }
                offset += chunk.readableBytes
                try await writer.write(chunk)
            }
            try await writer.finish(nil)
        }
    }

    /// Up to `chunkBytes` of the answer from `offset` (past the bytes in memory).
    private func fileChunk(at offset: Int) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: AnswerSpool.chunkBytes)
        let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: AnswerSpool.chunkBytes) {
            try file!.read(at: offset - head.count, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<AnswerSpool.chunkBytes]))
        }
        guard n > 0 else { throw TemporaryFile.Failure("the temporary file of this answer ended early") }
        return buffer
    }

    private static func onWorkerThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
