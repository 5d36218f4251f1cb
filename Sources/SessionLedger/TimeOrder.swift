import LMDB

/// Reading the log in (`at`, `seq`) order, the order state is derived in, from the log
/// itself and the `lags` index: no lookup per event.
///
/// An event is *lagged* when its `at` is earlier than the largest `at` before it in `seq`
/// order; the writer lists every one in `lags` with its `at`. The other events, read in
/// `seq` order, have non-decreasing `at` (each is at least the largest before it), so they are
/// already in (`at`, `seq`) order; the lagged ones, sorted, are merged in where they belong.
/// The first event in `seq` order with `at >= T` is never lagged, so a binary search finds
/// where "from T" begins (`firstSeq`), and no event at or after T comes before it.
extension LedgerSnapshot {
    /// Visits records with `from <= at < to` in (`at`, `seq`) order with their header and
    /// bytes (not decoded: `decode(seq:_:foldOnly:)` checks and decodes), while `body` returns
    /// true. Throws `LedgerError.damaged` when the log and `lags` disagree.
    ///
    /// With a `lookahead` of N (0: none), the log is read N records ahead of `body`, and
    /// `ahead` sees each record it reads before `body` does: `.far` as it is read, and `.near`
    /// N/2 records later (not the last N/2 records of a walk: none are read after them;
    /// `Derivation.prefetch`). The records waiting meanwhile point into the map, so nothing
    /// may write in the transaction during the walk (a read transaction's pages never move).
    func forEachRecordHeaderInTimeOrder(from: Instant? = nil, to: Instant? = nil, lookahead window: Int = 0,
                                        ahead: (Record.Header, Derivation.PrefetchStep) -> Void = { _, _ in },
                                        _ body: (UInt64, Record.Header, UnsafeRawBufferPointer) throws -> Bool) throws {
        let head = try eventCount()
        guard head > 0 else { return }
        let start: UInt64
        if let from {
            guard let first = try firstSeq(atOrAfter: from, head: head) else { return }
            start = first
        } else {
            start = 1
        }
        let (laggedSeqs, lagged) = try laggedEvents(start: start, head: head, from: from, to: to)

        // The walk keeps its state in locals of one closure, not in variables a nested
        // function or closure captures: those are checked for exclusive access on every use,
        // which was a twentieth of a whole replay.
        try txn.withCursor(db.log) { cursor in
            var nextLagged = 0
            /// Hands over the lagged events that come before `bound` (all when nil); false when `body` stopped.
            func handLagged(before bound: (Instant, UInt64)?, _ next: inout Int) throws -> Bool {
                while next < lagged.count, bound.map({ (lagged[next].at, lagged[next].seq) < $0 }) ?? true {
                    let (at, seq) = lagged[next]
                    next += 1
                    guard let record = try txn.get(db.log, Key.seq(seq)) else {
                        throw LedgerError.damaged(seq: seq, problem: "the lags index names seq \(seq), which the log does not hold")
                    }
                    let header = try self.header(of: record, seq: seq)
                    guard header.at == at else {
                        throw LedgerError.damaged(seq: seq, problem: "the record at seq \(seq) is not the event the lags index lists there")
                    }
                    guard try body(seq, header, record) else { return false }
                }
                return true
            }
            /// Hands over a record read from the log, after the lagged events before it; false when `body` stopped.
            func hand(_ next: (seq: UInt64, header: Record.Header, record: UnsafeRawBufferPointer), _ nextLagged: inout Int) throws -> Bool {
                if nextLagged < lagged.count, (lagged[nextLagged].at, lagged[nextLagged].seq) < (next.header.at, next.seq) {
                    guard try handLagged(before: (next.header.at, next.seq), &nextLagged) else { return false }
                }
                return try body(next.seq, next.header, next.record)
            }
            var skip = 0  // index in laggedSeqs
            var previous = Instant(nanoseconds: .min)
            // The records read and not yet handed to `body`, oldest at `first` (a ring).
            precondition(window == 0 || (window >= 2 && window & (window - 1) == 0), "lookahead: 0, or a power of two from 2")
            let waiting = UnsafeMutablePointer<(seq: UInt64, header: Record.Header, record: UnsafeRawBufferPointer)>.allocate(capacity: window)
            defer { waiting.deallocate() }  // its elements are trivial: nothing to deinitialize
            var first = 0, count = 0
            // A damaged record, or the cursor failing, stops the walk after the records read
            // before it are handed over, as they would have been without reading ahead.
            var failure: (any Error)?
            var entry = try cursor.seek(atLeast: Key.seq(start))
            while let current = entry {
                let seq = readBE(current.key, 0, 8)
                guard seq <= head else { break }
                if skip < laggedSeqs.count, laggedSeqs[skip].seq == seq {
                    // Handed over from `lags` where it belongs, or outside the range: first, its
                    // entry must be this record's, and its lag the distance below the largest
                    // `at` before it (the last unlagged one's), or the event would be handed
                    // at a damaged `at`, or left out as if outside the range, without a word.
                    let listed = laggedSeqs[skip]
                    skip += 1
                    do {
                        let at = try self.header(of: current.value, seq: seq).at
                        guard at == listed.at, listed.lag == LatenessTracker.lag(of: at, below: previous) else {
                            throw LedgerError.damaged(seq: seq, problem: "the lags index does not hold the lag and instant of the event at seq \(seq)")
                        }
                        entry = try cursor.next()
                    } catch { failure = error; break }
                    continue
                }
                let header: Record.Header
                do {
                    header = try self.header(of: current.value, seq: seq)
                    if header.at < previous {
                        throw LedgerError.damaged(seq: seq, problem: "seq \(seq) lies before an earlier event in time, and the lags index does not list it")
                    }
                    previous = header.at
                    // The fold stops here on this record's word alone, without decoding it: check it
                    // first, or a flipped bit that moved its `at` past `to` would silently cut the
                    // fold short (the damage campaign found one).
                    if let to, header.at >= to {
                        _ = try verifiedHeader(of: current.value, seq: seq)
                        try checkNotEarlier(thanStop: header.at, seq: seq, head: head)
                        break
                    }
                } catch {
                    failure = error
                    break
                }
                var next = (seq: seq, header: header, record: current.value)
                if window > 0 {
                    ahead(header, .far)
                    if count >= window / 2 { ahead(waiting[(first + count - window / 2) & (window - 1)].header, .near) }
                    if count < window {
                        (waiting + ((first + count) & (window - 1))).initialize(to: next)
                        count += 1
                        do { entry = try cursor.next() } catch { failure = error; break }
                        continue
                    }
                    swap(&next, &waiting[first])
                    first = (first + 1) & (window - 1)
                }
                guard try hand(next, &nextLagged) else { return }
                do { entry = try cursor.next() } catch { failure = error; break }
            }
            while count > 0 {
                let next = waiting[first]
                first = (first + 1) & (window - 1)
                count -= 1
                guard try hand(next, &nextLagged) else { return }
            }
            if let failure { throw failure }
            _ = try handLagged(before: nil, &nextLagged)
        }
    }
    /// `meta/lagged`'s count of lagged events, which every call that stores events keeps up to
    /// the head it leaves (docs/FORMAT.md): damage when it is missing or as of another head.
    /// `head`: the head's `seq` when the caller has it.
    func laggedCount(asOf head: UInt64? = nil) throws -> UInt64 {
        let head = try head ?? eventCount()
        guard let value = try txn.get(db.meta, Key.lagged) else {
            guard head == 0 else { throw LedgerError.damaged(seq: nil, problem: "meta/lagged is missing") }
            return 0
        }
        guard value.count == 16 else {
            throw LedgerError.damaged(seq: nil, problem: "meta/lagged has \(value.count) bytes, not 16")
        }
        guard readLE(value, 0, 8) == head else {
            throw LedgerError.damaged(seq: nil, problem: "meta/lagged is as of seq \(readLE(value, 0, 8)), the head is \(head)")
        }
        return readLE(value, 8, 8)
    }

