import XCTest
@testable import SessionLedger

/// Folds read the log in `seq` order and merge in the lagged events the `lags` index lists:
/// the result must be exactly the (`at`, `seq`) order, for any range.
final class TimeOrderTests: XCTestCase {
    func testTheMergedLogIsTheTimeOrderForEveryRange() throws {
        for seed in UInt64(1)...8 {
            var generator = TestLogGenerator(seed: seed)
            generator.count = 250
            let events = generator.events()
            let ledger = try Ledger(path: try temporaryDirectory(self) + "/l\(seed)", access: .readWrite)
            _ = try ledger.append(events: Array(events.prefix(100)))
            _ = try ledger.append(events: Array(events.dropFirst(100)))
            // The independent path: sort (at, seq) in memory.
            let expected = events.enumerated().map { (at: $0.element.at, seq: UInt64($0.offset + 1)) }
                .sorted { ($0.at, $0.seq) < ($1.at, $1.seq) }
            let instants = events.map(\.at).sorted()
            let bounds: [Instant?] = [nil, instants[0], instants[40], instants[41], instants[125], instants[249],
                                      Instant(nanoseconds: instants[249].nanoseconds + 1)]
            try ledger.read { snapshot in
                for lookahead in [0, 2, 4, 16] {
                    for from in bounds {
                        for to in bounds {
                            var seen: [(at: Instant, seq: UInt64)] = []
                            try snapshot.forEachRecordHeaderInTimeOrder(from: from, to: to, lookahead: lookahead) { seq, header, _ in
                                seen.append((header.at, seq))
                                return true
                            }
                            let want = expected.filter { e in from.map { e.at >= $0 } ?? true && to.map { e.at < $0 } ?? true }
                            XCTAssertEqual(seen.map(\.seq), want.map(\.seq),
                                           "seed \(seed), lookahead \(lookahead), from \(String(describing: from)) to \(String(describing: to))")
                        }
                    }
                    // A walk the body stops hands over nothing after the record it stopped on,
                    // lagged or not: the records up to it, in order, and no more.
                    for stop in [1, 2, 37, 100, 180, 249, 250] {
                        var seen: [UInt64] = []
                        try snapshot.forEachRecordHeaderInTimeOrder(lookahead: lookahead) { seq, _, _ in
                            seen.append(seq)
                            return seen.count < stop
                        }
                        XCTAssertEqual(seen, expected.prefix(stop).map(\.seq), "seed \(seed), lookahead \(lookahead), stopped at \(stop)")
                    }
                }
            }
        }
    }

    /// A backfill (a long run of events older than those before them, as an import of an
    /// earlier month appended to a log leaves) does not hide where "from T" begins: for every
    /// T around every stored instant, the first event at or after T is the first in `seq` order
    /// with `at >= T` (the independent path: a scan of the events as appended).
    func testTheFirstEventAtOrAfterTIsFoundAcrossABackfill() throws {
        var generator = TestLogGenerator(seed: 11)
        generator.count = 200
        let sorted = generator.events().sorted { $0.at < $1.at }
        // In `seq` order: the earliest 50, the latest 80 but 30, the 70 between them (all
        // lagged, and some by the same instant as their neighbours), then the last 30.
        let appended = Array(sorted[0..<50] + sorted[120..<170] + sorted[50..<120] + sorted[170..<200])
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append(events: Array(appended.prefix(100)))
        _ = try ledger.append(events: Array(appended.dropFirst(100)))
        let instants = Set(appended.map(\.at.nanoseconds)).flatMap { [$0 - 1, $0, $0 + 1] }.sorted()
        try ledger.read { snapshot in
            XCTAssertEqual(try snapshot.eventCount(), 200)
            XCTAssertGreaterThanOrEqual(try snapshot.txn.count(snapshot.db.lags), 60, "the backfill is lagged")
            for t in instants.map(Instant.init(nanoseconds:)) {
                let want = appended.firstIndex { $0.at >= t }.map { UInt64($0 + 1) }
                XCTAssertEqual(try snapshot.firstSeq(atOrAfter: t, head: 200), want, "\(t)")
            }
            XCTAssertEqual(try snapshot.latestInstant(), sorted[199].at)
        }

        // Damage: the backfill's lags set to 0 (its `at` right, and the checksum made again,
        // so that what is tested is the search's own check, not the entry's). Where the search
        // leans on them it could land on the event after the backfill, past events at or after
        // T; it must then say the ledger is damaged, never answer wrong.
        try ledger.env.write { txn in
            for seq in UInt64(101)...170 {
                guard let value = try txn.get(ledger.db.lags, Key.seq(seq)) else { continue }
                var entry = try LagEntry.read(value, seq: seq)
                entry.lag = 0
                try txn.put(ledger.db.lags, Key.seq(seq), entry.value(seq: seq))
            }
        }
        var refused = 0
        try ledger.read { snapshot in
            for t in instants.map(Instant.init(nanoseconds:)) {
                let want = appended.firstIndex { $0.at >= t }.map { UInt64($0 + 1) }
                do {
                    let found = try snapshot.firstSeq(atOrAfter: t, head: 200)
                    XCTAssertEqual(found, want, "\(t)")
                } catch LedgerError.damaged {
                    refused += 1
                }
            }
        }
        XCTAssertGreaterThan(refused, 0, "some search leaned on a damaged lag")
    }

