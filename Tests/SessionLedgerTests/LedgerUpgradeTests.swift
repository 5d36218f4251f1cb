import LMDB
import XCTest
@testable import SessionLedger

/// `sledger upgrade`: a format 7 ledger becomes format 8 in place, its records (and so its
/// digests) untouched, and a format 7 `lags` index that the log does not bear out refuses it.
final class LedgerUpgradeTests: XCTestCase {
    /// 200 events, 70 of them a backfill stored after later ones (lagged), in two calls.
    private func events() -> [Event] {
        var generator = TestLogGenerator(seed: 11)
        generator.count = 200
        let sorted = generator.events().sorted { $0.at < $1.at }
        return Array(sorted[0..<50] + sorted[120..<170] + sorted[50..<120] + sorted[170..<200])
    }

    /// A ledger as format 7 stored it (docs/FORMAT.md, its history): the records as format 8
    /// writes them (they did not change), `lags` values of 16 bytes (the lag, then `at`), no
    /// `meta/lagged`, format `sledger-7`. Returns the format 8 ledger's digest and its `lags`
    /// values, as this build's writer made them.
    private func formatSevenLedger(_ path: String, damage: ((WriteTransaction, Ledger.Databases) throws -> Void)? = nil) throws
        -> (digest: String, lags: [UInt64: [UInt8]]) {
        let ledger = try Ledger(path: path, access: .readWrite)
        let events = events()
        _ = try ledger.append(events: Array(events.prefix(100)))
        _ = try ledger.append(events: Array(events.dropFirst(100)))
        let digest = try ledger.head().digest
        var lags: [UInt64: [UInt8]] = [:]
        try ledger.read { snapshot in
            try snapshot.txn.withCursor(snapshot.db.lags) { cursor in
                try cursor.forEach(from: cursor.first()) { lags[readBE($0.key, 0, 8)] = Array($0.value); return true }
            }
        }
        XCTAssertGreaterThanOrEqual(lags.count, 60, "the backfill is lagged")
        try ledger.env.write { txn in
            for (seq, value) in lags { try txn.put(ledger.db.lags, Key.seq(seq), Array(value.prefix(16))) }
            XCTAssertTrue(try txn.delete(ledger.db.meta, Key.lagged))
            try txn.put(ledger.db.meta, Key.format, Array("sledger-7".utf8))
            try damage?(txn, ledger.db)
        }
        return (digest, lags)
    }

    /// The bytes of every database, to show that a refused upgrade changed nothing.
    private func contents(_ path: String) throws -> [String: [[UInt8]]] {
        var options = Environment.Options()
        options.readOnly = true
        let env = try Environment(path: path, options: options)
        return try env.read { txn in
            var all: [String: [[UInt8]]] = [:]
            for (name, flags) in Ledger.Databases.layout {
                guard let db = try txn.openDatabase(name, flags: flags) else { continue }
                try txn.withCursor(db) { cursor in
                    try cursor.forEach(from: cursor.first()) { all[name, default: []] += [Array($0.key), Array($0.value)]; return true }
                }
            }
            return all
        }
    }

    /// The last format 7 builds kept `meta/lagged`, as of the head they left: here a stale one
    /// (as of seq 100), which the upgrade replaces.
    func testAFormatSevenLedgerIsUpgradedInPlaceKeepingItsRecordsAndDigest() throws {
        let path = try temporaryDirectory(self) + "/l"
        let (digest, lags) = try formatSevenLedger(path) { txn, db in
            try txn.put(db.meta, Key.lagged, LaggedCount.value(head: 100, count: 1))
        }
        XCTAssertThrowsError(try Ledger(path: path, access: .readOnly)) { error in
            XCTAssertTrue("\(error)".contains("has format \"sledger-7\", this sledger reads \"sledger-8\": `sledger upgrade` makes it format 8 in place"), "\(error)")
        }
        let log = try contents(path)["log"]

        let upgrade = try XCTUnwrap(try Ledger.upgrade(at: path))
        XCTAssertEqual(upgrade.events, 200)
        XCTAssertEqual(upgrade.lagged, lags.count)
        XCTAssertEqual(upgrade.head.digest, digest)

        XCTAssertTrue(try contents(path)["log"] == log, "not one record changed")
        do {  // closed before the next upgrade opens the same file (LMDB: one environment a process)
            let ledger = try Ledger(path: path, access: .readOnly)
            XCTAssertEqual(try ledger.head().digest, digest)
            XCTAssertEqual(try ledger.read { try $0.laggedCount() }, UInt64(lags.count))
            try ledger.read { snapshot in  // the entries this build's writer made for the same events
                for (seq, value) in lags { XCTAssertEqual(try snapshot.txn.get(snapshot.db.lags, Key.seq(seq)).map(Array.init), value, "seq \(seq)") }
            }
            XCTAssertEqual(try ledger.check().problems.map(\.description), [])
        }
        XCTAssertNil(try Ledger.upgrade(at: path), "format 8 already: nothing to do")
    }

