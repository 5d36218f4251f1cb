/// What the reader works out beside each event for the writer, on the reader's core: the
/// call's numbers for the event's user and session, and the hash its id is filed under.
///
/// The writer looks a call number up in an array (`LedgerNumbers`) where it used to hash the
/// name into a dictionary: that hashing and comparing was a ninth of an import's writer time.
struct EventKeys {
    /// The user's number in this call (1, 2, ...) and the session's (0: the event has none).
    var user: UInt32
    var session: UInt32
    /// `IDIndex.hash` of the id (0 when the event has none).
    var idHash: UInt64
    /// The call's numbers start again at this event: forget the ones learned before it.
    var renumbered: Bool
}

/// Numbers the user and session names of one call in the order they come. Bounded: past
/// `limit` names of either kind, both tables are forgotten and the numbering starts again.
struct CallNames {
    static let limit = 1 << 18

    private let limit: Int
    private var users = NameNumbering()
    private var sessions = NameNumbering()

    init(limit: Int = CallNames.limit) { self.limit = limit }

    mutating func keys(for event: Event) -> EventKeys {
        var renumbered = false
        if users.count >= limit || sessions.count >= limit {
            users = NameNumbering()
            sessions = NameNumbering()
            renumbered = true
        }
        return EventKeys(user: users.number(event.user),
                         session: event.session.map { sessions.number($0) } ?? 0,
                         idHash: event.id.map(IDIndex.hash) ?? 0,
                         renumbered: renumbered)
    }
}

/// Numbers names (1, 2, ...) in the order they are first met, equal only for the same UTF-8
/// bytes (as `ByteIdentity`). An open-addressing table whose slots hold the name's bytes when
/// they fit (24), so a lookup reads one slot and not a `String`'s storage elsewhere: with a
/// `[ByteIdentity: UInt32]`, the misses on those reads took a tenth of a large import's CPU.
struct NameNumbering {
    private struct Slot {
        /// 0: the slot is empty.
        var number: UInt32 = 0
        var length: UInt32 = 0
        var hash: UInt64 = 0
        /// The name when it fits, zero-padded; else `words.0` is its index in `long`.
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
    }

    private var slots = [Slot](repeating: Slot(), count: 1 << 10)
    private var long: [[UInt8]] = []
    private(set) var count = 0

    mutating func number(_ name: String) -> UInt32 {
        var name = name
        return name.withUTF8 { number(UnsafeRawBufferPointer($0)) }
    }

    private mutating func number(_ name: UnsafeRawBufferPointer) -> UInt32 {
        var hasher = Hasher()
        hasher.combine(bytes: name)
        let hash = UInt64(UInt(bitPattern: hasher.finalize()))
        let fits = name.count <= 24
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        if fits { withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: name) } }
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index].number != 0 {
            let slot = slots[index]
            if slot.hash == hash, slot.length == UInt32(name.count) {
                if fits ? slot.words == words : long[Int(slot.words.0)].elementsEqual(name) { return slot.number }
            }
            index = (index + 1) & mask
        }
        count += 1
        if !fits {
            words.0 = UInt64(long.count)
            long.append(Array(name))
        }
        slots[index] = Slot(number: UInt32(count), length: UInt32(name.count), hash: hash, words: words)
        if 2 * count > slots.count { grow() }
        return UInt32(count)
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: 2 * old.count)
        let mask = slots.count - 1
        for slot in old where slot.number != 0 {
            var index = Int(truncatingIfNeeded: slot.hash) & mask
            while slots[index].number != 0 { index = (index + 1) & mask }
            slots[index] = slot
        }
    }
}

/// The writer's side: the ledger number of each call number learned so far.
struct LedgerNumbers {
    /// Indexed by call number; 0: not learned yet.
    var users: [UInt32] = []
    var sessions: [UInt32] = []
    /// The home user of each session learned (docs/FORMAT.md), by the same call number.
    var sessionHomes: [UInt32] = []

    mutating func forget() {
        users.removeAll(keepingCapacity: true)
        sessions.removeAll(keepingCapacity: true)
        sessionHomes.removeAll(keepingCapacity: true)
    }
}

extension Array where Element == UInt32 {
    /// The ledger number learned for `callNumber`, if any.
    func learned(_ callNumber: UInt32) -> UInt32? {
        let i = Int(callNumber)
        return i < count && self[i] != 0 ? self[i] : nil
    }

    mutating func learn(_ callNumber: UInt32, is number: UInt32) {
        let i = Int(callNumber)
        if i >= count { self += repeatElement(0, count: i + 1 - count) }
        self[i] = number
    }
}
