/// What a checkpoint at C says of the stretch of time line before it, `[from, C]`, where
/// `from` is the instant the fold that wrote it started from (the checkpoint before, or
/// `Instant.earliest` for a fold from the first event): every session active at some instant
/// of the stretch, with its user, its client, its login and the end of its active interval as
/// of C (`SessionState.activeUntil`, or `Instant.latest` for one still active at C).
///
/// That is all `who` needs for any T in the stretch. A session inactive at some instant stays
/// inactive and unchanged (SessionState), so as of C it has the end it had as of any later
/// instant than that end; one active at C was active from its login to C. So the sessions
/// active at T as of T are exactly the entries with `loginAt <= T < until`, and those active
/// in `[T1, T2)` as of T2's last instant the entries with `loginAt < T2`, `loginAt < until`
/// and `T1 < until` (`SessionState.wasActive`), when T1 and T2's last instant lie in the
/// stretch. `who` then counts entries instead of folding (`LedgerSnapshot.whoFromStretch`).
/// The users are stored once each, sorted as `who` lists them, and entries name them by
/// their place in that list: counting by place gives the answer in order, with no sort and
/// no lookup of names.
///
/// Part of the checkpoint, so whatever invalidates the checkpoint (a late event at or before
/// C) removes it too; `sledger check` compares it with a refold (docs/FORMAT.md).
public struct CheckpointStretch: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        /// An index into `users`.
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
    /// The users of the entries, each once (by bytes), sorted by their UTF-8 bytes.
    public var users: [String]
    /// The sessions, in login order.
    public var entries: [Entry]

    /// Bytes per entry: user u32, client u32, `loginAt` i64, `until` i64.
    static let entrySize = 24

    /// The stretch `[from, at]` of a fold that started at `from` and has applied every event
    /// with `at <= at`.
    init(_ derivation: Derivation, from: Instant, at: Instant) {
        self.from = from
        // The entries name their users first by order of first use, renumbered once sorted;
        // the sessions are read where they lie, never copied (`Derivation.forEachSession`).
        var kept: [Entry] = []
        var clientIndex: [ByteIdentity: UInt32] = [:]
        var userIndex: [ByteIdentity: UInt32] = [:]
        var clientsMet: [String] = []
        var usersMet: [String] = []
        derivation.forEachSession { state, _ in
            let until = state.isActive(at: at) ? Instant.latest : (state.activeUntil ?? .latest)
            guard until > from, until > state.loginAt else { return }  // inactive all the stretch, or never active
            let client = ByteIdentity(state.client)
            let clientPlace = clientIndex[client] ?? {
                clientIndex[client] = UInt32(clientsMet.count)
                clientsMet.append(client.text)
                return UInt32(clientsMet.count - 1)
            }()
            let user = ByteIdentity(state.user)
            let userMet = userIndex[user] ?? {
                userIndex[user] = UInt32(usersMet.count)
                usersMet.append(user.text)
                return UInt32(usersMet.count - 1)
            }()
            kept.append(Entry(user: userMet, client: clientPlace, loginAt: state.loginAt, until: until))
        }
        let order = sortedByUTF8(Array(usersMet.indices)) { usersMet[$0] }
        var place = [UInt32](repeating: 0, count: order.count)
        for (k, met) in order.enumerated() { place[met] = UInt32(k) }
        for k in kept.indices { kept[k].user = place[Int(kept[k].user)] }
        clients = clientsMet
        users = order.map { usersMet[$0] }
        entries = kept
    }

    init(from: Instant, clients: [String], users: [String], entries: [Entry]) {
        (self.from, self.clients, self.users, self.entries) = (from, clients, users, entries)
    }

    // MARK: - Bytes

    /// Appends the stretch's length and the stretch as stored inside a checkpoint
    /// (docs/FORMAT.md): `from`, the clients, the users, the entries, then a CRC-32 of every
    /// byte of `out` before it, the checkpoint's header included, so that a reader of the
    /// stretch alone checks all it relies on.
    func append(to out: inout [UInt8]) {
        let stringBytes = (clients + users).reduce(0) { $0 + 2 + $1.utf8.count }
        let length = 8 + 4 + 4 + stringBytes + 4 + entries.count * Self.entrySize + 4
        out.reserveCapacity(out.count + 4 + length)
        appendLE(UInt64(length), 4, &out)
        appendLE(UInt64(bitPattern: from.nanoseconds), 8, &out)
        appendLE(UInt64(clients.count), 4, &out)
        for client in clients { Record.appendString(client, &out) }
        appendLE(UInt64(users.count), 4, &out)
        for user in users { Record.appendString(user, &out) }
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
        /// Where each user's UTF-8 bytes are in `value`.
        let users: [Range<Int>]
        let value: UnsafeRawBufferPointer
        /// The entries' bytes.
        let entries: UnsafeRawBufferPointer

        init?(_ value: UnsafeRawBufferPointer, start: Int, end: Int) {
            guard start >= 0, end <= value.count, end - start >= 24 else { return nil }
            guard CRC32.checksum(UnsafeRawBufferPointer(rebasing: value[0..<(end - 4)])) == UInt32(readLE(value, end - 4, 4)) else {
                return nil
            }
            self.value = value
            let last = end - 4
            var i = start
            from = Instant(nanoseconds: Int64(bitPattern: readLE(value, i, 8)))
            i += 8
            /// A u32 count, then that many u16-length strings: their places.
            func strings() -> [Range<Int>]? {
                guard i + 4 <= last else { return nil }
                let count = Int(readLE(value, i, 4))
                i += 4
                guard count <= (last - i) / 2 else { return nil }
                var out: [Range<Int>] = []
                out.reserveCapacity(count)
                for _ in 0..<count {
                    guard i + 2 <= last else { return nil }
                    let n = Int(readLE(value, i, 2))
                    guard i + 2 + n <= last else { return nil }
                    out.append((i + 2)..<(i + 2 + n))
                    i += 2 + n
                }
                return out
            }
            guard let clients = strings() else { return nil }
            self.clients = clients.map { String(decoding: UnsafeRawBufferPointer(rebasing: value[$0]), as: UTF8.self) }
            guard let users = strings() else { return nil }
            self.users = users
            guard i + 4 <= last else { return nil }
            let entryCount = Int(readLE(value, i, 4))
            i += 4
            guard (last - i) % CheckpointStretch.entrySize == 0, entryCount == (last - i) / CheckpointStretch.entrySize else { return nil }
            entries = UnsafeRawBufferPointer(rebasing: value[i..<last])
            for k in 0..<entryCount {
                let e = entry(k)
                guard e.user < users.count, e.client < clients.count else { return nil }
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

        /// User `k`'s name.
        func user(_ k: Int) -> String { String(decoding: userBytes(k), as: UTF8.self) }

        /// User `k`'s UTF-8 bytes, in place.
        func userBytes(_ k: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: value[users[k]]) }

        /// The place of `user` in the list of users (sorted by their bytes); nil when not listed.
        func place(ofUser user: String) -> Int? {
            var user = user
            return user.withUTF8 { wanted in
                var (low, high) = (0, users.count)
                while low < high {
                    let mid = (low + high) / 2
                    let order = compareBytes(userBytes(mid), UnsafeRawBufferPointer(wanted))
                    if order == 0 { return mid }
                    if order < 0 { low = mid + 1 } else { high = mid }
                }
                return nil
            }
        }

        /// The stretch as a value (for `Checkpoint.decode`).
        var decoded: CheckpointStretch {
            CheckpointStretch(from: from, clients: clients, users: users.indices.map(user), entries: (0..<count).map { k in
                let e = entry(k)
                return Entry(user: e.user, client: e.client, loginAt: Instant(nanoseconds: e.loginAt), until: Instant(nanoseconds: e.until))
            })
        }
    }
}
