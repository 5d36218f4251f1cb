/// Reading a policy file (SPEC.md section 4).
///
/// Every key of the top-level object is required: a policy is a security statement that a
/// reviewer reads as a whole, and a file that silently took half its rules from a built-in
/// default would say less than it seems to. `sledger policy` prints the policy in force,
/// a complete file to start from. Inside a client, `lifetime` and `refresh_interval` are
/// required (write `null` for none) and `token` is optional (default `false`);
/// `default_client` has no `token` key, since a client not listed is never a token.
///
/// Refused, with an error that names the key: an unknown or duplicated key, a missing
/// key, a wrong JSON type, a duration that is not a whole number and a unit (`"28x"`,
/// `"1.5h"`, `28`), a client, login method or `logout_all_from` entry that is not an
/// identifier `[a-z0-9_-]{1,32}` (the only form an event can carry) or is listed twice,
/// an empty `name`, and broken JSON (by line and column).
enum PolicyReader {
    static let topLevelKeys = [
        "name", "clients", "default_client", "login_methods", "logout_all_from",
        "logout_all_revokes_tokens", "max_skew",
    ]

    static func read(_ bytes: [UInt8]) throws(PolicyError) -> Policy {
        let document = try PolicyJSON.parse(bytes)
        guard case .object(let members) = document else {
            throw PolicyError(key: nil, message: "a policy must be a JSON object, found \(document.typeName)")
        }
        let top = try fields(members, path: "", allowed: topLevelKeys)
        func required(_ key: String) throws(PolicyError) -> PolicyJSON {
            guard let value = top[key] else { throw PolicyError(key: key, message: "missing required key") }
            return value
        }

        guard case .string(let name) = try required("name") else {
            throw wrongType("name", expected: "a string", found: top["name"]!)
        }
        guard !name.isEmpty else { throw PolicyError(key: "name", message: "must not be empty") }

        guard case .object(let clientMembers) = try required("clients") else {
            throw wrongType("clients", expected: "an object", found: top["clients"]!)
        }
        var clients: [String: Policy.Client] = [:]
        for (clientName, value) in clientMembers {
            let path = "clients." + printable(clientName)
            guard isIdentifier(clientName) else {
                throw PolicyError(key: path, message: "a client name must match [a-z0-9_-]{1,32}")
            }
            clients[clientName] = try client(value, path: path, tokenAllowed: true)
        }

        let defaultClient = try client(try required("default_client"), path: "default_client", tokenAllowed: false)
        let loginMethods = try identifiers(try required("login_methods"), path: "login_methods")
        let logoutAllFrom = try identifiers(try required("logout_all_from"), path: "logout_all_from")

        guard case .bool(let revokes) = try required("logout_all_revokes_tokens") else {
            throw wrongType("logout_all_revokes_tokens", expected: "true or false", found: top["logout_all_revokes_tokens"]!)
        }
        let maxSkew = try duration(try required("max_skew"), path: "max_skew")

        return Policy(name: name, clients: clients, defaultClient: defaultClient, loginMethods: loginMethods,
                      logoutAllFrom: logoutAllFrom, logoutAllRevokesTokens: revokes, maxSkew: maxSkew)
    }

    /// The members of an object by key, after refusing any key not in `allowed`.
    static func fields(_ members: [(key: String, value: PolicyJSON)], path: String,
                       allowed: [String]) throws(PolicyError) -> [String: PolicyJSON] {
        var out: [String: PolicyJSON] = [:]
        for (key, value) in members {
            guard allowed.contains(key) else {
                throw PolicyError(key: (path.isEmpty ? "" : path + ".") + printable(key), message: "unknown key")
            }
            out[key] = value
        }
        return out
    }

    static func client(_ value: PolicyJSON, path: String, tokenAllowed: Bool) throws(PolicyError) -> Policy.Client {
        guard case .object(let members) = value else { throw wrongType(path, expected: "an object", found: value) }
        if !tokenAllowed, members.contains(where: { $0.key == "token" }) {
            throw PolicyError(key: path + ".token",
                              message: "not allowed here: a client not listed in clients is never a token")
        }
        let f = try fields(members, path: path, allowed: ["lifetime", "refresh_interval", "token"])
        guard let lifetime = f["lifetime"] else {
            throw PolicyError(key: path + ".lifetime", message: "missing required key")
        }
        guard let interval = f["refresh_interval"] else {
            throw PolicyError(key: path + ".refresh_interval", message: "missing required key")
        }
        var token = false
        if let t = f["token"] {
            guard case .bool(let b) = t else { throw wrongType(path + ".token", expected: "true or false", found: t) }
            token = b
        }
        return Policy.Client(lifetime: try duration(lifetime, path: path + ".lifetime"),
                             refreshInterval: try duration(interval, path: path + ".refresh_interval"),
                             token: token)
    }

    static func duration(_ value: PolicyJSON, path: String) throws(PolicyError) -> Duration? {
        switch value {
        case .null:
            return nil
        case .string(let text):
            guard let d = Duration(policyText: text) else {
                let tooLong = text.utf8.dropLast().allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
                    && text.utf8.count >= 2 && "smhd".utf8.contains(text.utf8.last!)
                throw PolicyError(key: path, message: tooLong
                    ? "\"\(printable(text))\" is too long (at most 106751d)"
                    : "\"\(printable(text))\" is not a duration: expected a whole number and a unit s, m, h or d (like \"28d\" or \"5m\"), or null")
            }
            return d
        default:
            throw wrongType(path, expected: "a duration string (like \"28d\") or null", found: value)
        }
    }

    static func identifiers(_ value: PolicyJSON, path: String) throws(PolicyError) -> [String] {
        guard case .array(let items) = value else { throw wrongType(path, expected: "an array of strings", found: value) }
        var out: [String] = []
        var seen = Set<ByteIdentity>()
        for (i, item) in items.enumerated() {
            let itemPath = "\(path)[\(i)]"
            guard case .string(let s) = item else { throw wrongType(itemPath, expected: "a string", found: item) }
            guard isIdentifier(s) else { throw PolicyError(key: itemPath, message: "must match [a-z0-9_-]{1,32}") }
            guard seen.insert(ByteIdentity(s)).inserted else {
                throw PolicyError(key: itemPath, message: "\"\(s)\" is listed twice")
            }
            out.append(s)
        }
        return out
    }

    static func wrongType(_ path: String, expected: String, found: PolicyJSON) -> PolicyError {
        PolicyError(key: path, message: "expected \(expected), found \(found.typeName)")
    }

    /// Whether `s` is a client or method identifier: `[a-z0-9_-]{1,32}` (SPEC.md section 2).
    static func isIdentifier(_ s: String) -> Bool {
        let u = s.utf8
        return (1...32).contains(u.count) && u.allSatisfy {
            ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D
        }
    }

    /// `s` made safe for a one-line message: `"`, `\` and control characters escaped, cut to 64 bytes.
    static func printable(_ s: String) -> String {
        MessageText.escape(s, quotes: true, ellipsis: true)
    }
}

extension Policy {
    /// Reads a policy file's bytes; see `PolicyReader` for what is accepted.
    public init(json bytes: [UInt8]) throws(PolicyError) {
        self = try PolicyReader.read(bytes)
    }

    /// Reads a policy from JSON text.
    public init(json text: String) throws(PolicyError) {
        self = try PolicyReader.read(Array(text.utf8))
    }
}
