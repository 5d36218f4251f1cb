import ArgumentParser
import SessionLedger
import SledgerReports

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify every record, the seq order, the hash chain and every index; name the first damaged seq.",
        discussion: """
            Exit status 0 when intact, 1 when damaged. Keep the output of `sledger digest` somewhere the \
            ledger's writers cannot reach; `sledger check --digest SEQ:HEX` then proves the ledger still \
            holds exactly that history, so a rewritten one is detected.
            """)

    @OptionGroup var ledger: LedgerOptions
    @Option(help: ArgumentHelp("Also prove the ledger still holds exactly the prefix this digest names.", valueName: "SEQ:HEX"))
    var digest: String?

    func run() throws {
        let expected = try digest.map { text -> (seq: UInt64, value: [UInt8]) in
            guard let parsed = HashChain.parseDigest(text) else { throw UsageError("--digest: expected SEQ:HEX (64 hex digits)") }
            return parsed
        }
        let report: CheckReport
        do {
            report = try ledger.openForReading().check(digest: expected)
        } catch LedgerError.damaged(let seq, let problem) {
            Output.line(seq.map { "damaged: first damaged seq \($0)" } ?? "damaged")
            Output.line("  \(problem)")
            Output.flush()
            throw ExitCode(1)
        } catch LedgerError.storage(let error, _) where [.corrupted, .invalid, .panic, .versionMismatch].contains(error.code) {
            Output.line("damaged")
            Output.line("  LMDB cannot read the environment: \(error)")
            Output.flush()
            throw ExitCode(1)
        }
        if report.isIntact {
            var line = report.events == 0
                ? "ok: the ledger is empty, head \(report.head.digest)"
                : "ok: \(report.events) events, seq 1 to \(report.events) contiguous, chain and indexes verified, head \(report.head.digest)"
            if report.checkpoints > 0 { line += "; \(report.checkpoints) checkpoints verified" }
            if report.digestMatched == true { line += "; digest \(digest!) matches" }
            Output.line(line)
            return
        }
        if let seq = report.firstDamagedSeq {
            Output.line("damaged: first damaged seq \(seq)")
        } else {
            Output.line("damaged")
        }
        for problem in report.problems { Output.line("  \(problem)") }
        Output.flush()
        throw ExitCode(1)
    }
}
