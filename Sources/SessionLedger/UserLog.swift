/// One user's slice of a ledger, read through the indexes instead of the whole log: every
/// event by the user (`by_user`) and every event naming a session the user logged in
/// (`by_session`, and the session's refreshes by its home user, which `by_session` leaves to
/// that user's `by_user`: SessionHome), in (`at`, `seq`) order. Issue 4: `user U` and
/// `sessions --user U` read only what they need.
///
/// Folding this slice gives exactly the full fold's state for the sessions the user logged in:
/// a session's state changes only through events that name it (its login, refreshes, logouts,
/// token deletions, all read as above) or through the user's own `logout_all` (in `by_user`);
/// an earlier login of the same id by someone else, which makes the user's login a
/// `duplicate-session`, names the session too. Other sessions in the slice are partial and
/// must not be reported. `late-event` comes from the `lags` index, which the writer keeps.
public struct UserLog: FoldSource {
    public let user: String
    private let snapshot: LedgerSnapshot
    /// Every event of the slice, sorted by (`at`, `seq`), with its record as found while
    /// slicing (in the map, valid for the snapshot's transaction): folding decodes it in place
    /// instead of looking it up again, which halved the B-tree walks of a `user U`.
    private let entries: [Entry]

    private struct Entry {
        var at: Instant { header.at }
        var seq: UInt64
        var header: Record.Header
        var record: UnsafeRawBufferPointer
    }

    /// With a `horizon` (the fold's), the records of events past it are not read: from the
    /// first event in `seq` order that is not lagged and lies past the horizon, every event
    /// does too unless `lags` lists it (TimeOrder), so only those are looked at. A user's
    /// state early in a long log then costs the events up to then, not all of them.
    public init(snapshot: LedgerSnapshot, user: String, horizon: LedgerFold.Horizon = .all) throws {
        self.user = user
        self.snapshot = snapshot
        entries = try UserLog.slice(snapshot, user: try snapshot.userNumber(user), session: nil,
                                    pastFrom: try UserLog.bound(snapshot, horizon))
    }

    /// The slice for `session S`: the events of the user whose login created it (the first in
    /// (`at`, `seq`) order, as the fold applies them) with every event naming their sessions;
    /// when no login created it, only the events naming it. Folding it gives the session's
    /// exact state, and its events' findings. `horizon` as for a user's slice (the owner is
    /// the same: the first login, if within the horizon at all, is the first within it).
    public init(snapshot: LedgerSnapshot, ownerOf session: String, horizon: LedgerFold.Horizon = .all) throws {
        self.snapshot = snapshot
        guard let (number, home) = try snapshot.sessionEntry(session) else {
            user = ""
            entries = []
            return
        }
        let owner = try UserLog.owner(snapshot, of: number)
        if let owner, let stored = try snapshot.event(seq: owner.seq) {
            user = stored.event.user
        } else {
            user = ""
        }
        entries = try UserLog.slice(snapshot, user: owner?.user, session: (number, home),
                                    pastFrom: try UserLog.bound(snapshot, horizon))
    }

    /// The slice for `replay --user U` and the timeline page, which report the findings of the
    /// user's events: the user's slice and, for each session one of their events names that
    /// they did not log in first (someone else's, one someone else logged in before them, one
    /// never logged in), the slice of `session S` for it. Folding it gives each of the user's
    /// events the findings the whole log gives it, and each session they name its state: a
    /// finding of an event depends on the event, the `lags` index, the state of the session it
    /// names, and for a `logout_all` the user's own sessions. Events of the other slices may
    /// get other findings (their sessions are partial) and must not be reported.
    public init(snapshot: LedgerSnapshot, eventsOf user: String) throws {
        guard let number = try snapshot.userNumber(user) else {
            self.init(user: user, snapshot: snapshot, entries: [])
            return
        }
        let own = try UserLog.slice(snapshot, user: number, session: nil)
        // The slice holds every login of the sessions the user logged in (`by_session`), and
        // none of the others: so a session's first login in it, in (`at`, `seq`) order, is its
        // first login, and one without is not the user's.
        var firstLogin: [UInt32: UInt32] = [:]
        var named = Set<UInt32>()
        for entry in own where entry.header.sessionNumber != 0 {
            let session = entry.header.sessionNumber
            if entry.header.kind == .login, firstLogin[session] == nil { firstLogin[session] = entry.header.userNumber }
            if entry.header.userNumber == number { named.insert(session) }
        }
        let others = try named.filter { firstLogin[$0] != number }.map { session in
            try UserLog.slice(snapshot, user: UserLog.owner(snapshot, of: session)?.user, session: (session, snapshot.sessionHome(session)))
        }
        self.init(user: user, snapshot: snapshot, entries: UserLog.merged(own, with: others))
    }