    /// With a lookahead of N, `ahead` sees every record the log walk reads (the ones not
    /// lagged, in `seq` order) `.far` first, then `.near` (all but the last N/2, which the walk
    /// hands over without reading further), both before `body` sees it.
    func testAheadSeesEachRecordFarThenNearBeforeTheBody() throws {
        let seeded = try SeededLedger(self, seed: 5, count: 250)
        let (events, ledger) = (seeded.events, seeded.ledger)
        // Lagged: earlier than an event before it in `seq` order (those are fetched, not read ahead).
        var latest = Instant(nanoseconds: .min)
        var lagged: Set<UInt64> = []
        for (i, e) in events.enumerated() {
            if e.at < latest { lagged.insert(UInt64(i + 1)) } else { latest = e.at }
        }
        XCTAssertFalse(lagged.isEmpty, "the generated log has lagged events")
        try ledger.read { snapshot in
            for lookahead in [2, 4, 16] {
                var calls: [(what: String, header: Record.Header)] = []
                try snapshot.forEachRecordHeaderInTimeOrder(lookahead: lookahead, ahead: { header, step in
                    calls.append((step == .far ? "far" : "near", header))
                }) { seq, header, _ in
                    if !lagged.contains(seq) { calls.append(("body", header)) }
                    return true
                }
                let positions = { (what: String) in calls.indices.filter { calls[$0].what == what } }
                let (far, near, body) = (positions("far"), positions("near"), positions("body"))
                XCTAssertEqual(body.count, events.count - lagged.count, "lookahead \(lookahead)")
                XCTAssertEqual(far.map { calls[$0].header }, body.map { calls[$0].header }, "lookahead \(lookahead)")
                XCTAssertEqual(near.map { calls[$0].header }, body.dropLast(lookahead / 2).map { calls[$0].header }, "lookahead \(lookahead)")
                for j in near.indices {
                    XCTAssertTrue(far[j] < near[j] && near[j] < body[j], "lookahead \(lookahead), record \(j)")
                }
                // The body sees the j-th record only after the walk read N more (or the log ended).
                for j in body.indices where j + lookahead < far.count {
                    XCTAssertLessThan(far[j + lookahead], body[j], "lookahead \(lookahead), record \(j)")
                }
            }
        }
    }

