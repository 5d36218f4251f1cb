/// Why a policy file was refused: the key it concerns and what is wrong, one line.
///
/// `description` reads `KEY: WHAT` (`clients.web.lifetime: "28x" is not a duration ...`),
/// or `WHAT` alone for a fault of the JSON text itself; the command line puts the file
/// name in front.
public struct PolicyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The key path (`max_skew`, `clients.web.lifetime`, `login_methods[1]`), or nil when
    /// the JSON text itself is broken.
    public var key: String?
    public var message: String

    public init(key: String?, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String {
        key.map { "\($0): \(message)" } ?? message
    }
}
