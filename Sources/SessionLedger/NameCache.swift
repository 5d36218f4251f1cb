import LMDB

/// The user and session names of one snapshot's records, by number (decision 0008).
///
/// A record gives its user and session by number; the first record naming each also carries
/// the string, and `user_names`/`session_names` map every number back to its string. This
/// keeps the names the snapshot looked up in two direct-mapped caches (slot = number modulo
/// the capacity), so a fold, whose events come from a few thousand users and sessions at a
/// time, finds most of them in memory. Memory stays bounded however many sessions a command
/// meets: each cache starts with 16 slots and grows fourfold once it has missed a quarter as
/// many times as it has slots, up to 2^18.
final class NameCache {
    private var users = Slots()
    private var sessions = Slots()

    func user(_ number: UInt32, _ txn: Transaction, _ table: Database) throws -> String {
        if let name = users.get(number) { return name }
        return try users.fill(number, txn, table, what: "user")
    }

    func session(_ number: UInt32, _ txn: Transaction, _ table: Database) throws -> String {
        if let name = sessions.get(number) { return name }
        return try sessions.fill(number, txn, table, what: "session")
    }

    /// A name read from the record that carries it: kept like a looked-up one, so a fold in
    /// `seq` order, which meets each session's first record before its others, rarely searches
    /// the tables at all.
    func remember(user number: UInt32, _ name: String) { users.remember(number, name) }
    func remember(session number: UInt32, _ name: String) { sessions.remember(number, name) }

    private struct Slots {
        static let largest = 1 << 18
        private var entries: [(number: UInt32, name: String)] = []  // number 0: empty (numbers start at 1)
        private var misses = 0

        @inline(__always)
        func get(_ number: UInt32) -> String? {
            guard !entries.isEmpty else { return nil }
            let slot = Int(number) & (entries.count - 1)
            return entries[slot].number == number ? entries[slot].name : nil
        }

        /// Keeps `name` for `number` (counted like a miss: it is a name the cache did not hold).
        mutating func remember(_ number: UInt32, _ name: String) {
            makeRoom()
            store(number, name)
        }

        /// Looks `number` up in `table`, keeps it and returns its name.
        mutating func fill(_ number: UInt32, _ txn: Transaction, _ table: Database, what: String) throws -> String {
            makeRoom()
            let found = try withUnsafeBytes(of: number.bigEndian) { try txn.get(table, $0) }
            guard let found else {
                throw Record.Damage(problem: "\(what) number \(number) has no name in \(table.name)")
            }
            guard let bytes = NameEntry.name(number, found) else {
                throw Record.Damage(problem: "the name of \(what) number \(number) in \(table.name) is damaged (checksum mismatch)")
            }
            let name = String(decoding: bytes, as: UTF8.self)
            store(number, name)
            return name
        }

        /// Counts a miss, and grows the cache fourfold after a quarter as many as it has slots.
        private mutating func makeRoom() {
            misses += 1
            if entries.isEmpty {
                entries = Array(repeating: (0, ""), count: 16)
            } else if misses * 4 >= entries.count, entries.count < Slots.largest {
                let old = entries
                entries = Array(repeating: (0, ""), count: entries.count * 4)
                for entry in old where entry.number != 0 { store(entry.number, entry.name) }
                misses = 0
            }
        }

        @inline(__always)
        private mutating func store(_ number: UInt32, _ name: String) {
            entries[Int(number) & (entries.count - 1)] = (number, name)
        }
    }
}

/// An entry of `user_names`/`session_names`: the name's UTF-8 bytes, then the CRC-32 (LE) of
/// the number (u32 big-endian, the key) followed by those bytes. A flipped bit in a table read
/// for most records' names is then a refusal, not a wrong name (docs/FORMAT.md).
enum NameEntry {
    static func value(_ number: UInt32, _ name: UnsafeRawBufferPointer) -> [UInt8] {
        var out = Array(name)
        appendLE(UInt64(checksum(number, name)), 4, &out)
        return out
    }

    /// The name in an entry filed under `number`, nil when its checksum does not match.
    static func name(_ number: UInt32, _ value: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard value.count >= 4 else { return nil }
        let name = UnsafeRawBufferPointer(rebasing: value[0..<(value.count - 4)])
        return UInt32(readLE(value, value.count - 4, 4)) == checksum(number, name) ? name : nil
    }

    /// CRC-32 of the key (`number`, u32 big-endian) followed by `name`, without an allocation.
    private static func checksum(_ number: UInt32, _ name: UnsafeRawBufferPointer) -> UInt32 {
        withUnsafeTemporaryAllocation(byteCount: 4 + name.count, alignment: 1) { covered in
            withUnsafeBytes(of: number.bigEndian) { covered.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 4) }
            if !name.isEmpty { (covered.baseAddress! + 4).copyMemory(from: name.baseAddress!, byteCount: name.count) }
            return CRC32.checksum(UnsafeRawBufferPointer(covered))
        }
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

    func carried(user number: UInt32, _ name: String) { snapshot.names.remember(user: number, name) }
    func carried(session number: UInt32, _ name: String) { snapshot.names.remember(session: number, name) }
}
