// swift-tools-version: 6.1
// The libFuzzer harnesses for the NDJSON reader and the policy reader (docs/FUZZING.md).
// Build and run with Tools/fuzz/run.sh; by hand:
//   swift build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library
import Foundation
import PackageDescription

// A path dependency is named after its folder (`sledger`, or a worktree's name).
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "sledger-fuzz",
    dependencies: [
        .package(path: "../.."),
    ],
    targets: [
        // The properties checked on every input, shared by both targets.
        .target(name: "FuzzChecks", dependencies: [.product(name: "SessionLedger", package: root.lastPathComponent)]),
        .executableTarget(name: "FuzzEventParser", dependencies: ["FuzzChecks"]),
        .executableTarget(name: "FuzzPolicy", dependencies: ["FuzzChecks"]),
        // Not a fuzz target: the Swift half of differential.py (EventParser against Tools/canonical.py).
        .executableTarget(name: "ParseLines", dependencies: [.product(name: "SessionLedger", package: root.lastPathComponent)]),
    ],
    swiftLanguageModes: [.v5]
)
