import ArgumentParser
import SessionLedger
import SledgerReports
#if canImport(Glibc)
import Glibc
#endif

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Stored events with seq and recorded, in seq order.",
        discussion: "With --follow it keeps running and prints new events as they are appended (it polls every 200 ms).")

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions
    @Option(help: "Only events with seq greater than this.") var after: UInt64 = 0
    @Flag(help: "Wait for new events and print them as they arrive.") var follow = false

    func run() throws {
        let ledger = try ledger.openForReading()
        var printer = RecordPrinter(format: output.format, fields: LogRecord.fields)
        var last = after
        repeat {
            last = try ledger.read { try LogRecord.write($0, after: last, printer: &printer) }
            if follow {
                printer.flush()
                usleep(200_000)
            }
        } while follow
        printer.finish()
    }
}
