/// What `replay --user U --session S --from T1 --to T2` reports: it narrows the findings
/// shown, never the events applied (SPEC.md section 5).
public struct FindingFilter: Hashable, Sendable {
    /// Only findings of events by this user.
    public var user: String?
    /// Only findings of events that name this session (a `logout_all` names the session it
    /// was made from, if any).
    public var session: String?
    /// Only findings of events with `at >= from`.
    public var from: Instant?
    /// Only findings of events with `at < to`.
    public var to: Instant?

    public init(user: String? = nil, session: String? = nil, from: Instant? = nil, to: Instant? = nil) {
        self.user = user
        self.session = session
        self.from = from
        self.to = to
    }

    /// Reports everything.
    public static let all = FindingFilter()

    /// Whether `replay` of this filter folds a slice read through the indexes (a user's or a
    /// session's: `FindingReport.replay`) instead of the whole log.
    public var readsASlice: Bool { user != nil || session != nil }

    public func includes(_ finding: Finding) -> Bool {
        if let user, !finding.user.isSameID(as: user) { return false }
        if let session, !(finding.session?.isSameID(as: session) ?? false) { return false }
        if let from, finding.at < from { return false }
        if let to, finding.at >= to { return false }
        return true
    }
}
