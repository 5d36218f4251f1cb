/// The rules a log is checked against: SPEC.md section 4.
///
/// A policy names the clients it knows (each with a session lifetime, a minimum interval
/// between refreshes, and whether its sessions are tokens), the `default_client` used for
/// every other client, the accepted login methods, the clients a "log out of all sessions"
/// may come from, whether that also removes tokens, and the clock skew tolerated before an
/// event counts as late or from the future.
///
/// A duration of `nil` means "none": no lifetime is a session that never expires, no
/// refresh interval is one that may be refreshed at any time, and no `max_skew` turns
/// the `late-event` and `future-event` checks off (no skew is too large).
///
/// Read a policy file with `init(json:)` (PolicyReader.swift); print one with
/// `canonicalJSON()`, which reads back equal.
public struct Policy: Hashable, Sendable {
    /// What the policy says about one client.
    public struct Client: Hashable, Sendable {
        /// How long a login or refresh keeps the session; nil: it never expires.
        public var lifetime: Duration?
        /// The least time between two extensions that is not an `early-refresh`; nil: none.
        public var refreshInterval: Duration?
        /// Whether sessions of this client are authorization tokens (ended by `token_deleted`).
        public var token: Bool

        public init(lifetime: Duration?, refreshInterval: Duration?, token: Bool = false) {
            self.lifetime = lifetime
            self.refreshInterval = refreshInterval
            self.token = token
        }
    }

    public var name: String
    /// The listed clients by name (each an identifier `[a-z0-9_-]{1,32}`).
    public var clients: [String: Client]
    /// The lifetime and refresh interval of every client not in `clients`; its `token` is always false.
    public var defaultClient: Client
    /// The accepted login methods, in the order the policy lists them.
    public var loginMethods: [String]
    /// The clients a "log out of all sessions" may be made from, in the order the policy lists them.
    public var logoutAllFrom: [String]
    /// Whether `logout_all` also ends the user's tokens.
    public var logoutAllRevokesTokens: Bool
    /// The tolerated clock skew for `late-event` and `future-event`; nil: no limit, no such findings.
    public var maxSkew: Duration?

    public init(name: String, clients: [String: Client], defaultClient: Client, loginMethods: [String],
                logoutAllFrom: [String], logoutAllRevokesTokens: Bool, maxSkew: Duration?) {
        self.name = name
        self.clients = clients
        self.defaultClient = Client(lifetime: defaultClient.lifetime, refreshInterval: defaultClient.refreshInterval)
        self.loginMethods = loginMethods
        self.logoutAllFrom = logoutAllFrom
        self.logoutAllRevokesTokens = logoutAllRevokesTokens
        self.maxSkew = maxSkew
    }

    /// The policy in force without `--policy`: SPEC.md section 4, `web-28d`.
    public static let `default`: Policy = {
        let day = Duration.seconds(86_400)
        let hour = Duration.seconds(3_600)
        let session = Client(lifetime: Duration(nanoseconds: 28 * day.nanoseconds), refreshInterval: hour)
        return Policy(
            name: "web-28d",
            clients: [
                "web": session,
                "ios": session,
                "android": session,
                "desktop": session,
                "code": Client(lifetime: nil, refreshInterval: nil, token: true),
            ],
            defaultClient: session,
            loginMethods: ["google", "email_link"],
            logoutAllFrom: ["web"],
            logoutAllRevokesTokens: false,
            maxSkew: .seconds(300)
        )
    }()

    /// The rules for sessions of `client`: its entry in `clients`, else `defaultClient`
    /// (whose sessions are never tokens).
    public func client(_ client: String) -> Client {
        clients[client] ?? defaultClient
    }

    /// Whether `client` is listed in `clients` (an unlisted one is an `unknown-client` finding).
    public func isListed(client: String) -> Bool {
        clients[client] != nil
    }

    /// Whether a login by `method` is accepted.
    public func allowsLogin(method: String) -> Bool {
        loginMethods.contains(method)
    }

    /// Whether a "log out of all sessions" made from a session of `client` is accepted.
    public func allowsLogoutAll(from client: String) -> Bool {
        logoutAllFrom.contains(client)
    }

    /// The policy as a JSON document in the layout of SPEC.md section 4: keys in that order,
    /// clients sorted by name, `token` written only when true, durations in their largest
    /// exact unit (`"28d"`, `"90m"`), a final newline. `Policy(json:)` reads it back equal.
    public func canonicalJSON() -> String {
        func string(_ s: String) -> String {
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        let hex = String(scalar.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        }
        func duration(_ d: Duration?) -> String {
            d.map { string($0.policyText) } ?? "null"
        }
        func client(_ c: Client) -> String {
            var out = "{\"lifetime\": \(duration(c.lifetime)), \"refresh_interval\": \(duration(c.refreshInterval))"
            if c.token { out += ", \"token\": true" }
            return out + "}"
        }
        func list(_ items: [String]) -> String {
            "[" + items.map(string).joined(separator: ", ") + "]"
        }
        let names = clients.keys.sorted { $0.utf8Precedes($1) }
        let width = names.map(\.utf8.count).max() ?? 0
        var out = "{\n"
        out += "  \"name\": \(string(name)),\n"
        if names.isEmpty {
            out += "  \"clients\": {},\n"
        } else {
            out += "  \"clients\": {\n"
            for (i, n) in names.enumerated() {
                let pad = String(repeating: " ", count: width - n.utf8.count)
                out += "    \(string(n)): \(pad)\(client(clients[n]!))" + (i == names.count - 1 ? "\n" : ",\n")
            }
            out += "  },\n"
        }
        out += "  \"default_client\": \(client(defaultClient)),\n"
        out += "  \"login_methods\": \(list(loginMethods)),\n"
        out += "  \"logout_all_from\": \(list(logoutAllFrom)),\n"
        out += "  \"logout_all_revokes_tokens\": \(logoutAllRevokesTokens),\n"
        out += "  \"max_skew\": \(duration(maxSkew))\n"
        out += "}\n"
        return out
    }
}
