import ArgumentParser
import SessionLedger
import SledgerReports

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "Print the head of the hash chain as SEQ:HEX.")

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        Output.line(try ledger.openForReading().head().digest)
    }
}