    /// The slice for `replay --session S`, which reports and traces the events naming S: the
    /// slice of `session S` and, for each `logout_all` made from S by someone other than its
    /// owner, that user's slice, since such a step ends (and a trace shows) every session of
    /// theirs then active. Folding it gives each event naming S the whole log's findings and
    /// trace step.
    public init(snapshot: LedgerSnapshot, eventsNaming session: String) throws {
        let base = try UserLog(snapshot: snapshot, ownerOf: session)
        var others: [[Entry]] = []
        if let number = try snapshot.sessionEntry(session)?.number {
            let owner = base.user.isEmpty ? nil : try snapshot.userNumber(base.user)  // no login: no owner
            let users = Set(base.entries.lazy.filter { $0.header.kind == .logoutAll && $0.header.sessionNumber == number && $0.header.userNumber != owner }
                                .map(\.header.userNumber))
            others = try users.map { try UserLog.slice(snapshot, user: $0, session: nil) }
        }
        self.init(user: base.user, snapshot: snapshot, entries: UserLog.merged(base.entries, with: others))
    }

    /// `entries` with the events of `slices` it does not hold (by `seq`), in (`at`, `seq`) order.
    private static func merged(_ entries: [Entry], with slices: [[Entry]]) -> [Entry] {
        var seqs = Set(entries.map(\.seq))
        var out = entries
        for slice in slices {
            for entry in slice where seqs.insert(entry.seq).inserted { out.append(entry) }
        }
        if out.count > entries.count { out.sort { ($0.at, $0.seq) < ($1.at, $1.seq) } }
        return out
    }

    private init(user: String, snapshot: LedgerSnapshot, entries: [Entry]) {
        self.user = user
        self.snapshot = snapshot
        self.entries = entries
    }

    /// The first login of a session, in (`at`, `seq`) order: `by_session` files every login
    /// naming it (it leaves out only refreshes). Nil when none did.
    private static func owner(_ snapshot: LedgerSnapshot, of session: UInt32) throws -> (at: Instant, seq: UInt64, user: UInt32)? {
        var owner: (at: Instant, seq: UInt64, user: UInt32)?
        for seq in try snapshot.seqs(ofSession: session) {
            let header = try snapshot.header(seq: seq, session: session)
            if header.kind == .login, owner.map({ (header.at, seq) < ($0.at, $0.seq) }) ?? true {
                owner = (header.at, seq, header.userNumber)
            }
        }
        return owner
    }

    /// The first unlagged `seq` past the horizon (nil: none, or no horizon). Past it the slice
    /// takes only the events `lags` lists, so the index's count is checked first.
    private static func bound(_ snapshot: LedgerSnapshot, _ horizon: LedgerFold.Horizon) throws -> UInt64? {
        guard let end = horizon.end else { return nil }
        try snapshot.verifyLagsCount()
        return try snapshot.firstSeq(atOrAfter: end, head: snapshot.eventCount())
    }

