/// Bad input: one line the user can act on, naming the line and the key (docs/INPUT.md).
public struct InputError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The 1-based line number within its file or stream.
    public var line: Int
    /// The key at fault (`meta.KEY` for a meta value), or nil for a line-level problem.
    public var key: String?
    public var problem: String
    /// The file the line came from, when it was a named file.
    public var file: String?

    public init(line: Int, key: String?, problem: String, file: String? = nil) {
        self.line = line
        self.key = key
        self.problem = problem
        self.file = file
    }

    public var description: String {
        let place = file.map { "\($0): line \(line)" } ?? "line \(line)"
        if let key { return "\(place): \(key): \(problem)" }
        return "\(place): \(problem)"
    }

    /// A key name fit to print (see `MessageText`), cut to 64 bytes.
    static func printable(key bytes: some Collection<UInt8>) -> String {
        MessageText.escape(String(decoding: bytes, as: UTF8.self))
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
