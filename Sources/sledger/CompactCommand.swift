import ArgumentParser
import SessionLedger
#if canImport(Glibc)
import Glibc
#endif

struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Write a compacted copy of the ledger to a new directory.",
        discussion: """
            The copy holds the same events, indexes and checkpoints (the same head: `sledger \
            digest` and `check --digest` prove it) without the free pages that LMDB's \
            copy-on-write leaves in a ledger loaded by many durable calls. The ledger itself \
            is not changed; appends may go on meanwhile and are not in the copy. To use the \
            copy in its place, stop the writers and swap the directories.
            """)

    @OptionGroup var ledger: LedgerOptions

    @Option(help: ArgumentHelp("The new ledger directory; it must not exist.", valueName: "DIR"))
    var to: String

    func run() throws {
        if access(to, F_OK) == 0 { throw UsageError("--to \(to) already exists; give a new directory") }
        let source = try ledger.openForReading()
        let before = try source.diskUsage().fileBytes
        let copy = try source.writeCompactCopy(to: to)
        Output.line("compacted \(copy.head.seq) events into \(to): \(copy.bytes) bytes (the ledger's file: \(before) bytes), head \(copy.head.digest)")
    }
}