    /// The `lags` index holds as many entries as the writer counted: a walk finds the lagged
    /// events past the `seq`s it reads through `lags` alone, so an entry gone would leave its
    /// event out without a word (the damage campaign found it). O(1).
    func verifyLagsCount() throws {
        let counted = try laggedCount()
        let entries = try txn.count(db.lags)
        guard entries == counted else {
            throw LedgerError.damaged(seq: nil, problem: "the writer counted \(counted) lagged events, the lags index holds \(entries)")
        }
    }

    /// A walk that stops at the record at `seq`, whose `at` is at or after its end, reads no
    /// record after it. In an intact log the records after it are at or after it unless `lags`
    /// lists them, and the lag of each one listed is its distance below the largest `at` before
    /// it, the stop's own while no later `at` has come. One earlier and unlisted, or listed with
    /// another lag, means a later event was moved to the stop (two records swapped; only the
    /// chain, which a walk in time order does not read, would show it), and the walk would have
    /// stopped before events it must hand over: damage, not an answer. Reads on past records at
    /// the stop's instant (a swapped-in event may share it) and lagged ones, up to
    /// `stopCheckLimit` records.
    private func checkNotEarlier(thanStop at: Instant, seq: UInt64, head: UInt64) throws {
        var next = seq + 1
        while next <= head, next - seq <= LedgerSnapshot.stopCheckLimit {
            guard let record = try txn.get(db.log, Key.seq(next)) else {
                throw LedgerError.damaged(seq: next, problem: "the log does not hold seq \(next), which the head covers")
            }
            let header = try verifiedHeader(of: record, seq: next)
            if let entry = try lagEntry(seq: next) {
                guard entry == LagEntry(lag: LatenessTracker.lag(of: header.at, below: at), at: header.at) else {
                    throw LedgerError.damaged(seq: next, problem: "the lags index does not hold the lag and instant of the event at seq \(next)")
                }
            } else if header.at < at {
                throw LedgerError.damaged(seq: next, problem: "seq \(next) lies before an earlier event in time, and the lags index does not list it")
            } else if header.at > at {
                return
            }
            next += 1
        }
    }

