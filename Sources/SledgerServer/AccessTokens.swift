import Foundation

/// The bearer tokens of `--token-file`: one a line, `read TOKEN` or `write TOKEN`; blank lines
/// and lines starting with `#` are skipped. A write token may also read.
public struct AccessTokens: Sendable {
    public enum Role: String, Sendable {
        case read, write

        func allows(_ needed: Role) -> Bool { self == .write || needed == .read }
    }

    private var tokens: [(token: [UInt8], role: Role)]

    public init(tokens: [(String, Role)]) {
        self.tokens = tokens.map { (Array($0.0.utf8), $0.1) }
    }

    /// A token file that cannot be used: one line naming the file and the line.
    public struct FileError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(file path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileError(description: "\(path): cannot read the token file")
        }
        var tokens: [(String, Role)] = []
        for (index, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count == 2, let role = Role(rawValue: String(words[0])) else {
                throw FileError(description: "\(path): line \(index + 1): expected `read TOKEN` or `write TOKEN`")
            }
            guard words[1].utf8.count >= 16 else {
                throw FileError(description: "\(path): line \(index + 1): a token must be at least 16 characters")
            }
            tokens.append((String(words[1]), role))
        }
        guard !tokens.isEmpty else { throw FileError(description: "\(path): no token in the file") }
        self.init(tokens: tokens)
    }

    /// The role of `token`, or nil for an unknown one. Every stored token is compared in
    /// full, so the time taken does not tell how much of a guess was right.
    public func role(of token: Substring) -> Role? {
        let given = Array(token.utf8)
        var found: Role?
        for entry in tokens {
            var difference = UInt8(entry.token.count == given.count ? 0 : 1)
            for i in 0..<entry.token.count {
                difference |= entry.token[i] ^ (i < given.count ? given[i] : 0)
            }
            if difference == 0 { found = entry.role }
        }
        return found
    }
}
