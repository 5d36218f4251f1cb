import XCTest
@testable import SessionLedger

/// Issue 4: a user's slice, read through by_user and by_session, folds to exactly the state the
/// whole log gives that user's sessions.
final class UserLogTests: XCTestCase {
    func testAUsersSliceGivesTheSameSessionsAsTheWholeLog() throws {
        for seed in UInt64(1)...12 {
            var generator = TestLogGenerator(seed: seed)
            let policy = generator.policy()
            let events = generator.events()
            let ledger = try Ledger(path: try temporaryDirectory(self) + "/l\(seed)", access: .readWrite)
            _ = try ledger.append(events: events)
            let users = Set(events.map(\.user)).sorted()
            let instants = events.map(\.at).sorted()
            let horizons: [LedgerFold.Horizon] = [.all, .through(instants[instants.count / 2]), .before(instants[instants.count / 3])]
            try ledger.read { snapshot in
                for horizon in horizons {
                    let whole = try LedgerFold(policy: policy, horizon: horizon).run(snapshot).derivation
                    for user in users {
                        let slice = try LedgerFold(policy: policy, horizon: horizon).run(UserLog(snapshot: snapshot, user: user)).derivation
                        XCTAssertEqual(slice.sessions(ofUser: user), whole.sessions(ofUser: user), "seed \(seed), user \(user), \(horizon)")
                    }
                }
            }
        }
    }

    func testAUserTheLedgerHasNeverSeenHasNoSessions() throws {
        let ledger = try Ledger(path: try temporaryDirectory(self) + "/l", access: .readWrite)
        _ = try ledger.append([InputSource(bytes: generatedLines(count: 50))])
        let fold = try ledger.read { try LedgerFold(policy: .default).run(UserLog(snapshot: $0, user: "nobody")) }
        XCTAssertEqual(fold.events, 0)
        XCTAssertTrue(fold.derivation.sessions(ofUser: "nobody").isEmpty)
    }
}