    /// `pastFrom`: the first unlagged `seq` past the horizon; from it on only lagged events
    /// are read. `session`: a session whose events belong in the slice besides those of the
    /// sessions the user logged in, with its home user.
    private static func slice(_ snapshot: LedgerSnapshot, user number: UInt32?, session: (number: UInt32, home: UInt32)?,
                              pastFrom bound: UInt64? = nil) throws -> [Entry] {
        var seqs = Set<UInt64>()
        /// The sessions whose events belong in the slice, with their home user where known.
        var sessions: [UInt32: UInt32?] = [:]
        var slice: [Entry] = []
        /// The sessions whose first naming record (carrying their string) is the user's, whose
        /// home is therefore this user, with that record's `seq`: no event before it names them.
        var homedHere: [UInt32: UInt64] = [:]
        /// Adds the event at `seq` unless it is in already or past the horizon; `filed` says
        /// whether its header belongs where an index filed it (nil: damage, false: not wanted).
        func take(_ seq: UInt64, _ index: String, _ filed: (Record.Header, UnsafeRawBufferPointer) -> Bool?) throws {
            guard !seqs.contains(seq) else { return }
            if let bound, seq >= bound, try snapshot.txn.get(snapshot.db.lags, Key.seq(seq)) == nil { return }
            let (header, record) = try snapshot.verifiedRecord(seq: seq)
            guard let wanted = filed(header, record) else {
                throw LedgerError.damaged(seq: seq, problem: "\(index) files seq \(seq) under another \(index == "by_user" ? "user" : "session")")
            }
            guard wanted else { return }
            seqs.insert(seq)
            slice.append(Entry(seq: seq, header: header, record: record))
        }
        if let session { sessions[session.number] = session.home }
        if let number {
            for seq in try snapshot.seqs(ofUser: number) {
                try take(seq, "by_user") { header, record in
                    guard header.userNumber == number else { return nil }
                    if header.kind == .login, header.sessionNumber != 0, sessions[header.sessionNumber] == nil {
                        sessions[header.sessionNumber] = .some(nil)
                    }
                    // The record carrying a session's string is the first naming it: its home is this user.
                    if header.sessionNumber != 0, Record.carried(record).contains(.session) { homedHere[header.sessionNumber] = seq }
                    return true
                }
            }
        }
        // A session's refreshes by its home user are in that user's `by_user` only; when that is
        // the slice's user, they are in already. Other homes are read once each.
        var elsewhere: [UInt32: Set<UInt32>] = [:]
        for (session, knownHome) in sessions {
            let filed = try snapshot.seqs(ofSession: session, from: homedHere[session] ?? 0)
            for seq in filed {
                try take(seq, "by_session") { header, _ in header.sessionNumber == session ? true : nil }
            }
            let home = homedHere[session] != nil ? number!
                : try snapshot.verifiedHome(of: session, claimed: knownHome ?? snapshot.sessionHome(session), filed: filed)
            if home != number { elsewhere[home, default: []].insert(session) }
        }
        for (home, homed) in elsewhere {
            for seq in try snapshot.seqs(ofUser: home) {
                try take(seq, "by_user") { header, _ in
                    guard header.userNumber == home else { return nil }
                    return header.kind == .refresh && homed.contains(header.sessionNumber)
                }
            }
        }
        return slice.sorted { ($0.at, $0.seq) < ($1.at, $1.seq) }
    }

    public var hasRecorded: Bool { true }
    public func totalEvents() throws -> Int { entries.count }

    /// `by_user` must hold one entry per event (O(1) to check).
    public func verify() throws {
        let events = try snapshot.eventCount()
        let entries = try snapshot.txn.count(snapshot.db.byUser)
        guard entries == events else {
            throw LedgerError.damaged(seq: nil, problem: "the head says \(events) events, the by_user index holds \(entries)")
        }
    }

    /// From the `lags` index, which the writer keeps for the whole log: one lookup per event.
    public func lateSeqs(maxSkew: Duration?) throws -> Set<UInt64> {
        try snapshot.lateSeqs(among: entries.lazy.map(\.seq), maxSkew: maxSkew)
    }

    public func forEachEventInTimeOrder(from: Instant?, to: Instant?, foldOnly: Bool,
                                        _ body: (StoredEvent) throws -> Bool) throws {
        for entry in entries {
            if let from, entry.at < from { continue }
            if let to, entry.at >= to { return }
            guard try body(try snapshot.decode(seq: entry.seq, entry.record, foldOnly: foldOnly)) else { return }
        }
    }
}

extension LedgerSnapshot {
    /// The record at `seq` (valid for this snapshot's transaction) and its fixed header, its
    /// checksum checked: a slice is ordered and cut by these instants before any record is decoded.
    func verifiedRecord(seq: UInt64) throws -> (header: Record.Header, record: UnsafeRawBufferPointer) {
        guard let bytes = try txn.get(db.log, Key.seq(seq)) else {
            throw LedgerError.damaged(seq: seq, problem: "an index names seq \(seq), which the log does not hold")
        }
        return (try verifiedHeader(of: bytes, seq: seq), bytes)
    }

    /// The header at `seq`, which `by_session` files under `session`.
    func header(seq: UInt64, session: UInt32) throws -> Record.Header {
        let header = try verifiedRecord(seq: seq).header
        guard header.sessionNumber == session else {
            throw LedgerError.damaged(seq: seq, problem: "by_session files seq \(seq) under another session")
        }
        return header
    }
}