    /// How many records after a walk's stop `checkNotEarlier` reads at most.
    static let stopCheckLimit: UInt64 = 64

    /// The lagged events a walk of `[from, to)` from `start` meets: the `seq`s it passes in the
    /// log (to skip them there), and, sorted by (`at`, `seq`), those inside the range, wherever
    /// they lie after `start` (to merge them in). The walk passes no `seq` at or past the first
    /// event at or after `to`, so only lagged `seq`s before that are listed; the `lags` entries
    /// after it are read for their `at` alone. A `sessions --at` reads the same range twice
    /// (which sessions the events touch, then the fold: `CheckpointTouches`), so the snapshot
    /// keeps the last answer (`LaggedCache`): at 100M events each pass over some 800,000
    /// entries was an eighth of the query.
    private func laggedEvents(start: UInt64, head: UInt64, from: Instant?, to: Instant?) throws
        -> (seqs: [LaggedCache.Listed], inRange: [(at: Instant, seq: UInt64)]) {
        let key = LaggedCache.Key(start: start, head: head, from: from, to: to)
        if let kept = lagged.kept, kept.key == key { return (kept.seqs, kept.inRange) }
        lagged.kept = nil  // not held beside the new answer while it is made
        try verifyLagsCount()
        // Where the search meets damage, every lagged `seq` is listed: the walk then meets the
        // damage itself, after handing over the records before it (unless the count above has
        // already refused). (A stop found too early by a damaged lag is refused too: the walk
        // meets a lagged event the list leaves out, earlier than the one before it.)
        let stop = (try? to.flatMap { try firstSeq(atOrAfter: $0, head: head) }) ?? head + 1
        var seqs: [LaggedCache.Listed] = []
        var inRange: [(at: Instant, seq: UInt64)] = []
        try txn.withCursor(db.lags) { cursor in
            try cursor.forEach(from: cursor.seek(atLeast: Key.seq(start))) { stored in
                let (seq, entry) = try LagEntry.read(stored)
                guard seq <= head else { return false }
                let at = entry.at
                if seq < stop { seqs.append(LaggedCache.Listed(seq: seq, lag: entry.lag, at: at)) }
                if from.map({ at >= $0 }) ?? true, to.map({ at < $0 }) ?? true { inRange.append((at, seq)) }
                return true
            }
        }
        inRange.sort { ($0.at, $0.seq) < ($1.at, $1.seq) }
        // Only a bounded range is asked twice (`sessions`, `who`); a walk to the end, such as
        // each stretch of a checkpoint fold, starts from a new instant every time.
        if to != nil { lagged.kept = (key, seqs, inRange) }
        return (seqs, inRange)
    }

