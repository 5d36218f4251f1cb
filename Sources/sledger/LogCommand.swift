import ArgumentParser
import SessionLedger
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

    static let fields = ["seq", "recorded", "type", "at", "user", "session", "client", "method", "id", "ip", "agent", "meta"]

    func run() throws {
        let ledger = try ledger.openForReading()
        var printer = RecordPrinter(format: output.format, fields: LogCommand.fields)
        var last = after
        repeat {
            try ledger.read { snapshot in
                try snapshot.forEachEvent(after: last) { stored in
                    if output.format == .ndjson {
                        var line: [UInt8] = []
                        CanonicalWriter.write(stored.event, seq: stored.seq, recorded: stored.recorded, into: &line)
                        line.append(0x0A)
                        Output.write(line)
                    } else {
                        printer.add(LogCommand.cells(stored))
                    }
                    last = stored.seq
                    return true
                }
            }
            if follow {
                printer.flush()
                usleep(200_000)
            }
        } while follow
        printer.finish()
    }

    static func cells(_ stored: StoredEvent) -> [Cell] {
        let e = stored.event
        func optional(_ s: String?) -> Cell { s.map(Cell.string) ?? .absent }
        var meta: Cell = .absent
        if e.hasMeta {
            var out: [UInt8] = [UInt8(ascii: "{")]
            for (i, pair) in e.meta.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalWriter.appendString(pair.key, &out)
                out.append(UInt8(ascii: ":"))
                CanonicalWriter.appendString(pair.value, &out)
            }
            out.append(UInt8(ascii: "}"))
            meta = .json(String(decoding: out, as: UTF8.self))
        }
        return [.integer(Int64(stored.seq)), .string(stored.recorded.description), .string(e.kind.name),
                .string(e.at.description), .string(e.user), optional(e.session), optional(e.client),
                optional(e.method), optional(e.id), optional(e.ip), optional(e.agent), meta]
    }
}
