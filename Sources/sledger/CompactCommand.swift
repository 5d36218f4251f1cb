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
            copy-on-write leaves in a ledger loaded by many durable calls, and with every page \
            full: each database is written in key order. The ledger itself \
            is not changed; appends may go on meanwhile and are not in the copy (they cannot \
            reuse free pages while it is made, so its file may grow). The copy is made in \
            DIR.partial-PID beside DIR and renamed when it is on disk; an interrupted run \
            leaves that directory, which can be deleted. To use the copy in its place, stop \
            the writers and swap the directories.
            """)

    @OptionGroup var ledger: LedgerOptions

    @Option(help: ArgumentHelp("The new ledger directory; it must not exist.", valueName: "DIR"))
    var to: String

    func run() throws {
        let to = Ledger.withoutTrailingSlashes(self.to)
        if access(to, F_OK) == 0 { throw UsageError("--to \(to) already exists; give a new directory") }
        var st = stat()
        let parent = Ledger.parent(of: to)
        guard stat(parent, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw UsageError("--to \(to): \(parent) is not an existing directory")
        }
        let source = try ledger.openForReading()
        let before = try source.diskUsage().fileBytes
        let copy = try source.writeCompactCopy(to: to)
        Output.line("compacted \(copy.head.seq) events into \(to): \(copy.bytes) bytes (the ledger's file: \(before) bytes), head \(copy.head.digest)")
    }
}