    /// How many records a fold reads ahead of applying them, for `Derivation.prefetch`: a
    /// `replay --jobs 2` of 10M events took 2.13-2.20 s with 16 and 2.17-2.24 s with 32.
    public static let foldLookahead = 16

    /// The `seq` of the first event in `seq` order with `at >= t` (never a lagged one), nil
    /// when there is none: a binary search over `seq` for the first event whose
    /// `largestAt(through:)` reaches `t`. That never decreases, and it grows only at an
    /// unlagged event, whose `at` it then is; so the first `seq` where it reaches `t` is the
    /// first unlagged event at or after `t`, and every event before it has `at < t`. Each step
    /// reads one record and one `lags` entry, however many lagged events lie around it (it
    /// once walked from each step to the next unlagged event: a backfill of 50,000 older
    /// events at the end of a log made every `user U` at the last event read them 27 times).
    func firstSeq(atOrAfter t: Instant, head: UInt64) throws -> UInt64? {
        var low: UInt64 = 1, high = head + 1  // the answer lies in [low, high]; head + 1: none
        while low < high {
            let middle = low + (high - low) / 2
            if try largestAt(through: middle) < t { low = middle + 1 } else { high = middle }
        }
        // Where the event before the answer is lagged, its lag decided the answer: a lagged
        // event never raises the largest `at`, so one that does has a damaged lag, which
        // would otherwise move "from T" past events at or after T without a word.
        if low > 1, try txn.get(db.lags, Key.seq(low - 1)) != nil {
            let before = try largestAt(through: low - 1)
            guard low > 2, try largestAt(through: low - 2) == before else {
                throw LedgerError.damaged(seq: low - 1, problem: "the lag of seq \(low - 1) does not lead back to the largest at before it")
            }
        }
        guard low <= head else { return nil }
        guard try txn.get(db.lags, Key.seq(low)) == nil else {
            throw LedgerError.damaged(seq: low, problem: "the lags index lists seq \(low), yet its lag says it is the first event at or after \(t)")
        }
        return low
    }

    /// The largest `at` of the events up to `seq` in `seq` order: the event's own `at`, plus
    /// its lag when `lags` lists it (the writer measures a lag from that largest `at`). O(1).
    func largestAt(through seq: UInt64) throws -> Instant {
        guard let record = try txn.get(db.log, Key.seq(seq)) else {
            throw LedgerError.damaged(seq: seq, problem: "the log does not hold seq \(seq), which the head covers")
        }
        let at = try verifiedHeader(of: record, seq: seq).at
        guard let entry = try lagEntry(seq: seq) else { return at }
        guard entry.at == at else {
            throw LedgerError.damaged(seq: seq, problem: "the record at seq \(seq) is not the event the lags index lists there")
        }
        return Instant(nanoseconds: at.nanoseconds &+ Int64(bitPattern: entry.lag))
    }

    /// `header(of:seq:)`, after checking the record's checksum: for a record whose `at` decides
    /// where a read starts or stops, which is never decoded (and so never checked) otherwise.
    func verifiedHeader(of record: UnsafeRawBufferPointer, seq: UInt64) throws -> Record.Header {
        guard Record.checksumMatches(record) else { throw LedgerError.damaged(seq: seq, problem: "checksum mismatch") }
        return try header(of: record, seq: seq)
    }

    func header(of record: UnsafeRawBufferPointer, seq: UInt64) throws -> Record.Header {
        do {
            return try Record.header(record)
        } catch let damage as Record.Damage {
            throw LedgerError.damaged(seq: seq, problem: damage.problem)
        }
    }
}

/// A snapshot's last answer of `laggedEvents`. The head is part of its key, and within a
/// transaction nothing changes the log or `lags` at or below the head (a write only appends
/// past it), so a kept answer stays right. Like `NameCache`, it is for one thread: a snapshot
/// is never used from two at once.
final class LaggedCache {
    struct Key: Equatable {
        var start: UInt64
        var head: UInt64
        var from: Instant?
        var to: Instant?
    }

    /// A lagged `seq` a walk passes, with its entry's lag and `at`.
    struct Listed {
        var seq: UInt64
        var lag: UInt64
        var at: Instant
    }

    var kept: (key: Key, seqs: [Listed], inRange: [(at: Instant, seq: UInt64)])?
}
