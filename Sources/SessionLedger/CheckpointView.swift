/// A stored checkpoint read in place (docs/FORMAT.md, "Checkpoints"): checked once (its
/// checksum, its layout, its stretch's), then read where it lies. `decoded` makes a
/// `Checkpoint` of it (`Checkpoint.decode`); `who` past a checkpoint
/// (`LedgerSnapshot.whoFromCheckpoint`) reads its sessions without making strings of the
/// ones no later event names. A view points into the ledger's map: it is valid only while the
/// read transaction it came from is (`LedgerSnapshot.checkpointView`).
extension Checkpoint {
    struct View {
        /// One stored session: where its strings lie in the value, and its other fields.
        struct Session {
            var session: Range<Int>
            var user: Range<Int>
            var client: Range<Int>
            var method: Range<Int>
            var loginAt: Instant
            var loginSeq: UInt64
            var lastExtendedAt: Instant
            var expiresAt: Instant?
            var refreshCount: Int
            /// 0 and 0 in a version 1 checkpoint.
            var numbers: Numbers
        }

        /// The whole stored value.
        let bytes: UnsafeRawBufferPointer
        let version: UInt8
        let at: Instant
        let headSeq: UInt64
        let events: UInt64
        /// A rolling tail (the header's second byte is 1).
        let rolling: Bool
        /// Nil when it has none (before version 3, or written without).
        let stretch: CheckpointStretch.View?
        /// How many sessions, and where the first one's bytes begin.
        let sessionCount: Int
        private let sessionsStart: Int
        /// Where the `loggedIn` bitset lies.
        let loggedIn: Range<Int>