    /// A checksum written over a damaged entry would vouch for the damage: an entry whose `at`
    /// or lag the log does not bear out, one gone, one the log does not call lagged, a record
    /// rewritten with a valid checksum (the chain), and a record whose checksum fails each
    /// refuse the upgrade, naming the `seq` where it is known, and leave every byte as it was.
    func testAFormatSevenLagsIndexTheLogDoesNotBearOutRefusesTheUpgradeAndChangesNothing() throws {
        let cases: [(String, UInt64?, (WriteTransaction, Ledger.Databases, [UInt64]) throws -> Void)] = [
            ("at flipped", nil, { txn, db, lagged in
                var value = Array(try XCTUnwrap(try txn.get(db.lags, Key.seq(lagged[3]))))
                value[12] ^= 0x40
                try txn.put(db.lags, Key.seq(lagged[3]), value)
            }),
            ("lag flipped", nil, { txn, db, lagged in
                var value = Array(try XCTUnwrap(try txn.get(db.lags, Key.seq(lagged[3]))))
                value[2] ^= 0x01
                try txn.put(db.lags, Key.seq(lagged[3]), value)
            }),
            ("removed", nil, { txn, db, lagged in XCTAssertTrue(try txn.delete(db.lags, Key.seq(lagged[3]))) }),
            ("not lagged", 0, { txn, db, lagged in try txn.put(db.lags, Key.seq(2), Array(try XCTUnwrap(try txn.get(db.lags, Key.seq(lagged[3])))))
            }),
            // Its `recorded` one nanosecond later, its checksum made again: only the chain shows it.
            ("record rewritten", 200, { txn, db, _ in
                var record = Array(try XCTUnwrap(try txn.get(db.log, Key.seq(5))))
                record[12] &+= 1
                let crc = record.dropLast(4).withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer($0)) }
                withUnsafeBytes(of: crc.littleEndian) { record.replaceSubrange(record.count - 4..<record.count, with: $0) }
                try txn.put(db.log, Key.seq(5), record)
            }),
            ("record flipped", 7, { txn, db, _ in
                var record = Array(try XCTUnwrap(try txn.get(db.log, Key.seq(7))))
                record[record.count - 1] ^= 0x01
                try txn.put(db.log, Key.seq(7), record)
            }),
        ]
        for (name, named, damage) in cases {
            let path = try temporaryDirectory(self) + "/\(name.replacingOccurrences(of: " ", with: "-"))"
            var fourth: UInt64 = 0
            _ = try formatSevenLedger(path) { txn, db in
                var lagged: [UInt64] = []
                try txn.withCursor(db.lags) { cursor in try cursor.forEach(from: cursor.first()) { lagged.append(readBE($0.key, 0, 8)); return true } }
                fourth = lagged[3]
                try damage(txn, db, lagged)
            }
            let before = try contents(path)
            XCTAssertThrowsError(try Ledger.upgrade(at: path), name) { error in
                guard case LedgerError.upgradeRefused(_, let seq, let problem) = error else { return XCTFail("\(name): \(error)") }
                // 0: none named (the index holds one entry too many, which the log cannot place).
                XCTAssertEqual(seq, named == 0 ? nil : named ?? fourth, "\(name): \(problem)")
                XCTAssertTrue("\(error)".contains("; nothing was changed. The sledger of 71124d4"), "\(name): \(error)")
            }
            XCTAssertTrue(try contents(path) == before, "\(name): a byte changed")
        }
    }

    /// A format 7 ledger made but never written to: no events, no `lags`, no `meta/lagged`.
    func testAnEmptyFormatSevenLedgerIsUpgraded() throws {
        let path = try temporaryDirectory(self) + "/l"
        do {
            let ledger = try Ledger(path: path, access: .readWrite)
            try ledger.env.write { try $0.put(ledger.db.meta, Key.format, Array("sledger-7".utf8)) }
        }
        let upgrade = try XCTUnwrap(try Ledger.upgrade(at: path))
        XCTAssertEqual(upgrade.events, 0)
        XCTAssertEqual(upgrade.lagged, 0)
        let ledger = try Ledger(path: path, access: .readOnly)
        XCTAssertEqual(try ledger.read { try $0.laggedCount() }, 0)
        XCTAssertTrue(try ledger.check().isIntact)
    }

    func testOnlyFormatSevenIsUpgraded() throws {
        let path = try temporaryDirectory(self) + "/l"
        _ = try formatSevenLedger(path) { txn, db in try txn.put(db.meta, Key.format, Array("sledger-6".utf8)) }
        XCTAssertThrowsError(try Ledger.upgrade(at: path)) { error in
            XCTAssertTrue("\(error)".contains("has format \"sledger-6\", this sledger reads \"sledger-8\": export it with the sledger that wrote it"), "\(error)")
        }
        XCTAssertThrowsError(try Ledger.upgrade(at: path + "-none")) { error in
            guard case LedgerError.notFound = error else { return XCTFail("\(error)") }
        }
    }
}
