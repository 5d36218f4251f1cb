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

    private var users: [ByteIdentity: UInt32] = [:]
    private var sessions: [ByteIdentity: UInt32] = [:]

    mutating func keys(for event: Event) -> EventKeys {
        var renumbered = false
        if users.count >= CallNames.limit || sessions.count >= CallNames.limit {
            users.removeAll(keepingCapacity: true)
            sessions.removeAll(keepingCapacity: true)
            renumbered = true
        }
        return EventKeys(user: CallNames.number(event.user, in: &users),
                         session: event.session.map { CallNames.number($0, in: &sessions) } ?? 0,
                         idHash: event.id.map(IDIndex.hash) ?? 0,
                         renumbered: renumbered)
    }

    private static func number(_ name: String, in table: inout [ByteIdentity: UInt32]) -> UInt32 {
        let key = ByteIdentity(name)
        if let number = table[key] { return number }
        let number = UInt32(table.count + 1)
        table[key] = number
        return number
    }
}

/// The writer's side: the ledger number of each call number learned so far.
struct LedgerNumbers {
    /// Indexed by call number; 0: not learned yet.
    var users: [UInt32] = []
    var sessions: [UInt32] = []

    mutating func forget() {
        users.removeAll(keepingCapacity: true)
        sessions.removeAll(keepingCapacity: true)
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
