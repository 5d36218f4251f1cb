import Foundation
import SessionLedger
import SledgerReports

/// At most `limit` queries of one kind at a time; the rest wait their turn, first come first
/// served.
///
/// Queries run on Dispatch's worker threads, about one per core: without lanes, two long folds
/// took both, and every other query waited behind them in arrival order (a `sessions --at` of
/// 0.6 s waited 15-18 s at 100M events), while the answers waiting to be sent piled up beside
/// them (559 MiB with four years of sessions asked at once). With one long fold at a time, a
/// core stays free for the rest (docs/SERVER.md, "Queries at once").
actor QueryLane {
    let limit: Int
    private var running = 0
    /// Those waiting, oldest first (`next` is the oldest's place).
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var next = 0

    init(limit: Int) {
        precondition(limit > 0, "a lane needs room for one query")
        self.limit = limit
    }

    /// Runs `body` once fewer than `limit` others of this lane are running, and makes room
    /// for the next when it returns or throws.
    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await enter()
        do {
            let value = try await body()
            leave()
            return value
        } catch {
            leave()
            throw error
        }
    }

    /// How many run and how many wait (for tests).
    var load: (running: Int, waiting: Int) { (running, waiting.count - next) }

    private func enter() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the leaving query's place straight to the oldest waiting, so a newcomer cannot
    /// take it first.
    private func leave() {
        guard next < waiting.count else {
            running -= 1
            return
        }
        let oldest = waiting[next]
        next += 1
        if next == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            next = 0
        } else if next >= 1_024, next * 2 >= waiting.count {
            // A lasting backlog: drop the resumed ones, so the array holds about those waiting.
            waiting.removeFirst(next)
            next = 0
        }
        oldest.resume()
    }
}

extension LedgerAccess {
    /// Runs `body` (a query) on a worker thread once `lane` has room; at once without a lane.
    func query<T: Sendable>(in lane: QueryLane?, _ body: @escaping @Sendable (Ledger) throws -> T) async throws -> T {
        guard let lane else { return try await query(body) }
        return try await lane.run { try await self.query(body) }
    }
}

/// Which queries wait for which lane (docs/SERVER.md, "Queries at once").
///
/// - `short`: `who` and `sessions` at an instant, and `who` over a range, under the policy
///   checkpoints are written under: each counts or folds from a checkpoint or its stretches
///   (milliseconds to a second, tens of MiB at 100M events). As many at once as there are cores.
/// - `long`: what folds a range of the log or all of it: `sessions` over a range, `replay` of
///   the whole log, and the `who`/`sessions` of a server run under another policy, which no
///   checkpoint serves. `serve --long-queries N` at once, 1 by default: at 100M events a server
///   answering a year of sessions peaked at 292-338 MiB, a whole replay at 394-435 MiB. With
///   one, short queries never wait for a long one to finish (they share a core with it).
///
/// The short lane assumes checkpoints: on a ledger that has none (or none usable), `who` and
/// `sessions` at an instant fold from the first event in it.
///
/// Queries that read through the indexes (`user`, `session`, `sessions` or `replay` of one
/// user or session, the timeline page without an instant), `stats` and the log are not held
/// back; the timeline page with an instant takes the lane of `sessions` at that instant.
struct QueryLanes: Sendable {
    let short: QueryLane
    let long: QueryLane
    /// Whether the server's policy is the one checkpoints are written under.
    let checkpointed: Bool

    init(policy: Policy, short: Int = ProcessInfo.processInfo.activeProcessorCount, long: Int) {
        self.short = QueryLane(limit: max(1, short))
        self.long = QueryLane(limit: max(1, long))
        // Checkpoints are written under the default policy, and read under one of the same digest.
        checkpointed = Checkpoint.digest(of: policy) == Checkpoint.digest(of: .default)
    }

    /// The lane of `who` (`counts` true) or `sessions` for all users.
    func lane(_ when: TimeSelection, counts: Bool) -> QueryLane {
        guard checkpointed else { return long }
        if case .range = when, !counts { return long }
        return short
    }
}
