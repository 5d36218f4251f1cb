import ArgumentParser
import SessionLedger

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Write checkpoints of derived state, from which sessions folds and whose stretches who counts.",
        discussion: """
            A checkpoint is the state (under the default policy) after every event up to an instant, \
            spaced by their own size (about 8 bytes of checkpoint per event of the log, stretches \
            aside, from 16,384 \
            to 2,097,152 events apart), or every --spacing events (denser checkpoints make \
            sessions --at T faster and the ledger larger). They are a cache beside the log: `append` and \
            `import` write them as the log grows (a call of 16 MiB or more of files also ends with one an \
            hour before the newest event, when a quarter of the spacing lies before it, or a sixty-fourth when the call wrote one, and \
            so does this command; a smaller call, or `serve` as it stores events, ends with a rolling one, \
            which the next replaces while they lie close, and which this command removes, going on \
            from the checkpoint before it with spaced ones and its own tail when one is due), \
            a late event older than one removes it, `check` \
            verifies each against a refold, and a damaged one is skipped and rebuilt here, as is one \
            written by an earlier version without session numbers or stretches (still read meanwhile, \
            only slower). sessions --at T folds from the latest checkpoint at or before T. A checkpoint \
            also holds, for the stretch of time since the one before, each session active in it \
            with its login and end, which who counts instead of folding for an instant, and for a \
            range the stretches it crosses. \
            See docs/FORMAT.md.
            """)

    @OptionGroup var ledger: LedgerOptions
    @Option(help: "Events between two checkpoints (default: spaced by their size).")
    var spacing: Int?

    func validate() throws {
        if let spacing, spacing < 1 { throw ValidationError("--spacing must be at least 1") }
    }

    func run() throws {
        let ledger = try ledger.openForWriting()
        let written = try ledger.writeCheckpoints(spacing: spacing.map { .every($0) } ?? .adaptive, tail: true)
        let total = try ledger.read { try $0.checkpointCount() }
        Output.line("wrote \(written) checkpoints; \(total) in all")
    }
}
