/// One session as derived from the log (SPEC.md section 5), after the events applied so far.
///
/// A session exists from its first applied `login`. It is active on one interval,
/// `[loginAt, end)` with `end` the earlier of `endedAt` and `expiresAt` (nil: unbounded),
/// and never comes back: a refresh extends `expiresAt` only while the session is active,
/// and an end is recorded only on an active session. So the state after the events with
/// `at < C` (or `at <= C`) gives the exact status at every instant before `C` (or up to
/// `C`), not only at `C` itself: `status(at:)` and `wasActive(from:to:)` rely on that.
/// Fields such as `refreshCount` and `lastExtendedAt`, on the other hand, are as of the
/// last applied event.
public struct SessionState: Hashable, Sendable {
    /// How a session ended.
    public enum EndReason: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
        case logout
        case logoutAll = "logout_all"
        case tokenDeleted = "token_deleted"

        public var name: String { rawValue }
        public var description: String { rawValue }
    }

    /// A session's status at an instant: SPEC.md section 5.
    public enum Status: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
        case notStarted = "not_started"
        case logout
        case logoutAll = "logout_all"
        case tokenDeleted = "token_deleted"
        case expired
        case active

        public var name: String { rawValue }
        public var description: String { rawValue }

        init(_ reason: EndReason) {
            switch reason {
            case .logout: self = .logout
            case .logoutAll: self = .logoutAll
            case .tokenDeleted: self = .tokenDeleted
            }
        }
    }

    public var session: String
    public var user: String
    /// The client as the login named it, listed in the policy or not.
    public var client: String
    public var method: String
    public var loginAt: Instant
    /// The `seq` of the login that created the session.
    public var loginSeq: UInt64
    public var lastExtendedAt: Instant
    /// Nil when the client's lifetime is null. A sum past the last instant an `Int64` holds
    /// is clamped to `Instant.latest`.
    public var expiresAt: Instant?
    public var refreshCount: Int
    public var endedAt: Instant?
    public var endReason: EndReason?
    /// The policy's rules for this session's client, fixed at login (`default_client`'s
    /// for an unlisted client).
    public var rules: Policy.Client

    /// Whether the session is a token (its client is listed with `"token": true`).
    public var isToken: Bool { rules.token }

    public init(session: String, user: String, client: String, method: String, loginAt: Instant, loginSeq: UInt64,
                rules: Policy.Client) {
        self.session = session
        self.user = user
        self.client = client
        self.method = method
        self.loginAt = loginAt
        self.loginSeq = loginSeq
        self.lastExtendedAt = loginAt
        self.expiresAt = rules.lifetime.map { loginAt.saturatingAdding($0) }
        self.refreshCount = 0
        self.endedAt = nil
        self.endReason = nil
        self.rules = rules
    }

    /// The status at `t`: `not_started` before the login; then `logout`, `logout_all` or
    /// `token_deleted` if `endedAt <= t`; else `expired` if `expiresAt <= t`; else `active`.
    ///
    /// Exact for any `t` up to the last applied event's instant and for later instants
    /// before any further event (see the type's comment).
    @inline(__always)  // `Derivation.applyRefresh` reads it per event; a call copies the state first
    public func status(at t: Instant) -> Status {
        if t < loginAt { return .notStarted }
        if let endedAt, let endReason, endedAt <= t { return Status(endReason) }
        if let expiresAt, expiresAt <= t { return .expired }
        return .active
    }

    /// Whether the session is active at `t`.
    public func isActive(at t: Instant) -> Bool { status(at: t) == .active }

    /// The end of the active interval `[loginAt, end)`: the earlier of `endedAt` and
    /// `expiresAt`, nil when neither is set. Equal to `loginAt` for a session logged out at
    /// the instant of its login, which was never active.
    public var activeUntil: Instant? {
        switch (endedAt, expiresAt) {
        case let (e?, x?): min(e, x)
        case let (e?, nil): e
        case let (nil, x?): x
        case (nil, nil): nil
        }
    }

    /// Whether the session was active at any instant of `[from, to)`: its active interval
    /// `[loginAt, activeUntil)` meets that range. False for an empty range and for a session
    /// that was never active. Use the state after every event with `at < to`.
    public func wasActive(from: Instant, to: Instant) -> Bool {
        guard from < to, loginAt < to else { return false }
        guard let end = activeUntil else { return true }
        return loginAt < end && from < end
    }
}
