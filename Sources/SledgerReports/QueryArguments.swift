import SessionLedger

/// A query argument that cannot be used (an instant that is not RFC 3339, a range given
/// half): one line naming the argument. The command line prints it with exit status 2, the
/// server answers 400 with it.
public struct QueryArgumentError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Parses an RFC 3339 instant given as the argument `name` (`--at`, `at`, ...).
public func parseInstant(_ text: String, option name: String) throws -> Instant {
    guard let instant = Instant(rfc3339: text) else {
        throw QueryArgumentError("\(name): not an RFC 3339 instant (for example 2026-03-01T09:00:00Z)")
    }
    return instant
}

extension TimeSelection {
    /// `at`, or `from` and `to` (SPEC.md section 6); neither means now. `prefix` is how the
    /// arguments are written in messages (`--` on the command line, nothing in a URL).
    public static func parse(at: String?, from: String?, to: String?, prefix: String = "") throws -> TimeSelection {
        if at != nil && (from != nil || to != nil) {
            throw QueryArgumentError("give \(prefix)at or \(prefix)from/\(prefix)to, not both")
        }
        if (from == nil) != (to == nil) { throw QueryArgumentError("\(prefix)from and \(prefix)to go together") }
        if let from, let to {
            let start = try parseInstant(from, option: prefix + "from"), end = try parseInstant(to, option: prefix + "to")
            guard start < end else { throw QueryArgumentError("\(prefix)from must be earlier than \(prefix)to") }
            return .range(start, end)
        }
        return .at(try at.map { try parseInstant($0, option: prefix + "at") } ?? Instant.now())
    }
}
