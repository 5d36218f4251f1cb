import Foundation
import SessionLedger

/// A minimal NDJSON reader for the tests only: it trusts its input (the fixtures are valid
/// per SPEC.md section 2) and traps on anything else. The ledger's strict reader lives in
/// the library.
enum TestNDJSON {
    /// The events of an NDJSON text, blank lines skipped, in line order.
    static func events(_ text: String) -> [Event] {
        text.split(separator: "\n", omittingEmptySubsequences: true)
            .filter { !$0.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" } }
            .map { event(from: object(String($0))) }
    }

    static func object(_ text: String) -> [String: Any] {
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8)), let object = value as? [String: Any] else {
            fatalError("not a JSON object: \(text)")
        }
        return object
    }

    static func instant(_ text: String) -> Instant {
        guard let instant = Instant(rfc3339: text) else { fatalError("not an instant: \(text)") }
        return instant
    }

    static func event(from o: [String: Any]) -> Event {
        guard let type = o["type"] as? String, let kind = Event.Kind(name: type),
              let at = o["at"] as? String, let user = o["user"] as? String
        else { fatalError("not an event: \(o)") }
        let meta = (o["meta"] as? [String: String] ?? [:]).map { Event.MetaPair(key: $0.key, value: $0.value) }
        return Event(kind: kind, at: instant(at), user: user, session: o["session"] as? String,
                     client: o["client"] as? String, method: o["method"] as? String, id: o["id"] as? String,
                     ip: o["ip"] as? String, agent: o["agent"] as? String, meta: meta, hasMeta: o["meta"] != nil)
    }
}
