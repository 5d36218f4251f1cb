import Foundation
import XCTest
@testable import LMDB

/// The wrapper's promises: transactions commit on return and roll back on throw, a missing
/// key is nil rather than an error, every other failure names its LMDB code and call.
final class EnvironmentTests: XCTestCase {
    func environment(mapSize: Int = 1 << 20) throws -> Environment {
        let path = NSTemporaryDirectory() + "lmdb-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        var options = Environment.Options()
        options.mapSize = mapSize
        return try Environment(path: path, options: options)
    }

    struct Refused: Error {}

    func testAWriteCommitsWhenItsBodyReturnsAndRollsBackWhenItThrows() throws {
        let env = try environment()
        let db = try env.write { try XCTUnwrap($0.openDatabase("t", flags: .create)) }
        try env.write { try $0.put(db, Array("kept".utf8), [1]) }
        XCTAssertThrowsError(try env.write { txn in
            try txn.put(db, Array("dropped".utf8), [2])
            throw Refused()
        }) { XCTAssertTrue($0 is Refused) }
        try env.read { txn in
            XCTAssertEqual(try txn.get(db, Array("kept".utf8)).map(Array.init), [1])
            XCTAssertNil(try txn.get(db, Array("dropped".utf8)), "a missing key is nil, not an error")
            XCTAssertEqual(try txn.count(db), 1)
        }
    }

    func testAnLMDBErrorNamesItsCodeAndTheCall() throws {
        let env = try environment()
        let db = try env.write { try XCTUnwrap($0.openDatabase("t", flags: .create)) }
        try env.write { try $0.put(db, [9], [9]) }
        XCTAssertThrowsError(try env.write { try $0.put(db, [1], [1], flags: .append) }) { error in
            guard let lmdb = error as? LMDBError else { return XCTFail("\(error)") }
            XCTAssertEqual(lmdb.code, .keyExists, "MDB_APPEND of a smaller key")
            XCTAssertEqual(lmdb.operation, "mdb_put(t)")
            XCTAssertTrue(lmdb.description.contains("LMDB code \(MDBKeyExist.value)"), lmdb.description)
        }
    }

    func testAFullMapIsReportedAndGrowingItLetsTheWriteThrough() throws {
        let env = try environment(mapSize: 64 << 10)
        let db = try env.write { try XCTUnwrap($0.openDatabase("t", flags: .create)) }
        let value = [UInt8](repeating: 7, count: 1000)
        func fill(_ txn: WriteTransaction) throws {
            for i in 0..<2000 { try txn.put(db, Array("key-\(i)".utf8), value) }
        }
        XCTAssertThrowsError(try env.write(fill)) { error in
            XCTAssertEqual((error as? LMDBError)?.code, .mapFull)
        }
        var runs = 0
        try env.writeGrowingMap { txn in
            runs += 1
            try fill(txn)
        }
        XCTAssertGreaterThan(runs, 1, "the body ran again on a larger map")
        XCTAssertEqual(try env.read { try $0.count(db) }, 2000)
    }

    func testACursorWalksKeysInByteOrderAndDuplicatesInValueOrder() throws {
        let env = try environment()
        let db = try env.write { try XCTUnwrap($0.openDatabase("d", flags: [.create, .duplicateSort, .duplicateFixed])) }
        try env.write { txn in
            for (key, value) in [([2], [5]), ([1], [9]), ([2], [3]), ([1], [4])] as [([UInt8], [UInt8])] {
                try txn.put(db, key, value)
            }
        }
        let walked: [[UInt8]] = try env.read { txn in
            try txn.withCursor(db) { cursor in
                var out: [[UInt8]] = []
                try cursor.forEach(from: cursor.first()) { entry in
                    out.append(Array(entry.key) + Array(entry.value))
                    return true
                }
                return out
            }
        }
        XCTAssertEqual(walked, [[1, 4], [1, 9], [2, 3], [2, 5]])
    }

    /// `valuesOnPage`/`valuesOnNextPage`/`nextKey` read a key's fixed-size values a page at a
    /// time: every value once, in order, across pages (2,000 values of 10 bytes fill five
    /// pages of 4 KiB; 777 two), on a key's own small page (5 values), and for keys with one
    /// value (held in the key's node, no page of values), first, between and last.
    func testAKeysFixedSizeValuesAreReadAPageAtATime() throws {
        let env = try environment()
        let db = try env.write { try XCTUnwrap($0.openDatabase("d", flags: [.create, .duplicateSort, .duplicateFixed])) }
        func value(_ n: Int) -> [UInt8] { (0..<10).map { UInt8(truncatingIfNeeded: n >> (8 * min($0, 7))) }.reversed() }
        let counts: [UInt8: Int] = [0: 1, 1: 2_000, 2: 1, 3: 777, 4: 5, 5: 1]
        try env.write { txn in
            for (key, count) in counts { for n in 0..<count { try txn.put(db, [key], value(n)) } }
        }
        let (read, pages): ([UInt8: [[UInt8]]], Int) = try env.read { txn in
            try txn.withCursor(db) { cursor in
                var out: [UInt8: [[UInt8]]] = [:]
                var pages = 0
                var entry = try cursor.first()
                while let current = entry {
                    let key = current.key[0]
                    var page = try cursor.valuesOnPage()
                    while let values = page {
                        pages += 1
                        XCTAssertEqual(values.count % 10, 0)
                        for offset in stride(from: 0, to: values.count, by: 10) { out[key, default: []].append(Array(values[offset..<offset + 10])) }
                        page = try cursor.valuesOnNextPage()
                    }
                    entry = try cursor.nextKey()
                }
                return (out, pages)
            }
        }
        XCTAssertEqual(read.keys.sorted(), [0, 1, 2, 3, 4, 5])
        for (key, count) in counts { XCTAssertEqual(read[key], (0..<count).map(value), "key \(key)") }
        XCTAssertGreaterThan(pages, 6 + 3, "more than one page for the large keys")
    }

    func testInsertOrGetStoresOnceAndThenReturnsTheHolder() throws {
        let env = try environment()
        let db = try env.write { try XCTUnwrap($0.openDatabase("ids", flags: .create)) }
        try env.write { txn in
            let first = try [UInt8]("id".utf8).withUnsafeBytes { k in try [UInt8]([1]).withUnsafeBytes { v in try txn.insertOrGet(db, k, v) } }
            XCTAssertNil(first)
            let second = try [UInt8]("id".utf8).withUnsafeBytes { k in
                try [UInt8]([2]).withUnsafeBytes { v in try txn.insertOrGet(db, k, v).map(Array.init) }
            }
            XCTAssertEqual(second, [1])
        }
    }
}

import CLMDB
enum MDBKeyExist { static let value = MDB_KEYEXIST }
