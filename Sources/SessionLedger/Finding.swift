/// One disagreement between the log and the rules (SPEC.md section 5): a value, not a log line.
///
/// `seq`, `at`, `user` and `session` are those of the event that caused it (`session` is
/// nil only for a `logout_all` made without one). `message` is one sentence for a
/// security reviewer, with the instants that matter in canonical form.
public struct Finding: Hashable, Sendable {
    /// The rules, named as in SPEC.md section 5.
    public enum Rule: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
        case duplicateSession = "duplicate-session"
        case unknownClient = "unknown-client"
        case loginMethod = "login-method"
        case unknownSession = "unknown-session"
        case userMismatch = "user-mismatch"
        case refreshAfterEnd = "refresh-after-end"
        case refreshAfterExpiry = "refresh-after-expiry"
        case earlyRefresh = "early-refresh"
        case logoutInactive = "logout-inactive"
        case logoutAllFromInactive = "logout-all-from-inactive"
        case logoutAllClient = "logout-all-client"
        case notAToken = "not-a-token"
        case deleteInactive = "delete-inactive"
        case lateEvent = "late-event"
        case futureEvent = "future-event"

        /// The rule's name in every output.
        public var name: String { rawValue }
        public var description: String { rawValue }

        public init?(name: String) { self.init(rawValue: name) }

        /// Each rule has one severity, fixed by SPEC.md section 5.
        public var severity: Severity {
            switch self {
            case .duplicateSession, .unknownClient, .loginMethod, .unknownSession, .userMismatch,
                 .refreshAfterEnd, .refreshAfterExpiry, .logoutAllFromInactive, .logoutAllClient, .notAToken:
                .error
            case .earlyRefresh, .logoutInactive, .deleteInactive, .lateEvent, .futureEvent:
                .warning
            }
        }
    }

    /// `replay` exits 1 when any finding is an error (warnings too with `--strict`).
    public enum Severity: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
        case error
        case warning

        public var name: String { rawValue }
        public var description: String { rawValue }
    }

    public var rule: Rule
    public var seq: UInt64
    public var at: Instant
    public var user: String
    public var session: String?
    public var message: String

    /// The rule's severity.
    public var severity: Severity { rule.severity }

    public init(rule: Rule, seq: UInt64, at: Instant, user: String, session: String?, message: String) {
        self.rule = rule
        self.seq = seq
        self.at = at
        self.user = user
        self.session = session
        self.message = message
    }
}
