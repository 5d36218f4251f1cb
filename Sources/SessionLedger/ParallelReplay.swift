import Dispatch
import Foundation

/// `replay --jobs N`: the verifier's fold split by user across N threads, with output
/// identical to one fold (docs/ARCHITECTURE.md, "Parallel replay").
///
/// A session's state changes only through events that name it and its owner's `logout_all`
/// (UserLog explains why), so the log splits by the user who owns each session: the user of
/// its first login in (`at`, `seq`) order. Every job reads the whole log in time order and each
/// record's header (user and session numbers), learns the owners as the logins go by, and
/// folds only the events that belong to its users: those naming a session its users own,
/// and those of its users that name no owned session. The one event that touches two users
/// is a `logout_all` made from another user's session: the job owning that session runs its
/// checks (`Derivation.Part.sessionChecks`), the user's job the revocation (`.effect`).
/// Findings are merged in (`at`, `seq`) order, a split event's checks before its timing
/// findings, which is the order one fold gives.
public struct ParallelReplay {
    public let policy: Policy
    public let filter: FindingFilter
    public let jobs: Int
    /// Each job retires its inactive sessions every so many applied events (LedgerFold's
    /// `retireEvery`); nil: never.
    public var retireEvery: Int? = LedgerFold.replayRetireEvery

    /// The most jobs a replay runs: each holds a read transaction for its whole run, and
    /// LMDB's reader table (126 slots) is shared with every other reader of the ledger.
    public static let maxJobs = 64

    public init(policy: Policy, filter: FindingFilter = .all, jobs: Int) {
        precondition((1...Self.maxJobs).contains(jobs))
        self.policy = policy
        self.filter = filter
        self.jobs = jobs
    }

    public struct Summary: Equatable, Sendable {
        public var events: Int
        /// Sessions created (a login applied), and users with at least one.
        public var sessions: Int
        public var users: Int

        public init(events: Int, sessions: Int, users: Int) {
            (self.events, self.sessions, self.users) = (events, sessions, users)
        }

        /// The same counts from one fold.
        public init(_ result: LedgerFold.Result) {
            self.init(events: result.events, sessions: result.derivation.sessionCount, users: result.derivation.userCount)
        }
    }

    /// Runs the jobs and hands each finding the filter lets through to `onFinding`, in order,
    /// as the jobs find them (at most a few thousand wait in memory per job).
    public func run(_ ledger: Ledger, onFinding: (Finding) throws -> Void) throws -> Summary {
        let (head, late) = try ledger.read { snapshot -> (UInt64, LateLookup) in
            try snapshot.verifyLogCount()
            return (try snapshot.eventCount(), LateLookup(try snapshot.lateSeqs(maxSkew: policy.maxSkew)))
        }
        let streams = (0..<jobs).map { _ in FindingStream() }
        let counts = JobCounts(jobs)
        let group = DispatchGroup()
        for j in 0..<jobs {
            let stream = streams[j]
            DispatchQueue.global().async(group: group) {
                do {
                    let (sessions, users) = try ledger.read { snapshot in
                        try self.job(j, snapshot, head: head, late: late, stream: stream)
                    }
                    counts.set(j, sessions: sessions, users: users)
                    stream.finish(nil)
                } catch {
                    stream.finish(error)
                }
            }
        }
        defer {
            for stream in streams { stream.cancel() }
            group.wait()
        }
        try merge(streams, onFinding)
        group.wait()
        return Summary(events: Int(head), sessions: counts.sessions, users: counts.users)
    }

