/// What a checkpoint at C says of the stretch of time line before it, `[from, C]`, where
/// `from` is the instant the fold that wrote it started from (the checkpoint before, or
/// `Instant.earliest` for a fold from the first event): every session active at some instant
/// of the stretch, with its user's number, its client, its login and the end of its active
/// interval as of C (`SessionState.activeUntil`, or `Instant.latest` for one still active at C).
///
/// That is all `who` needs for any T in the stretch. A session inactive at some instant stays
/// inactive and unchanged (SessionState), so as of C it has the end it had as of any later
/// instant than that end; one active at C was active from its login to C. So the sessions
/// active at T as of T are exactly the entries with `loginAt <= T < until`, and those active
/// in `[T1, T2)` as of T2's last instant the entries with `loginAt < T2`, `loginAt < until`
/// and `T1 < until` (`SessionState.wasActive`), when T1 and T2's last instant lie in the
/// stretch. `who` then counts entries instead of folding (`LedgerSnapshot.whoFromStretch`).
///
/// Part of the checkpoint, so whatever invalidates the checkpoint (a late event at or before
/// C) removes it too; `sledger check` compares it with a refold (docs/FORMAT.md).
public struct CheckpointStretch: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        /// The user's number (`users`).
        public var user: UInt32
        /// An index into `clients`.
        public var client: UInt32
        public var loginAt: Instant
        /// The end of the active interval as of C; `Instant.latest` while active at C.
        public var until: Instant
    }

    /// The stretch's first instant.
    public var from: Instant
    /// The client strings of the entries, each once (by bytes), in order of first use.
    public var clients: [String]
    /// The sessions, in login order.
    public var entries: [Entry]

    /// Bytes per entry: user u32, client u32, `loginAt` i64, `until` i64.
    static let entrySize = 24

    /// The stretch `[from, at]` of a fold that started at `from` and has applied every event
    /// with `at <= at`: nil when some session's user number is not known (a fold resumed from
    /// a version 1 checkpoint), since entries are counted by number.
    init?(_ derivation: Derivation, from: Instant, at: Instant) {
        self.from = from
        clients = []
        entries = []
        var clientIndex: [ByteIdentity: UInt32] = [:]
        for (state, numbers) in derivation.numberedSessions {
            let until = state.isActive(at: at) ? Instant.latest : (state.activeUntil ?? .latest)
            guard until > from, until > state.loginAt else { continue }  // inactive all the stretch, or never active
            guard numbers.user != 0 else { return nil }
            let client: UInt32
            if let known = clientIndex[ByteIdentity(state.client)] {
                client = known
            } else {
                client = UInt32(clients.count)
                clientIndex[ByteIdentity(state.client)] = client
                clients.append(state.client)
            }
            entries.append(Entry(user: numbers.user, client: client, loginAt: state.loginAt, until: until))
        }
    }

    init(from: Instant, clients: [String], entries: [Entry]) {
        (self.from, self.clients, self.entries) = (from, clients, entries)
    }

    // MARK: - Bytes

    /// Appends the stretch's length and the stretch as stored inside a checkpoint
    /// (docs/FORMAT.md): `from`, the clients, the entries, then a CRC-32 of every byte of `out`
    /// before it, the checkpoint's header included, so that a reader of the stretch alone
    /// checks all it relies on.
    func append(to out: inout [UInt8]) {
        let clientBytes = clients.reduce(0) { $0 + 2 + $1.utf8.count }
        appendLE(UInt64(8 + 4 + clientBytes + 4 + entries.count * Self.entrySize + 4), 4, &out)
        out.reserveCapacity(out.count + 16 + clientBytes + entries.count * Self.entrySize + 4)
        appendLE(UInt64(bitPattern: from.nanoseconds), 8, &out)
        appendLE(UInt64(clients.count), 4, &out)
        for client in clients { Record.appendString(client, &out) }
        appendLE(UInt64(entries.count), 4, &out)
        for entry in entries {
            appendLE(UInt64(entry.user), 4, &out)
            appendLE(UInt64(entry.client), 4, &out)
            appendLE(UInt64(bitPattern: entry.loginAt.nanoseconds), 8, &out)
            appendLE(UInt64(bitPattern: entry.until.nanoseconds), 8, &out)
        }
        appendLE(UInt64(out.withUnsafeBytes { CRC32.checksum($0) }), 4, &out)
    }

    /// A stored stretch read in place: `value` is the whole checkpoint value, the stretch
    /// `value[start..<end]`. Nil when its checksum or layout is wrong.
    struct View {
        let from: Instant
        let clients: [String]
        /// The entries' bytes.
        let entries: UnsafeRawBufferPointer

        init?(_ value: UnsafeRawBufferPointer, start: Int, end: Int) {
            guard start >= 0, end <= value.count, end - start >= 20 else { return nil }
            guard CRC32.checksum(UnsafeRawBufferPointer(rebasing: value[0..<(end - 4)])) == UInt32(readLE(value, end - 4, 4)) else {
                return nil
            }
            var i = start
            from = Instant(nanoseconds: Int64(bitPattern: readLE(value, i, 8)))
            let count = Int(readLE(value, i + 8, 4))
            i += 12
            var clients: [String] = []
            for _ in 0..<count {
                guard i + 2 <= end - 4 else { return nil }
                let n = Int(readLE(value, i, 2))
                guard i + 2 + n <= end - 4 else { return nil }
                clients.append(String(decoding: UnsafeRawBufferPointer(rebasing: value[(i + 2)..<(i + 2 + n)]), as: UTF8.self))
                i += 2 + n
            }
            self.clients = clients
            guard i + 4 <= end - 4 else { return nil }
            let entryCount = Int(readLE(value, i, 4))
            i += 4
            guard entryCount == (end - 4 - i) / CheckpointStretch.entrySize, (end - 4 - i) % CheckpointStretch.entrySize == 0 else { return nil }
            entries = UnsafeRawBufferPointer(rebasing: value[i..<(end - 4)])
            for k in 0..<entryCount {
                let e = entry(k)
                guard e.user != 0, e.client < clients.count else { return nil }
            }
        }

        var count: Int { entries.count / CheckpointStretch.entrySize }

        /// Entry `k`'s fields, read in place.
        @inline(__always)
        func entry(_ k: Int) -> (user: UInt32, client: UInt32, loginAt: Int64, until: Int64) {
            let o = k * CheckpointStretch.entrySize
            return (UInt32(littleEndian: entries.loadUnaligned(fromByteOffset: o, as: UInt32.self)),
                    UInt32(littleEndian: entries.loadUnaligned(fromByteOffset: o + 4, as: UInt32.self)),
                    Int64(littleEndian: entries.loadUnaligned(fromByteOffset: o + 8, as: Int64.self)),
                    Int64(littleEndian: entries.loadUnaligned(fromByteOffset: o + 16, as: Int64.self)))
        }

        /// The stretch as a value (for `Checkpoint.decode`).
        var decoded: CheckpointStretch {
            CheckpointStretch(from: from, clients: clients, entries: (0..<count).map { k in
                let e = entry(k)
                return Entry(user: e.user, client: e.client, loginAt: Instant(nanoseconds: e.loginAt), until: Instant(nanoseconds: e.until))
            })
        }
    }
}
