import SessionLedger
import SledgerReports
import XCTest
@testable import SledgerServer

/// The server's bound on folding queries at once (docs/SERVER.md, "Queries at once").
final class QueryLanesTests: XCTestCase {
    /// What the queries saw: how many ran at once at most, and the order they began in.
    actor Tally {
        var running = 0, most = 0
        var began: [Int] = []
        func begin(_ i: Int) { running += 1; most = max(most, running); began.append(i) }
        func end() { running -= 1 }
    }

    /// A gate a query waits at until the test opens it.
    actor Gate {
        var open = false
        func opened() -> Bool { open }
        func letThrough() { open = true }
    }

    func waitUntil(_ lane: QueryLane, waiting: Int) async throws {
        for _ in 0..<2_000 where await lane.load.waiting < waiting { try await Task.sleep(for: .milliseconds(5)) }
        let load = await lane.load
        XCTAssertEqual(load.waiting, waiting)
    }

    func testNoMoreThanTheLimitRunAtOnceAndEveryOneRuns() async throws {
        let lane = QueryLane(limit: 2)
        let tally = Tally()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<12 {
                group.addTask {
                    try await lane.run {
                        await tally.begin(i)
                        try await Task.sleep(for: .milliseconds(10))
                        await tally.end()
                        return i
                    }
                }
            }
            var done: [Int] = []
            for try await i in group { done.append(i) }
            XCTAssertEqual(done.sorted(), Array(0..<12))
        }
        let most = await tally.most
        XCTAssertEqual(most, 2, "two at once, never three")
        let load = await lane.load
        XCTAssertEqual(load.running, 0)
        XCTAssertEqual(load.waiting, 0)
    }

    /// Those waiting begin in the order they came.
    func testQueriesWaitingBeginInTheOrderTheyCame() async throws {
        let lane = QueryLane(limit: 1)
        let tally = Tally(), gate = Gate()
        let first = Task {
            try await lane.run {
                await tally.begin(0)
                while !(await gate.opened()) { try await Task.sleep(for: .milliseconds(2)) }
            }
        }
        var waiting: [Task<Void, any Error>] = []
        for i in 1...5 {
            try await waitUntil(lane, waiting: i - 1)
            waiting.append(Task { try await lane.run { await tally.begin(i) } })
        }
        try await waitUntil(lane, waiting: 5)
        await gate.letThrough()
        try await first.value
        for task in waiting { try await task.value }
        let began = await tally.began
        XCTAssertEqual(began, [0, 1, 2, 3, 4, 5])
    }

    /// A backlog of thousands (the lane drops those it resumed from its queue as it goes):
    /// each runs once, one at a time.
    func testALongBacklogRunsEveryQueryOnce() async throws {
        let lane = QueryLane(limit: 1)
        let tally = Tally()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<3_000 {
                group.addTask { try await lane.run { await tally.begin(i); await tally.end() } }
            }
            try await group.waitForAll()
        }
        let (began, most) = (await tally.began, await tally.most)
        XCTAssertEqual(began.sorted(), Array(0..<3_000))
        XCTAssertEqual(most, 1)
        let load = await lane.load
        XCTAssertEqual(load.waiting, 0)
    }

    struct Refused: Error {}

    /// A query that fails gives its place back; the next one runs.
    func testAQueryThatThrowsGivesItsPlaceBack() async throws {
        let lane = QueryLane(limit: 1)
        for _ in 0..<3 {
            do {
                _ = try await lane.run { () async throws -> Int in throw Refused() }
                XCTFail("the error is passed on")
            } catch is Refused {}
        }
        let answer = try await lane.run { 42 }
        XCTAssertEqual(answer, 42)
        let load = await lane.load
        XCTAssertEqual(load.running, 0)
    }

    /// Under the policy checkpoints are written under, instants and `who` over a range take the
    /// short lane and `sessions` over a range the long one; under another policy every fold is long.
    func testEachQueryTakesItsLane() throws {
        let lanes = QueryLanes(policy: .default, short: 2, long: 1)
        let t = try XCTUnwrap(Instant(rfc3339: "2026-03-01T00:00:00Z"))
        let range = TimeSelection.range(t, Instant(nanoseconds: t.nanoseconds + 86_400_000_000_000))
        XCTAssertTrue(lanes.lane(.at(t), counts: true) === lanes.short)
        XCTAssertTrue(lanes.lane(.at(t), counts: false) === lanes.short)
        XCTAssertTrue(lanes.lane(range, counts: true) === lanes.short)
        XCTAssertTrue(lanes.lane(range, counts: false) === lanes.long)
        var other = Policy.default
        other.maxSkew = .seconds(7)
        let otherLanes = QueryLanes(policy: other, long: 1)
        for when in [TimeSelection.at(t), range] {
            for counts in [true, false] { XCTAssertTrue(otherLanes.lane(when, counts: counts) === otherLanes.long) }
        }
    }
}
