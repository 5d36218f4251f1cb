import SessionLedger
import XCTest

/// A small deterministic PRNG (SplitMix64), so that every generated log can be rebuilt
/// from its seed.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<n` (0 when `n` is 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

    /// True with probability `percent` / 100.
    mutating func percent(_ percent: Int) -> Bool { below(100) < percent }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(i, below(i + 1)) }
    }
}

/// Generates logs in `seq` order that exercise every rule: several users, web, ios, token
/// and unlisted clients, steps in time around the policy's boundaries, lines written out of
/// time order, and (optionally) events naming other users' sessions.
struct TestLogGenerator {
    var random: SplitMix64
    /// How many events.
    var count = 160
    /// Whether events may name a session of another user.
    var crossUser = true
    /// Whether a line may be written with an `at` earlier than the line before it.
    var outOfOrder = true
    /// Whether every `at` must differ from every other.
    var distinctInstants = false

    static let base = Instant(rfc3339: "2026-03-01T09:00:00Z")!
    static let users = ["alice", "bob", "carol"]

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    /// A policy with short lifetimes, so that sessions expire within a generated log.
    mutating func policy() -> Policy {
        let hour = Duration.seconds(3_600)
        let lifetime = random.pick([Duration.seconds(2 * 3_600), .seconds(86_400), .seconds(28 * 86_400)])
        let interval = random.pick([nil, Duration.seconds(600), hour])
        let session = Policy.Client(lifetime: lifetime, refreshInterval: interval)
        return Policy(
            name: "generated",
            clients: ["web": session, "ios": session,
                      "code": .init(lifetime: random.pick([nil, Duration.seconds(3 * 3_600)]), refreshInterval: nil, token: true)],
            defaultClient: .init(lifetime: random.pick([lifetime, .seconds(1_800)]), refreshInterval: hour),
            loginMethods: ["google", "email_link"],
            logoutAllFrom: ["web"],
            logoutAllRevokesTokens: random.percent(50),
            maxSkew: .seconds(300))
    }

    /// A step forward in time, often right at a boundary of the policies above.
    mutating func step() -> Int64 {
        let ns: Int64 = 1_000_000_000
        let steps: [Int64] = [0, 1, ns, 60 * ns, 600 * ns - 1, 600 * ns, 1_800 * ns, 3_600 * ns - 1, 3_600 * ns,
                              2 * 3_600 * ns, 5 * 3_600 * ns, 86_400 * ns, 3 * 86_400 * ns, 28 * 86_400 * ns]
        return random.pick(steps)
    }

    /// The events of one log, in `seq` order.
    mutating func events() -> [Event] {
        var now = TestLogGenerator.base.nanoseconds
        var used = Set<Int64>()
        var sessionsOf: [String: Int] = [:]
        var out: [Event] = []
        while out.count < count {
            now += max(step() / (random.percent(70) ? 8 : 1), distinctInstants ? 1 : 0)
            var at = now
            if outOfOrder, random.percent(10) {
                at -= random.pick([Int64(60_000_000_000), 300_000_000_000, 300_000_000_001, 3_600_000_000_000])
            }
            if distinctInstants {
                while used.contains(at) { at += 1 }
                used.insert(at)
                now = max(now, at)
            }
            let user = random.pick(TestLogGenerator.users)
            let known = sessionsOf[user, default: 0]
            func session() -> String {
                if crossUser, random.percent(6) {
                    let other = random.pick(TestLogGenerator.users)
                    return "\(other)-s\(random.below(max(sessionsOf[other, default: 0], 1)))"
                }
                // Mostly sessions that exist; sometimes the next one (not logged in yet).
                return "\(user)-s\(random.below(known + 1))"
            }
            let instant = Instant(nanoseconds: at)
            switch random.below(100) {
            case 0..<28:
                var id = "\(user)-s\(known)"
                if random.percent(8) { id = session() } else { sessionsOf[user] = known + 1 }
                out.append(Event(kind: .login, at: instant, user: user, session: id,
                                 client: random.pick(["web", "web", "ios", "code", "smart-tv"]),
                                 method: random.pick(["google", "google", "email_link", "password"])))
            case 28..<65:
                out.append(Event(kind: .refresh, at: instant, user: user, session: session()))
            case 65..<78:
                out.append(Event(kind: .logout, at: instant, user: user, session: session()))
            case 78..<88:
                out.append(Event(kind: .logoutAll, at: instant, user: user, session: random.percent(30) ? nil : session()))
            default:
                out.append(Event(kind: .tokenDeleted, at: instant, user: user, session: session()))
            }
        }
        return out
    }

    /// The events as stored: `seq` 1, 2, 3 ... and `recorded` near `at` (sometimes more
    /// than `max_skew` before it).
    mutating func stored(_ events: [Event]) -> [StoredEvent] {
        events.enumerated().map { i, e in
            let lag = random.pick([Int64(0), 1_000_000_000, -300_000_000_000, -300_000_000_001, -3_600_000_000_000])
            return StoredEvent(seq: UInt64(i + 1), recorded: Instant(nanoseconds: e.at.nanoseconds + lag), event: e)
        }
    }
}

/// A generated log of one seed stored in a fresh ledger by one `append`, with the policy
/// generated for it: what the tests comparing a narrower or faster fold with the whole one start from.
struct SeededLedger {
    let ledger: Ledger
    let policy: Policy
    let events: [Event]

    init(_ test: XCTestCase, seed: UInt64, count: Int = TestLogGenerator(seed: 0).count) throws {
        var generator = TestLogGenerator(seed: seed)
        generator.count = count
        policy = generator.policy()
        events = generator.events()
        ledger = try Ledger(path: try temporaryDirectory(test) + "/l\(seed)", access: .readWrite)
        _ = try ledger.append(events: events)
    }
}
