/// One fact from the sign-in service: SPEC.md section 2.
public struct Event: Hashable, Sendable {
    /// The five kinds of event. Raw values are the type byte of the stored record (docs/FORMAT.md).
    public enum Kind: UInt8, CaseIterable, Sendable, CustomStringConvertible {
        case login = 1
        case refresh = 2
        case logout = 3
        case logoutAll = 4
        case tokenDeleted = 5

        /// The name used in NDJSON and in every output.
        public var name: String {
            switch self {
            case .login: "login"
            case .refresh: "refresh"
            case .logout: "logout"
            case .logoutAll: "logout_all"
            case .tokenDeleted: "token_deleted"
            }
        }

        public init?(name: some StringProtocol) {
            switch name {
            case "login": self = .login
            case "refresh": self = .refresh
            case "logout": self = .logout
            case "logout_all": self = .logoutAll
            case "token_deleted": self = .tokenDeleted
            default: return nil
            }
        }

        public var description: String { name }

        /// The kind named by UTF-8 `bytes`, or nil.
        init?(bytes: UnsafeRawBufferPointer) {
            for kind in Kind.allCases where kind.name.utf8.elementsEqual(bytes) {
                self = kind
                return
            }
            return nil
        }
    }

    /// One `meta` pair.
    public struct MetaPair: Hashable, Sendable {
        public var key: String
        public var value: String
        public init(key: String, value: String) { self.key = key; self.value = value }
    }

    public var kind: Kind
    public var at: Instant
    public var user: String
    /// Required on every event but `logout_all`, where it names the session the user acted from.
    public var session: String?
    /// Only on `login`, where it is required.
    public var client: String?
    /// Only on `login`, where it is required.
    public var method: String?
    /// The idempotency key.
    public var id: String?
    public var ip: String?
    public var agent: String?
    /// Sorted by key (the canonical order); empty when the event has no `meta`.
    /// An event with `"meta": {}` keeps `hasMeta` true so that it round-trips.
    public var meta: [MetaPair]
    public var hasMeta: Bool

    public init(kind: Kind, at: Instant, user: String, session: String? = nil, client: String? = nil,
                method: String? = nil, id: String? = nil, ip: String? = nil, agent: String? = nil,
                meta: [MetaPair] = [], hasMeta: Bool? = nil) {
        self.kind = kind
        self.at = at
        self.user = user
        self.session = session
        self.client = client
        self.method = method
        self.id = id
        self.ip = ip
        self.agent = agent
        self.meta = meta.sorted { $0.key.utf8Precedes($1.key) }
        self.hasMeta = hasMeta ?? !meta.isEmpty
    }
}

/// An event as stored: its place in the log and the ledger's clock when it was appended.
public struct StoredEvent: Hashable, Sendable {
    public var seq: UInt64
    public var recorded: Instant
    public var event: Event
    /// The number the ledger interned `event.session` as (docs/FORMAT.md; `SortedInput` numbers
    /// a file's the same way), 0 when it has none or the source gave none: lets a fold find
    /// the session without hashing.
    public var sessionNumber: UInt32
    /// The number the ledger interned `event.user` as, 0 likewise: lets a fold compare users
    /// without comparing strings.
    public var userNumber: UInt32

    public init(seq: UInt64, recorded: Instant, event: Event, sessionNumber: UInt32 = 0, userNumber: UInt32 = 0) {
        self.seq = seq
        self.recorded = recorded
        self.event = event
        self.sessionNumber = sessionNumber
        self.userNumber = userNumber
    }

    /// The same `seq`, `recorded` and event; the numbers are lookup hints, not content.
    public static func == (a: StoredEvent, b: StoredEvent) -> Bool {
        a.seq == b.seq && a.recorded == b.recorded && a.event == b.event
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(seq)
        hasher.combine(recorded)
        hasher.combine(event)
    }
}
