/// The sessions of an answer (`sessions --from T1 --to T2`; also `sessions --at T` with no
/// checkpoint to start from, and each side of `diff-policy`), each kept as the bytes of its
/// final state from the moment the fold knows it, then handed back in a fold's order: what
/// lets a range of months be printed without holding every session of it as a `SessionState`
/// (about 450 bytes apiece in a fold: a year at 100M events held 695-710 MiB).
///
/// A fold applies logins in (`at`, `seq`) order, and a checkpoint's sessions, all logged in
/// by its instant, come first in that order too; so a fold's order is the order of
/// (`loginAt`, `loginSeq`). Each session's entry in memory is its `loginAt` and the place of
/// its bytes (16 bytes); `loginSeq` leads the bytes, read only to order equal `loginAt`s. The bytes stay in memory up to `spillBytes`, then go to a
/// `TemporaryFile` (unlinked, in `TMPDIR`), read back through its read-only map: file pages,
/// not the process's own memory.
public final class SettledSessions {
    private struct Entry {
        var loginAt: Int64
        /// Where its bytes begin, counting the file's bytes first, then `pending`'s.
        var offset: Int
    }

    private let policy: Policy
    private let spillBytes: Int
    private var entries: [Entry] = []
    /// Encoded states not yet written to the file.
    private var pending: [UInt8] = []
    private var file: TemporaryFile?
    private var fileBytes: Int { file?.count ?? 0 }
    /// The file's bytes, mapped by `finish()`.
    private var map: UnsafeRawBufferPointer?
    private var finished = false

    /// How many sessions it holds.
    public var count: Int { entries.count }
    /// Whether some of them went to the temporary file (for tests).
    var spilled: Bool { file != nil }

    /// The states' rules are `policy`'s for their clients, as a fold's are.
    public init(policy: Policy, spillBytes: Int = 32 << 20) {
        self.policy = policy
        self.spillBytes = spillBytes
    }

    /// Keeps one session's state. The same session must not be added twice.
    public func append(_ state: borrowing SessionState) throws {
        entries.append(Entry(loginAt: state.loginAt.nanoseconds, offset: fileBytes + pending.count))
        appendLE(state.loginSeq, 8, &pending)
        for text in [state.session, state.user, state.client, state.method] {
            appendLE(UInt64(text.utf8.count), 4, &pending)
            pending.append(contentsOf: text.utf8)
        }
        appendLE(UInt64(bitPattern: state.lastExtendedAt.nanoseconds), 8, &pending)
        appendLE(UInt64(bitPattern: Int64(state.refreshCount)), 8, &pending)
        appendLE(UInt64(bitPattern: state.expiresAt?.nanoseconds ?? 0), 8, &pending)
        appendLE(UInt64(bitPattern: state.endedAt?.nanoseconds ?? 0), 8, &pending)
        // Bit 0: `expiresAt` is set; bits 1-2: the end reason (0: none); bit 3: `endedAt` is set.
        let reason: UInt8 = switch state.endReason {
        case nil: 0
        case .logout: 1
        case .logoutAll: 2
        case .tokenDeleted: 3
        }
        pending.append((state.expiresAt == nil ? 0 : 1) | reason << 1 | (state.endedAt == nil ? 0 : 8))
        if pending.count >= spillBytes { try writePending(fillingAgain: true) }
    }

    /// Makes them ready to be read in a fold's order: the bytes still in memory go to the
    /// file when there is one, which is mapped, and the entries are sorted. Called once, after
    /// the last `append`; whatever can fail fails here, before anything is printed.
    func finish() throws {
        precondition(!finished, "finished twice")
        finished = true
        if let file {
            if !pending.isEmpty { try writePending(fillingAgain: false) }
            map = try file.map()
        }
        withBytes { bytes in
            entries.sort { a, b in
                a.loginAt != b.loginAt ? a.loginAt < b.loginAt : readLE(bytes, a.offset, 8) < readLE(bytes, b.offset, 8)
            }
        }
    }

    /// Hands every state to `body` in a fold's order (after `finish()`).
    public func forEachInLoginOrder(_ body: (SessionState) throws -> Void) rethrows {
        precondition(finished, "forEachInLoginOrder before finish()")
        try withBytes { bytes in
            for entry in entries { try body(decode(entry, from: bytes)) }
        }
    }

    /// The `i`-th state in a fold's order (after `finish()`), for walking two answers side by side.
    public subscript(i: Int) -> SessionState {
        precondition(finished, "read before finish()")
        return withBytes { decode(entries[i], from: $0) }
    }

    /// Every state's bytes: the file's map after `finish()` when there is a file, else `pending`.
    private func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let map { return try body(map) }
        return try pending.withUnsafeBytes(body)
    }

    private func decode(_ entry: Entry, from bytes: UnsafeRawBufferPointer) -> SessionState {
        let loginSeq = readLE(bytes, entry.offset, 8)
        var at = entry.offset + 8
        func text() -> String {
            let length = Int(readLE(bytes, at, 4))
            defer { at += 4 + length }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(at + 4)..<(at + 4 + length)]), as: UTF8.self)
        }
        func int() -> Int64 {
            defer { at += 8 }
            return Int64(bitPattern: readLE(bytes, at, 8))
        }
        let (session, user, client, method) = (text(), text(), text(), text())
        var state = SessionState(session: session, user: user, client: client, method: method,
                                 loginAt: Instant(nanoseconds: entry.loginAt), loginSeq: loginSeq, rules: policy.client(client))
        state.lastExtendedAt = Instant(nanoseconds: int())
        state.refreshCount = Int(int())
        let expiresAt = int(), endedAt = int()
        let flags = bytes[at]
        state.expiresAt = flags & 1 == 0 ? nil : Instant(nanoseconds: expiresAt)
        state.endReason = switch flags >> 1 & 3 {
        case 1: .logout
        case 2: .logoutAll
        case 3: .tokenDeleted
        default: nil
        }
        state.endedAt = flags & 8 == 0 ? nil : Instant(nanoseconds: endedAt)
        return state
    }

    /// Moves `pending` to the end of the temporary file (made on first use).
    private func writePending(fillingAgain: Bool) throws {
        if file == nil { file = try TemporaryFile(for: "this answer") }
        try file!.append(pending)
        // From now on `pending` fills to `spillBytes` and a record more, never twice that.
        pending = []
        if fillingAgain { pending.reserveCapacity(spillBytes + 1 << 16) }
    }
}
