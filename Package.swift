// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "sledger",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sledger", targets: ["sledger"]),
        .library(name: "SessionLedger", targets: ["SessionLedger"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Already in SwiftNIO's graph; its Heap orders a large import's late events for the checkpoint fold.
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already in Hummingbird's graph; named here for graceful shutdown (the writer drains last).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // The C library, found through pkg-config; nothing but a modulemap and a shim header.
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        // The Swift wrapper: the only module that imports CLMDB.
        .target(name: "LMDB", dependencies: ["CLMDB"]),
        // CRC-32 by carry-less multiplies (x86-64 with PCLMULQDQ), behind SessionLedger's CRC32.
        .target(name: "CCRC32"),
        // A cache prefetch hint (`__builtin_prefetch`), for folds that know which state the
        // events they read next will touch.
        .target(name: "CPrefetch"),
        // The domain: events, records, the store, the policy and the derivation engine.
        .target(
            name: "SessionLedger",
            dependencies: [
                "LMDB",
                "CCRC32",
                "CPrefetch",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        // Records as the CLI and the server print them: fields, formats and the queries behind them.
        .target(name: "SledgerReports", dependencies: ["SessionLedger"]),
        // `sledger serve`: HTTP ingest with group commit, queries and the timeline page.
        .target(
            name: "SledgerServer",
            dependencies: [
                "SessionLedger",
                "SledgerReports",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The command line: one file per command. On Linux, linked with mimalloc (Debian's
        // libmimalloc-dev), whose malloc and free replace glibc's for the whole process: an
        // import allocates and frees millions of strings across threads (decision 0013).
        .executableTarget(
            name: "sledger",
            dependencies: [
                "SessionLedger",
                "SledgerReports",
                "SledgerServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [.linkedLibrary("mimalloc", .when(platforms: [.linux]))]
        ),
        .testTarget(name: "LMDBTests", dependencies: ["LMDB"]),
        .testTarget(name: "SessionLedgerTests", dependencies: ["SessionLedger"]),
        .testTarget(name: "sledgerTests", dependencies: ["sledger", "SessionLedger"]),
        .testTarget(name: "SledgerServerTests", dependencies: ["sledger", "SledgerServer", "SessionLedger"]),
    ],
    swiftLanguageModes: [.v5]
)