    /// One job: returns how many sessions and users its fold created.
    private func job(_ j: Int, _ snapshot: LedgerSnapshot, head: UInt64, late: LateLookup,
                     stream: FindingStream) throws -> (Int, Int) {
        let n = UInt32(jobs)
        let me = UInt32(j)
        var derivation = Derivation(policy: policy)
        derivation.stopIndexingNumberedSessionsByID()
        // Session number -> the job of its owner, plus one (0: no login yet); read for logins,
        // `logout_all` and the rare event of this job's user naming a session this job does
        // not own. Every other event asks only `mine`, one bit a session (the sessions this
        // job owns): at 5.7 million sessions the bits stay in the cache, the bytes did not.
        var ownerJob: [UInt8] = []
        var mine: [UInt64] = []
        var scratch: [Finding] = []
        var chunk: [FindingStream.Item] = []
        chunk.reserveCapacity(FindingStream.chunkSize)
        try snapshot.forEachRecordHeaderInTimeOrder(lookahead: LedgerSnapshot.foldLookahead, ahead: { header, step in
            derivation.prefetch(header.sessionNumber, step)
        }) { seq, header, record in
            guard seq <= head else { return true }  // appended after the replay began
            let session = Int(header.sessionNumber)
            let userHome = header.userNumber % n
            var home = userHome
            if session != 0, header.kind != .login, header.kind != .logoutAll {
                if session / 64 < mine.count, mine[session / 64] & (1 << (session % 64)) != 0 {
                    home = me
                } else if userHome != me {
                    return true  // owned by another job, or by no one and this user is another job's
                } else if session < ownerJob.count, ownerJob[session] != 0 {
                    return true  // this job's user naming another job's session
                }
            } else if session != 0 {
                var owner: UInt8 = session < ownerJob.count ? ownerJob[session] : 0
                if owner == 0, header.kind == .login {
                    if session >= ownerJob.count { ownerJob.append(contentsOf: repeatElement(0, count: session + 1 - ownerJob.count)) }
                    owner = UInt8(userHome + 1)
                    ownerJob[session] = owner
                    if userHome == me {
                        if session / 64 >= mine.count { mine.append(contentsOf: repeatElement(0, count: session / 64 + 1 - mine.count)) }
                        mine[session / 64] |= 1 << (session % 64)
                    }
                }
                if owner != 0 { home = UInt32(owner - 1) }
            }
            var part = Derivation.Part.whole
            if header.kind == .logoutAll, home != userHome {  // made from a session another job's user owns
                if me == home { part = .sessionChecks } else if me == userHome { part = .effect } else { return true }
            } else if home != me {
                return true
            }
            let isLate = late.contains(seq)
            let applied = try !isLate && snapshot.offer(seq, header, record) { derivation.applyRefresh(seq: $0, $1, checkFuture: true) }
            if !applied {
                let stored = try snapshot.decode(seq: seq, record, foldOnly: true)
                derivation.apply(stored, late: isLate, checkFuture: true, part: part, into: &scratch)
                for finding in scratch where filter.includes(finding) {
                    chunk.append(FindingStream.Item(finding: finding, checksFirst: part == .sessionChecks))
                }
                scratch.removeAll(keepingCapacity: true)
            }
            if let retireEvery, derivation.eventCount % retireEvery == 0 { derivation.retireInactive() }
            if chunk.count >= FindingStream.chunkSize {
                try stream.push(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
            return true
        }
        if !chunk.isEmpty { try stream.push(chunk) }
        return (derivation.sessionCount, derivation.userCount)
    }

    /// Merges the jobs' findings in (`at`, `seq`) order, a split event's checks first.
    private func merge(_ streams: [FindingStream], _ onFinding: (Finding) throws -> Void) throws {
        var heads: [[FindingStream.Item]] = []
        var positions: [Int] = []
        for stream in streams {
            heads.append(try stream.pop() ?? [])
            positions.append(0)
        }
        while true {
            var best: Int?
            for i in heads.indices where positions[i] < heads[i].count {
                if let b = best {
                    if heads[i][positions[i]].precedes(heads[b][positions[b]]) { best = i }
                } else {
                    best = i
                }
            }
            guard let b = best else { return }
            try onFinding(heads[b][positions[b]].finding)
            positions[b] += 1
            if positions[b] == heads[b].count {
                heads[b] = try streams[b].pop() ?? []
                positions[b] = 0
            }
        }
    }
}

/// One job's findings, handed to the merging thread in chunks; the job waits when a few
/// chunks are unread, so memory stays bounded whatever the number of findings.
final class FindingStream: @unchecked Sendable {
    struct Item {
        var finding: Finding
        /// The checks of a split `logout_all`, which come before its other findings.
        var checksFirst: Bool

        func precedes(_ other: Item) -> Bool {
            (finding.at, finding.seq, checksFirst ? 0 : 1) < (other.finding.at, other.finding.seq, other.checksFirst ? 0 : 1)
        }
    }

    static let chunkSize = 1024
    private static let maxWaiting = 8

    private let condition = NSCondition()
    private var chunks: [[Item]] = []
    private var finished = false
    private var cancelled = false
    private var failure: Error?

    struct Cancelled: Error {}

    /// Blocks while the reader is behind; throws when the reader gave up.
    func push(_ chunk: [Item]) throws {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= FindingStream.maxWaiting && !cancelled { condition.wait() }
        if cancelled { throw Cancelled() }
        chunks.append(chunk)
        condition.broadcast()
    }

    func finish(_ error: Error?) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next chunk; nil when the job is done; rethrows the job's error.
    func pop() throws -> [Item]? {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty && !finished { condition.wait() }
        if !chunks.isEmpty {
            condition.broadcast()
            return chunks.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }
}

/// The jobs' session and user counts, written from their threads.
private final class JobCounts: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [(sessions: Int, users: Int)]

    init(_ jobs: Int) { values = Array(repeating: (0, 0), count: jobs) }

    func set(_ j: Int, sessions: Int, users: Int) {
        lock.lock()
        values[j] = (sessions, users)
        lock.unlock()
    }

    var sessions: Int { lock.lock(); defer { lock.unlock() }; return values.reduce(0) { $0 + $1.sessions } }
    var users: Int { lock.lock(); defer { lock.unlock() }; return values.reduce(0) { $0 + $1.users } }
}
