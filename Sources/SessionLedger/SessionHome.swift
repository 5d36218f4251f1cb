import LMDB

/// A session's home user and the `by_session` index that depends on it (format 5,
/// decision 0011, docs/FORMAT.md).
///
/// A session's home is the user of the first event (in `seq` order) naming it: the record that
/// carries its string. `sessions` stores it beside the session's number. Nine events in ten
/// are refreshes, nearly all by the session's own user, and `by_user` already files those
/// under that user, so `by_session` leaves out a session's refreshes by its home user and
/// files every other event naming it. The events naming a session are then its `by_session`
/// entries and the refreshes naming it among its home user's `by_user` entries.
enum SessionHome {
    /// Whether `by_session` files an event of `kind` by `user` that names a session of home `home`.
    @inline(__always)
    static func isIndexed(_ kind: Event.Kind, user: UInt32, home: UInt32) -> Bool {
        kind != .refresh || user != home
    }

    /// The number and home user in a `sessions` value (u32 LE each), nil when it is not 8 bytes.
    static func entry(_ value: UnsafeRawBufferPointer) -> (number: UInt32, home: UInt32)? {
        guard value.count == 8 else { return nil }
        return (UInt32(readLE(value, 0, 4)), UInt32(readLE(value, 4, 4)))
    }
}

extension LedgerSnapshot {
    /// A session's number and home user, nil when no event has named it.
    func sessionEntry(_ session: String) throws -> (number: UInt32, home: UInt32)? {
        guard let value = try txn.get(db.sessions, Array(session.utf8)) else { return nil }
        guard let entry = SessionHome.entry(value) else {
            throw LedgerError.damaged(seq: nil, problem: "the sessions index holds a \(value.count)-byte entry for \"\(session)\", not 8")
        }
        return entry
    }

    /// `home`, the home user `sessions` gives session number `session`, after checking it
    /// against the record that first names the session (the one carrying its string): the
    /// first `by_session` entry when that carries it (a login, say), else a refresh by `home`
    /// before that entry. A wrong home would leave that user's refreshes out of a slice
    /// unnoticed, so a damaged entry is refused instead.
    /// `filed`: the session's `by_session` entries (`seqs(ofSession:)`), which the caller has read.
    func verifiedHome(of session: UInt32, claimed home: UInt32, filed: [UInt64]) throws -> UInt32 {
        let filed = filed.first
        if let filed {
            let (header, record) = try verifiedRecord(seq: filed)
            if Record.carried(record).contains(.session) {
                guard header.sessionNumber == session, header.userNumber == home else {
                    throw LedgerError.damaged(seq: filed, problem: "the sessions index gives session number \(session) another home user than the user of the event that first names it")
                }
                return home
            }
        }
        for seq in try seqs(ofUser: home) {
            if let filed, seq >= filed { break }
            let (header, record) = try verifiedRecord(seq: seq)
            if header.sessionNumber == session, Record.carried(record).contains(.session) { return home }
        }
        throw LedgerError.damaged(seq: filed, problem: "the sessions index gives session number \(session) a home user none of whose events first names it")
    }

    /// The home user of session number `number`, through its name.
    func sessionHome(_ number: UInt32) throws -> UInt32 {
        let name = try names.session(number, txn, db.sessionNames)
        guard let entry = try sessionEntry(name), entry.number == number else {
            throw LedgerError.damaged(seq: nil, problem: "session number \(number) is not the sessions index's number for its name")
        }
        return entry.home
    }
}
