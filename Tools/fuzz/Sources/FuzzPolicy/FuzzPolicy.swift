import FuzzChecks

/// libFuzzer entry point: one input is one policy file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = inputBytes(data, size)
    Findings.shared.installSummaryOnce(target: "FuzzPolicy")
    if let violation = PolicyChecks.check(json: bytes) {
        Findings.shared.record(violation, input: bytes)
    }
    return 0
}

/// The program's `main` as SwiftPM links it: hands over to libFuzzer.
@_cdecl("FuzzPolicy_main")
public func fuzzPolicyMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzPolicy)
}