        /// Nil when the value is damaged: a wrong checksum (its own or its stretch's), version or layout.
        init?(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count >= 68, (1...Checkpoint.version).contains(bytes[0]) else { return nil }
            let body = UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 4)])
            guard CRC32.checksum(body) == UInt32(readLE(bytes, bytes.count - 4, 4)) else { return nil }
            self.bytes = bytes
            version = bytes[0]
            at = Instant(nanoseconds: Int64(bitPattern: readLE(bytes, 4, 8)))
            headSeq = readLE(bytes, 12, 8)
            events = readLE(bytes, 20, 8)
            rolling = bytes[1] == 1
            var i = 60
            var stretch: CheckpointStretch.View?
            if version >= 3 {
                guard i + 4 <= body.count else { return nil }
                let length = Int(readLE(body, i, 4))
                i += 4
                guard length <= body.count - i else { return nil }
                if length > 0 {
                    // (The stretch's own checksum covers the bytes before it, the header included.)
                    guard let view = CheckpointStretch.View(bytes, start: i, end: i + length) else { return nil }
                    stretch = view
                }
                i += length
            }
            self.stretch = stretch
            guard i + 4 <= body.count else { return nil }
            let count = Int(readLE(body, i, 4))
            i += 4
            guard count <= body.count else { return nil }
            sessionsStart = i
            sessionCount = count
            for _ in 0..<count {
                guard Self.read(body, at: &i, numbered: version >= 2) != nil else { return nil }
            }
            guard i + 4 <= body.count else { return nil }
            let bits = Int(readLE(body, i, 4))
            i += 4
            guard bits == body.count - i else { return nil }
            loggedIn = i..<body.count
        }

        /// SHA-256 of the policy it was folded under.
        var policyDigest: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[28..<60]) }

        /// The sessions in login order, read where they lie.
        var sessions: Sessions { Sessions(bytes: bytes, offset: sessionsStart, left: sessionCount, numbered: version >= 2) }

        struct Sessions: Sequence, IteratorProtocol {
            let bytes: UnsafeRawBufferPointer
            var offset: Int
            var left: Int
            let numbered: Bool

            mutating func next() -> Session? {
                guard left > 0 else { return nil }
                left -= 1
                return View.read(bytes, at: &offset, numbered: numbered)!  // checked by `init`
            }
        }

        /// The text of a string field.
        func text(_ range: Range<Int>) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }

        /// Reads the session stored at `i` (four u16-length strings, then its fixed fields) and
        /// moves `i` past it; nil when it runs past the end of `body`.
        @inline(__always)
        fileprivate static func read(_ body: UnsafeRawBufferPointer, at i: inout Int, numbered: Bool) -> Session? {
            guard let session = string(body, &i), let user = string(body, &i), let client = string(body, &i),
                  let method = string(body, &i), i + (numbered ? 45 : 37) <= body.count else { return nil }
            @inline(__always)
            func int<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
                T(littleEndian: body.loadUnaligned(fromByteOffset: i + offset, as: T.self))
            }
            let expires = Instant(nanoseconds: int(25, Int64.self))
            let numbers = numbered ? Numbers(session: int(37, UInt32.self), user: int(41, UInt32.self)) : Numbers(session: 0, user: 0)
            let out = Session(session: session, user: user, client: client, method: method,
                              loginAt: Instant(nanoseconds: int(0, Int64.self)), loginSeq: int(8, UInt64.self),
                              lastExtendedAt: Instant(nanoseconds: int(16, Int64.self)),
                              expiresAt: int(24, UInt8.self) == 1 ? expires : nil, refreshCount: Int(int(33, UInt32.self)),
                              numbers: numbers)
            i += numbered ? 45 : 37
            return out
        }

        /// A u16 length and that many bytes at `i`: their place; nil when they run past the end.
        @inline(__always)
        private static func string(_ body: UnsafeRawBufferPointer, _ i: inout Int) -> Range<Int>? {
            guard i + 2 <= body.count else { return nil }
            let n = Int(UInt16(littleEndian: body.loadUnaligned(fromByteOffset: i, as: UInt16.self)))
            guard n <= body.count - i - 2 else { return nil }
            defer { i += 2 + n }
            return (i + 2)..<(i + 2 + n)
        }

        /// Makes the client and method strings: the few distinct ones once per checkpoint, with
        /// the rules of each as a client (a method's are not used).
        struct Words {
            let policy: Policy
            private var seen: [(bytes: UnsafeRawBufferPointer, text: String, rules: Policy.Client)] = []

            init(policy: Policy) { self.policy = policy }

            mutating func word(_ bytes: UnsafeRawBufferPointer) -> (text: String, rules: Policy.Client) {
                if let known = seen.first(where: { $0.bytes.elementsEqual(bytes) }) { return (known.text, known.rules) }
                let text = String(decoding: bytes, as: UTF8.self)
                let rules = policy.client(text)
                seen.append((bytes, text, rules))
                return (text, rules)
            }
        }

        /// A session's state, its strings made (`words` makes the client and method).
        func state(_ s: Session, _ words: inout Words) -> SessionState {
            let (client, rules) = words.word(UnsafeRawBufferPointer(rebasing: bytes[s.client]))
            let method = words.word(UnsafeRawBufferPointer(rebasing: bytes[s.method])).text
            var state = SessionState(session: text(s.session), user: text(s.user), client: client, method: method,
                                     loginAt: s.loginAt, loginSeq: s.loginSeq, rules: rules)
            state.lastExtendedAt = s.lastExtendedAt
            state.expiresAt = s.expiresAt
            state.refreshCount = s.refreshCount
            return state
        }

        /// Its instant, counts, policy and `loggedIn`, with no sessions (and no stretch): for a
        /// fold resumed from it with only the sessions the caller adds.
        func withoutSessions() -> Checkpoint {
            Checkpoint(at: at, headSeq: headSeq, events: events, policyDigest: Array(policyDigest),
                       sessions: [], numbers: [], loggedIn: Array(bytes[loggedIn]), stretch: nil, rolling: rolling)
        }

        /// The checkpoint as a value; the policy gives each session its client's rules. Without
        /// `stretch` its `stretch` is left nil (so it is `isOutdated`): for a fold resumed from
        /// it, which never reads the stretch.
        func decoded(policy: Policy, stretch withStretch: Bool = true) -> Checkpoint {
            var words = Words(policy: policy)
            var sessions: [SessionState] = []
            var numbers: [Numbers] = []
            sessions.reserveCapacity(sessionCount)
            numbers.reserveCapacity(sessionCount)
            for s in self.sessions {
                sessions.append(state(s, &words))
                numbers.append(s.numbers)
            }
            return Checkpoint(at: at, headSeq: headSeq, events: events, policyDigest: Array(policyDigest),
                              sessions: sessions, numbers: numbers, loggedIn: Array(bytes[loggedIn]),
                              stretch: withStretch ? stretch?.decoded : nil, rolling: rolling)
        }
    }
}
