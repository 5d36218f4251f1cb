import FuzzChecks

/// libFuzzer entry point: one input is one NDJSON line (no newline).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEventParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = inputBytes(data, size)
    Findings.shared.installSummaryOnce(target: "FuzzEventParser")
    if let violation = EventChecks.check(line: bytes) {
        Findings.shared.record(violation, input: bytes)
    }
    return 0
}

/// The program's `main` as SwiftPM links it: hands over to libFuzzer.
@_cdecl("FuzzEventParser_main")
public func fuzzEventParserMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzEventParser)
}
