import Crypto

/// Derived state as of an instant, stored beside the log as a cache (docs/FORMAT.md,
/// "Checkpoints"): what a state query folds from instead of the log's first event.
///
/// A checkpoint at `at` is the fold of every event with `at` at or before it, reduced to what
/// a later state can still depend on:
/// - the sessions active at `at`, whole and in login order: a session that is not active
///   at `at` never becomes active again (SessionState), so no later event changes it;
/// - the numbers of every session logged in by then (`loggedIn`): a later login of one of
///   them is a `duplicate-session`, which has no effect, so a fold resumed from here skips it.
/// Everything else a later event can do to an inactive session is a finding without effect,
/// so checkpoints serve state queries (`who`, `sessions`), never findings.
///
/// Version 2 adds each session's session and user numbers, so that a fold resumed from it
/// applies its sessions' refreshes from the records' headers (`Derivation.applyRefresh`) from
/// the first one on. A version 1 checkpoint (written before) is still read, its numbers 0 (not
/// known: a fold learns them from each session's first event, as before); it is `isOutdated`,
/// and `sledger checkpoint` writes it again as version 2.
///
/// Version 3 adds the stretch of time line before it (`CheckpointStretch`), from which `who`
/// answers without folding. One without it (version 1 or 2) is `isOutdated` too.
public struct Checkpoint: Equatable, Sendable {
    public static let version: UInt8 = 3

    /// A session's number and its user's, as the ledger interned them.
    public struct Numbers: Equatable, Sendable {
        public var session: UInt32
        public var user: UInt32

        public init(session: UInt32, user: UInt32) {
            self.session = session
            self.user = user
        }
    }

    /// Every event with `at <= self.at` is folded in.
    public var at: Instant
    /// The head `seq` when it was folded: a later event with `at <= self.at` invalidates it.
    public var headSeq: UInt64
    /// How many events it folds (those with `at <= self.at`).
    public var events: UInt64
    /// SHA-256 of the policy's canonical JSON: only a fold under the same policy may use it.
    public var policyDigest: [UInt8]
    /// The sessions active at `at`, in login order.
    public var sessions: [SessionState]
    /// The numbers of each of `sessions`, in the same order (0: not known).
    public var numbers: [Numbers]

    /// True when some session's numbers are not known (a version 1 checkpoint, or one folded on
    /// from it) or it has no stretch (before version 3): correct, only slower to resume from
    /// and to answer `who` from; `sledger checkpoint` writes it again.
    public var isOutdated: Bool { stretch == nil || numbers.contains { $0.session == 0 || $0.user == 0 } }
    /// Bit `n` is set when session number `n` had a login with `at <= self.at`.
    public var loggedIn: [UInt8]
    /// The stretch before it, for `who` (nil: written before version 3).
    public var stretch: CheckpointStretch?
    /// A rolling tail (`Ledger.writeRollingTail`): the next tail may replace it. Stored in the
    /// header's second byte (0 in checkpoints written before, which no tail replaces).
    public var rolling = false

    public static func digest(of policy: Policy) -> [UInt8] {
        Array(SHA256.hash(data: Array(policy.canonicalJSON().utf8)))
    }

    /// Whether session number `n` was logged in by `at`.
    public func wasLoggedIn(_ n: UInt32) -> Bool { Checkpoint.isSet(n, in: loggedIn) }

    /// Bit `n` of a `loggedIn` bitset (0 is never a session number).
    static func isSet(_ n: UInt32, in bits: [UInt8]) -> Bool {
        let byte = Int(n >> 3)
        return n != 0 && byte < bits.count && bits[byte] & (1 << (n & 7)) != 0
    }

    /// How many events a stored checkpoint folds and whether it is this policy's, read from
    /// its fixed header without decoding its sessions or checking its checksum: enough to
    /// decide whether new checkpoints are due, which an append asks after every call.
    static func peek(_ bytes: UnsafeRawBufferPointer, digest: [UInt8]) -> UInt64? {
        guard bytes.count >= 68, (1...version).contains(bytes[0]), bytes[28..<60].elementsEqual(digest) else { return nil }
        return readLE(bytes, 20, 8)
    }

