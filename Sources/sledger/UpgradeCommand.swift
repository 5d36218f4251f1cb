import ArgumentParser
import SessionLedger

struct UpgradeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upgrade",
        abstract: "Make a format 7 ledger format 8 in place, keeping every record.",
        discussion: """
            The records, and so every seq, recorded instant and digest, stay as they are: a \
            digest kept from the old ledger still passes `check --digest`. Only the lags index \
            gains a checksum in each entry, and meta/lagged its count (docs/decisions/0016). \
            Each lags entry is compared with a pass over the log first, which also checks every \
            record's checksum and the hash chain up to the head; any difference refuses the \
            upgrade (exit 3) and changes nothing. One \
            write transaction: an interrupted upgrade, or a full disk, leaves the ledger as it \
            was. It waits for the ledger's other writers to close it (stop `sledger serve` \
            first); readers of this build refuse the ledger until it is done. A ledger of \
            format 8 already is left alone (exit 0).
            """)

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let path = ledger.path
        let waiting = { Output.error("waiting for the ledger's other writer to close it (a `sledger serve`, an import) ...") }
        guard let done = try Ledger.upgrade(at: path, waiting: waiting) else {
            Output.line("\(path) is \(Ledger.formatName) already: nothing to do")
            return
        }
        Output.line("upgraded \(path) from \(Ledger.upgradableFormat) to \(Ledger.formatName): \(done.events) events, \(done.lagged) lagged; head \(done.head.digest), unchanged")
    }
}
