import LMDB

/// The user and session names of one snapshot's records, by number (decision 0008).
///
/// A record gives its user and session by number; the first record naming each also carries
/// the string, and `user_names`/`session_names` map every number back to its string. This
/// keeps the names the snapshot last looked up in two direct-mapped caches (slot =
/// number modulo the capacity), so a fold, whose events come from a few thousand users and
/// sessions at a time, looks most of them up in memory. Memory stays bounded however many
/// sessions a command meets: each cache starts with 16 slots and grows fourfold once it has
/// missed as many times as it has slots, up to 2^18.
final class NameCache {
    private var users = Slots()
    private var sessions = Slots()

    func user(_ number: UInt32, _ txn: Transaction, _ table: Database) throws -> String {
        if let name = users.get(number) { return name }
        let name = try NameCache.lookUp(number, txn, table, what: "user")
        users.put(number, name)
        return name
    }

    func session(_ number: UInt32, _ txn: Transaction, _ table: Database) throws -> String {
        if let name = sessions.get(number) { return name }
        let name = try NameCache.lookUp(number, txn, table, what: "session")
        sessions.put(number, name)
        return name
    }

    private static func lookUp(_ number: UInt32, _ txn: Transaction, _ table: Database, what: String) throws -> String {
        guard let value = try withUnsafeBytes(of: number.bigEndian, { try txn.get(table, $0) }) else {
            throw Record.Damage(problem: "\(what) number \(number) has no name in \(table.name)")
        }
        guard let name = NameEntry.name(number, value) else {
            throw Record.Damage(problem: "the name of \(what) number \(number) in \(table.name) is damaged (checksum mismatch)")
        }
        return String(decoding: name, as: UTF8.self)
    }

    private struct Slots {
        static let largest = 1 << 18
        private var numbers: [UInt32] = []  // 0: empty (numbers start at 1)
        private var names: [String] = []
        private var misses = 0

        @inline(__always)
        func get(_ number: UInt32) -> String? {
            guard !numbers.isEmpty else { return nil }
            let slot = Int(number) & (numbers.count - 1)
            return numbers[slot] == number ? names[slot] : nil
        }

        mutating func put(_ number: UInt32, _ name: String) {
            misses += 1
            if numbers.isEmpty {
                numbers = [UInt32](repeating: 0, count: 16)
                names = [String](repeating: "", count: 16)
            } else if misses >= numbers.count, numbers.count < Slots.largest {
                let (oldNumbers, oldNames) = (numbers, names)
                numbers = [UInt32](repeating: 0, count: numbers.count * 4)
                names = [String](repeating: "", count: numbers.count)
                for (n, s) in zip(oldNumbers, oldNames) where n != 0 { store(n, s) }
                misses = 0
            }
            store(number, name)
        }

        @inline(__always)
        private mutating func store(_ number: UInt32, _ name: String) {
            let slot = Int(number) & (numbers.count - 1)
            numbers[slot] = number
            names[slot] = name
        }
    }
}

/// An entry of `user_names`/`session_names`: the name's UTF-8 bytes, then the CRC-32 (LE) of
/// the number (u32 big-endian, the key) followed by those bytes. A flipped bit in a table read
/// for most records' names is then a refusal, not a wrong name (docs/FORMAT.md).
enum NameEntry {
    static func value(_ number: UInt32, _ name: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4 + name.count + 4)
        appendBE(UInt64(number), 4, &out)
        out.append(contentsOf: name)
        let crc = out.withUnsafeBytes { CRC32.checksum($0) }
        out.removeFirst(4)
        appendLE(UInt64(crc), 4, &out)
        return out
    }

    /// The name in an entry filed under `number`, nil when its checksum does not match.
    static func name(_ number: UInt32, _ value: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard value.count >= 4 else { return nil }
        let name = UnsafeRawBufferPointer(rebasing: value[0..<(value.count - 4)])
        let expected = Self.value(number, name)
        return expected.elementsEqual(value) ? name : nil
    }
}

/// A snapshot's names for `Record.decode`.
struct SnapshotNames: NameSource {
    let snapshot: LedgerSnapshot

    func user(_ number: UInt32) throws -> String {
        try snapshot.names.user(number, snapshot.txn, snapshot.db.userNames)
    }

    func session(_ number: UInt32) throws -> String {
        try snapshot.names.session(number, snapshot.txn, snapshot.db.sessionNames)
    }
}