    /// The size that spaces the next checkpoint (`CheckpointSpacing.after`): the stored value's
    /// bytes less its stretch, which a resumed fold does not read (so the stretch leaves the
    /// spacing, and how far `sessions` folds, as they were before version 3).
    static func spacedBytes(_ value: UnsafeRawBufferPointer) -> Int {
        guard value.count >= 64, value[0] >= 3 else { return value.count }
        return value.count - min(Int(readLE(value, 60, 4)), value.count)
    }

    // MARK: - Bytes

    /// The stored value: a fixed header, the sessions, the bitset, and a CRC-32 of all before it.
    public func encoded() -> [UInt8] {
        precondition(numbers.count == sessions.count, "one Numbers per session")
        var out: [UInt8] = [Checkpoint.version, rolling ? 1 : 0, 0, 0]
        appendLE(UInt64(bitPattern: at.nanoseconds), 8, &out)
        appendLE(headSeq, 8, &out)
        appendLE(events, 8, &out)
        out += policyDigest
        // The stretch's length, then the stretch (0: none).
        if let stretch { stretch.append(to: &out) } else { appendLE(0, 4, &out) }
        appendLE(UInt64(sessions.count), 4, &out)
        for (s, n) in zip(sessions, numbers) {
            Record.appendString(s.session, &out)
            Record.appendString(s.user, &out)
            Record.appendString(s.client, &out)
            Record.appendString(s.method, &out)
            appendLE(UInt64(bitPattern: s.loginAt.nanoseconds), 8, &out)
            appendLE(s.loginSeq, 8, &out)
            appendLE(UInt64(bitPattern: s.lastExtendedAt.nanoseconds), 8, &out)
            out.append(s.expiresAt == nil ? 0 : 1)
            appendLE(UInt64(bitPattern: s.expiresAt?.nanoseconds ?? 0), 8, &out)
            appendLE(UInt64(s.refreshCount), 4, &out)
            appendLE(UInt64(n.session), 4, &out)
            appendLE(UInt64(n.user), 4, &out)
        }
        appendLE(UInt64(loggedIn.count), 4, &out)
        out += loggedIn
        let crc = out.withUnsafeBytes { CRC32.checksum($0) }
        appendLE(UInt64(crc), 4, &out)
        return out
    }

    /// Reads a stored value; nil when it is damaged (wrong checksum, version or layout), so
    /// that the caller skips it. The policy gives each session its client's rules.
    public static func decode(_ bytes: UnsafeRawBufferPointer, policy: Policy) -> Checkpoint? {
        View(bytes)?.decoded(policy: policy)
    }
}

/// Builds checkpoints along a fold: the caller applies events in (`at`, `seq`) order and
/// calls `note` for each; `capture` then reduces the derivation to a checkpoint.
struct CheckpointBuilder {
    let policy: Policy
    let digest: [UInt8]
    private(set) var loggedIn: [UInt8] = []

    init(policy: Policy, resuming checkpoint: Checkpoint?) {
        self.policy = policy
        self.digest = Checkpoint.digest(of: policy)
        self.loggedIn = checkpoint?.loggedIn ?? []
    }

    /// Records that a login of session number `n` was applied.
    mutating func noteLogin(session n: UInt32) {
        guard n != 0 else { return }
        let byte = Int(n >> 3)
        if byte >= loggedIn.count { loggedIn += [UInt8](repeating: 0, count: byte + 1 - loggedIn.count) }
        loggedIn[byte] |= 1 << (n & 7)
    }

    /// The checkpoint at `at` of a fold that started at `stretchFrom` (`Instant.earliest`: at
    /// the first event), its stretch included.
    func capture(_ derivation: Derivation, at: Instant, headSeq: UInt64, events: UInt64, stretchFrom: Instant) -> Checkpoint {
        var sessions: [SessionState] = []
        var numbers: [Checkpoint.Numbers] = []
        derivation.forEachSession { state, n in
            guard state.isActive(at: at) else { return }
            sessions.append(copy state)
            numbers.append(n)
        }
        return Checkpoint(at: at, headSeq: headSeq, events: events, policyDigest: digest,
                          sessions: sessions, numbers: numbers, loggedIn: loggedIn,
                          stretch: CheckpointStretch(derivation, from: stretchFrom, at: at))
    }
}
