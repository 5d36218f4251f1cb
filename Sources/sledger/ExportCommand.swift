import ArgumentParser
import SessionLedger
import SledgerReports

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the stored events in canonical NDJSON, in seq order.",
        discussion: "Importing an export into an empty ledger and exporting again gives the same bytes.")

    @OptionGroup var ledger: LedgerOptions
    @Option(help: "Only events with at >= this instant.") var from: String?
    @Option(help: "Only events with at < this instant.") var to: String?
    @Flag(help: "Start each object with the event's seq and recorded.") var withSeq = false

    func run() throws {
        let from = try self.from.map { try parseInstant($0, option: "--from") }
        let to = try self.to.map { try parseInstant($0, option: "--to") }
        let ledger = try ledger.openForReading()
        var line: [UInt8] = []
        try ledger.read { snapshot in
            try snapshot.forEachEvent { stored in
                if let from, stored.event.at < from { return true }
                if let to, stored.event.at >= to { return true }
                line.removeAll(keepingCapacity: true)
                CanonicalWriter.write(stored.event, seq: withSeq ? stored.seq : nil,
                                      recorded: withSeq ? stored.recorded : nil, into: &line)
                line.append(0x0A)
                Output.write(line)
                return true
            }
        }
    }
}
