import Crypto

/// The SHA-256 chain over the log: `h(0)` is 32 zero bytes, `h(seq) = SHA-256(h(seq-1) || record(seq))`.
public struct HashChain: Equatable, Sendable {
    /// How often a chain value is stored in the `chain` database.
    public static let storedEvery: UInt64 = 1024

    public private(set) var seq: UInt64
    public private(set) var value: [UInt8]

    public init(seq: UInt64 = 0, value: [UInt8] = [UInt8](repeating: 0, count: 32)) {
        self.seq = seq
        self.value = value
    }

    /// Steps the chain over the record stored at `seq + 1`.
    public mutating func append(_ record: UnsafeRawBufferPointer) {
        var hasher = SHA256()
        hasher.update(data: value)
        hasher.update(bufferPointer: record)
        let digest = hasher.finalize()
        digest.withUnsafeBytes { bytes in
            value.withUnsafeMutableBytes { $0.copyMemory(from: bytes) }
        }
        seq += 1
    }

    public var hex: String { value.map { String($0, radix: 16).leftPadded(to: 2) }.joined() }

    /// `SEQ:HEX`, what `sledger digest` prints.
    public var digest: String { "\(seq):\(hex)" }

    /// Parses `SEQ:HEX`.
    public static func parseDigest(_ text: String) -> (seq: UInt64, value: [UInt8])? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let seq = UInt64(parts[0]), parts[1].utf8.count == 64 else { return nil }
        var value: [UInt8] = []
        var iterator = parts[1].makeIterator()
        while let hi = iterator.next(), let lo = iterator.next() {
            guard let byte = UInt8(String([hi, lo]), radix: 16) else { return nil }
            value.append(byte)
        }
        return (seq, value)
    }
}