    func testALagsEntryRemovedIsDamageNotAWrongOrder() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        let base = Instant(rfc3339: "2026-03-01T09:00:00Z")!
        let late = [0, 60, 30, 90].map { Event(kind: .login, at: base.saturatingAdding(.seconds(Int64($0))), user: "u", session: "s\($0)",
                                              client: "web", method: "google") }
        _ = try ledger.append(events: late)
        try ledger.read { snapshot in
            var order: [UInt64] = []
            try snapshot.forEachRecordHeaderInTimeOrder { seq, _, _ in order.append(seq); return true }
            XCTAssertEqual(order, [1, 3, 2, 4])
        }
        // The entry removed, and the writer's count of lagged events made to agree, so that the
        // walk's own check is what finds it.
        try ledger.env.write { txn in
            XCTAssertTrue(try txn.delete(ledger.db.lags, Key.seq(3)))
            try txn.put(ledger.db.meta, Key.lagged, LaggedCount.value(head: 4, count: 0))
        }
        // Read ahead or not, the records before the damaged one are handed over, then it throws.
        for lookahead in [0, 2, 16] {
            var order: [UInt64] = []
            XCTAssertThrowsError(try ledger.read { snapshot in
                try snapshot.forEachRecordHeaderInTimeOrder(lookahead: lookahead) { seq, _, _ in order.append(seq); return true }
            }) { error in
                XCTAssertTrue("\(error)".contains("seq 3 lies before an earlier event"), "lookahead \(lookahead): \(error)")
            }
            XCTAssertEqual(order, [1, 2], "lookahead \(lookahead)")
            // A body that stops before the damaged record is read, or while records read
            // ahead of it wait, never meets the damage: no error.
            for stop in [1, 2] {
                var seen = 0
                XCTAssertNoThrow(try ledger.read { snapshot in
                    try snapshot.forEachRecordHeaderInTimeOrder(lookahead: lookahead) { _, _, _ in seen += 1; return seen < stop }
                }, "lookahead \(lookahead), stopped at \(stop)")
                XCTAssertEqual(seen, stop, "lookahead \(lookahead)")
            }
        }
        XCTAssertFalse(try ledger.check().isIntact)
    }

    /// The record a walk stops at (its `at` is `to`) is checked whole before the walk trusts
    /// its `at`; one whose checksum fails throws, read ahead or not, after the same records.
    func testADamagedRecordAtTheEndOfARangeThrowsAfterTheRecordsBeforeIt() throws {
        let seeded = try SeededLedger(self, seed: 3, count: 60)
        let (events, ledger) = (seeded.events, seeded.ledger)
        // The last event later than every one before it: not lagged, and the range ends at it.
        let k = try XCTUnwrap((1..<events.count).reversed().first { i in events[..<i].allSatisfy { $0.at < events[i].at } })
        let seq = UInt64(k + 1), to = events[k].at
        let want = events.enumerated().filter { $0.element.at < to }.map { (at: $0.element.at, seq: UInt64($0.offset + 1)) }
            .sorted { ($0.at, $0.seq) < ($1.at, $1.seq) }.map(\.seq)
        try ledger.env.write { txn in
            var bytes = Array(try XCTUnwrap(try txn.get(ledger.db.log, Key.seq(seq))))
            bytes[bytes.count - 1] ^= 0x01
            try txn.put(ledger.db.log, Key.seq(seq), bytes)
        }
        for lookahead in [0, 2, 16] {
            var seen: [UInt64] = []
            XCTAssertThrowsError(try ledger.read { snapshot in
                try snapshot.forEachRecordHeaderInTimeOrder(to: to, lookahead: lookahead) { s, _, _ in seen.append(s); return true }
            }) { error in
                guard case LedgerError.damaged(let at, _) = error else { return XCTFail("lookahead \(lookahead): \(error)") }
                XCTAssertEqual(at, seq, "lookahead \(lookahead)")
            }
            XCTAssertEqual(seen, want, "lookahead \(lookahead)")
        }
    }

    /// Two records swapped, the later event moved before a range's end: the walk would stop at
    /// it, before events it must hand over. The record after the one it stops at, earlier and
    /// not lagged, shows the damage.
    func testALaterEventSwappedBeforeTheEndOfARangeIsDamageNotAShortRange() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        let base = Instant(rfc3339: "2026-03-01T09:00:00Z")!
        let events = (0..<6).map { Event(kind: .login, at: base.saturatingAdding(.seconds(Int64(60 * $0))), user: "u", session: "s\($0)",
                                         client: "web", method: "google") }
        _ = try ledger.append(events: events)
        let to = events[4].at
        try ledger.read { snapshot in
            var seen: [UInt64] = []
            try snapshot.forEachRecordHeaderInTimeOrder(to: to) { seq, _, _ in seen.append(seq); return true }
            XCTAssertEqual(seen, [1, 2, 3, 4])
        }
        try ledger.env.write { txn in  // seq 2 and seq 6 swapped
            let (two, six) = (Array(try XCTUnwrap(try txn.get(ledger.db.log, Key.seq(2)))), Array(try XCTUnwrap(try txn.get(ledger.db.log, Key.seq(6)))))
            try txn.put(ledger.db.log, Key.seq(2), six)
            try txn.put(ledger.db.log, Key.seq(6), two)
        }
        for lookahead in [0, 2, 16] {
            var seen: [UInt64] = []
            XCTAssertThrowsError(try ledger.read { snapshot in
                try snapshot.forEachRecordHeaderInTimeOrder(to: to, lookahead: lookahead) { seq, _, _ in seen.append(seq); return true }
            }) { error in
                XCTAssertTrue("\(error)".contains("seq 3 lies before an earlier event"), "lookahead \(lookahead): \(error)")
            }
            XCTAssertEqual(seen, [1], "lookahead \(lookahead)")
        }
        XCTAssertFalse(try ledger.check().isIntact)
    }

    /// The same swap where the record after the stop shares its instant, or is lagged: the
    /// check reads on past records at the stop's instant, and a lagged one must lag the stop.
    func testASwapBeforeTheEndOfARangeIsFoundPastEqualInstantsAndLaggedRecords() throws {
        let base = Instant(rfc3339: "2026-03-01T09:00:00Z")!
        for (seconds, toSeconds) in [([0, 10, 50, 50, 100], 30), ([0, 10, 5, 100], 60)] {
            let ledger = try Ledger(path: try temporaryDirectory(self) + "/l\(seconds.count)", access: .readWrite)
            _ = try ledger.append(events: seconds.enumerated().map { i, s in
                Event(kind: .login, at: base.saturatingAdding(.seconds(Int64(s))), user: "u", session: "s\(i)", client: "web", method: "google")
            })
            let last = UInt64(seconds.count) - (seconds.count == 5 ? 1 : 0)  // the 50 s after the first, or the 100 s
            try ledger.env.write { txn in  // seq 2 (10 s) and `last` swapped
                let (two, other) = (Array(try XCTUnwrap(try txn.get(ledger.db.log, Key.seq(2)))), Array(try XCTUnwrap(try txn.get(ledger.db.log, Key.seq(last)))))
                try txn.put(ledger.db.log, Key.seq(2), other)
                try txn.put(ledger.db.log, Key.seq(last), two)
            }
            var seen: [UInt64] = []
            XCTAssertThrowsError(try ledger.read { snapshot in
                try snapshot.forEachRecordHeaderInTimeOrder(to: base.saturatingAdding(.seconds(Int64(toSeconds)))) { seq, _, _ in seen.append(seq); return true }
            }, "\(seconds)") { error in
                guard case LedgerError.damaged(let seq, _) = error else { return XCTFail("\(seconds): \(error)") }
                XCTAssertEqual(seq, seconds.count == 5 ? 4 : 3, "\(seconds)")
            }
            XCTAssertEqual(seen, [1], "\(seconds)")
        }
    }

    /// A walk checks each `lags` entry of the lagged events it passes in the log: its `at` must
    /// be the record's and its lag the distance below the largest `at` before it. Else the event
    /// would be handed over at the wrong place, or left out as if outside the range, silently.
    func testALagsEntryAWalkPassesMustHoldTheRecordsInstantAndLag() throws {
        let base = Instant(rfc3339: "2026-03-01T09:00:00Z")!
        let events = [0, 60, 30, 90].map { Event(kind: .login, at: base.saturatingAdding(.seconds(Int64($0))), user: "u", session: "s\($0)",
                                                 client: "web", method: "google") }
        // A walk up to 75 s passes seq 3 (at 30 s) in the log. Its entry's lag changed, or its
        // `at` moved 275 s later (bit 38), out of the range: the event would be handed at its
        // place or left out, unless the walk compares the entry with what it passes.
        let to = base.saturatingAdding(.seconds(75))
        // The checksum made again after the flip, so that the walk's own compare is what finds it.
        for (name, byte) in [("lag", 0), ("at", 8 + 4)] {
            let ledger = try Ledger(path: try temporaryDirectory(self) + "/\(name)", access: .readWrite)
            _ = try ledger.append(events: events)
            try ledger.env.write { txn in  // seq 3 lags seq 2 by 30 s
                var value = Array(try XCTUnwrap(try txn.get(ledger.db.lags, Key.seq(3))))
                XCTAssertEqual(value.withUnsafeBytes { readLE($0, 0, 8) }, 30_000_000_000)
                value[byte] ^= 0x40
                let flipped = LagEntry(lag: value.withUnsafeBytes { readLE($0, 0, 8) },
                                       at: Instant(nanoseconds: Int64(bitPattern: value.withUnsafeBytes { readLE($0, 8, 8) })))
                try txn.put(ledger.db.lags, Key.seq(3), flipped.value(seq: 3))
            }
            XCTAssertThrowsError(try ledger.read { snapshot in
                try snapshot.forEachRecordHeaderInTimeOrder(to: to) { _, _, _ in true }
            }) { error in
                guard case LedgerError.damaged(let seq, _) = error else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(seq, 3, name)
            }
            XCTAssertFalse(try ledger.check().isIntact, name)
        }
    }

    /// A walk that ends before the `seq` of a lagged event in its range finds that event
    /// through `lags` alone; with its entry gone the event would be left out without a word.
    /// The writer's count of lagged events (`meta/lagged`) no longer matching the index says so.
    /// A count gone is damage too, and the next call counts on from the index as it finds it.
    func testALagsEntryRemovedPastABoundedWalkIsDamageByTheWritersCount() throws {
        let base = Instant(rfc3339: "2026-03-01T09:00:00Z")!
        func login(_ seconds: Int) -> Event {
            Event(kind: .login, at: base.saturatingAdding(.seconds(Int64(seconds))), user: "u", session: "s\(seconds)", client: "web", method: "google")
        }
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append(events: [login(0), login(60)])
        _ = try ledger.append(events: [login(30), login(90), login(20)])  // seqs 3 and 5 lagged
        let to = base.saturatingAdding(.seconds(45))
        func walk() throws -> [UInt64] {
            try ledger.read { snapshot in
                var seen: [UInt64] = []
                try snapshot.forEachRecordHeaderInTimeOrder(to: to) { seq, _, _ in seen.append(seq); return true }
                return seen
            }
        }
        func counted() throws -> UInt64 { try ledger.read { try $0.laggedCount() } }
        XCTAssertEqual(try walk(), [1, 5, 3])
        XCTAssertEqual(try counted(), 2)
        try ledger.env.write { XCTAssertTrue(try $0.delete(ledger.db.lags, Key.seq(5))) }
        XCTAssertThrowsError(try walk()) { error in
            XCTAssertTrue("\(error)".contains("the writer counted 2 lagged events, the lags index holds 1"), "\(error)")
        }
        XCTAssertFalse(try ledger.check().isIntact)
        // Without the count: refused too, rather than read short.
        try ledger.env.write { XCTAssertTrue(try $0.delete(ledger.db.meta, Key.lagged)) }
        XCTAssertThrowsError(try walk()) { error in
            XCTAssertTrue("\(error)".contains("meta/lagged is missing"), "\(error)")
        }
        // The next call counts on from the index as it is (1) plus its own lagged event.
        _ = try ledger.append(events: [login(10)])
        XCTAssertEqual(try counted(), 2)
        XCTAssertFalse(try ledger.check().isIntact, "check still names the entry gone")
    }

    /// A user's slice up to an instant takes the events past its bound that `lags` lists, so
    /// it checks the writer's count first too.
    func testAUsersSliceToAnInstantChecksTheWritersCount() throws {
        let base = Instant(rfc3339: "2026-03-01T09:00:00Z")!
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append(events: [0, 60, 30].map {
            Event(kind: .login, at: base.saturatingAdding(.seconds(Int64($0))), user: "u", session: "s\($0)", client: "web", method: "google")
        })
        let horizon = LedgerFold.Horizon.through(base.saturatingAdding(.seconds(45)))
        XCTAssertEqual(try ledger.read { try UserLog(snapshot: $0, user: "u", horizon: horizon).totalEvents() }, 2)
        try ledger.env.write { XCTAssertTrue(try $0.delete(ledger.db.lags, Key.seq(3))) }
        XCTAssertThrowsError(try ledger.read { try UserLog(snapshot: $0, user: "u", horizon: horizon).totalEvents() }) { error in
            XCTAssertTrue("\(error)".contains("the writer counted 1 lagged events, the lags index holds 0"), "\(error)")
        }
    }

    /// Every call that stores events keeps the count as of the head it leaves, so one as of
    /// another head, or one as of the head that is wrong, is damage `check` names, the log and
    /// `lags` intact.
    func testTheWritersCountMustBeAsOfTheHeadAndRight() throws {
        let base = Instant(rfc3339: "2026-03-01T09:00:00Z")!
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append(events: [0, 60, 30].map {
            Event(kind: .login, at: base.saturatingAdding(.seconds(Int64($0))), user: "u", session: "s\($0)", client: "web", method: "google")
        })
        func setCount(head: UInt64, _ count: UInt64) throws {
            try ledger.env.write { try $0.put(ledger.db.meta, Key.lagged, LaggedCount.value(head: head, count: count)) }
        }
        XCTAssertEqual(try ledger.read { try $0.laggedCount() }, 1)
        XCTAssertTrue(try ledger.check().isIntact)
        try setCount(head: 2, 1)
        XCTAssertThrowsError(try ledger.read { try $0.laggedCount() })
        XCTAssertThrowsError(try ledger.read { try $0.forEachRecordHeaderInTimeOrder { _, _, _ in true } })
        XCTAssertEqual(try ledger.check().problems.map(\.what), ["meta/lagged is as of seq 2, the head is 3"])
        try setCount(head: 3, 7)
        XCTAssertThrowsError(try ledger.read { try $0.forEachRecordHeaderInTimeOrder { _, _, _ in true } })
        XCTAssertEqual(try ledger.check().problems.map(\.what), ["meta/lagged counts 7 lagged events, the log holds 1"])
    }

    /// The count stays as of the head through every kind of call: one that stores only
    /// duplicates (it writes nothing), a group commit (`sledger serve`'s), and a call that finds
    /// the count damaged (as of another head, or of another length), which counts from the
    /// index instead of refusing every append.
    func testTheWritersCountFollowsTheHeadThroughEveryKindOfCall() throws {
        let base = Instant(rfc3339: "2026-03-01T09:00:00Z")!
        func login(_ seconds: Int) -> Event {
            Event(kind: .login, at: base.saturatingAdding(.seconds(Int64(seconds))), user: "u", session: "s\(seconds)", client: "web",
                  method: "google", id: "e\(seconds)")
        }
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        func counted() throws -> UInt64 { try ledger.read { try $0.laggedCount() } }
        func walk(to seconds: Int) throws -> [UInt64] {
            try ledger.read { snapshot in
                var seen: [UInt64] = []
                try snapshot.forEachRecordHeaderInTimeOrder(to: base.saturatingAdding(.seconds(Int64(seconds)))) { seq, _, _ in
                    seen.append(seq)
                    return true
                }
                return seen
            }
        }
        _ = try ledger.append(events: [login(0), login(60), login(30)])  // seq 3 lagged
        XCTAssertEqual(try counted(), 1)
        XCTAssertEqual(try ledger.append(events: [login(60), login(30)]).imported, 0)  // duplicates only
        XCTAssertEqual(try counted(), 1)
        let line = #"{"type":"login","at":"2026-03-01T09:00:20Z","user":"u","session":"g","client":"web","method":"google"}"#
        _ = try ledger.appendGroup([try EventBatch.parse(ndjson: Array((line + "\n").utf8))])  // seq 4, lagged
        XCTAssertEqual(try counted(), 2)
        XCTAssertEqual(try walk(to: 45), [1, 4, 3])
        // Each call adds one lagged event to the two before: 3, then 4, worked out by hand.
        for (damaged, expected) in [(LaggedCount.value(head: 3, count: 9), UInt64(3)), ([UInt8](repeating: 1, count: 15), 4)] {
            try ledger.env.write { try $0.put(ledger.db.meta, Key.lagged, damaged) }
            XCTAssertThrowsError(try counted())
            XCTAssertFalse(try ledger.check().isIntact)
            let head = try ledger.read { try $0.eventCount() }
            _ = try ledger.append(events: [login(Int(head) + 100), login(10 + Int(head))])  // the second lagged
            XCTAssertEqual(try counted(), expected)
            XCTAssertTrue(try ledger.check().isIntact)
        }
        XCTAssertEqual(try counted(), 4)
        XCTAssertEqual(try walk(to: 45), [1, 6, 8, 4, 3])
    }
}
