import ArgumentParser
import SessionLedger
import SledgerReports
#if canImport(Glibc)
import Glibc
#endif

/// The root command: configuration only; each subcommand is its own type and file.
struct Sledger: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sledger",
        abstract: "An append-only ledger of sign-in events, with session state derived on demand.",
        discussion: "The ledger is a directory (--ledger, else $SLEDGER_LEDGER, else ./ledger). See README.md and SPEC.md.",
        subcommands: [
            AppendCommand.self, ImportCommand.self, ExportCommand.self, LogCommand.self,
            StatsCommand.self, CheckCommand.self, DigestCommand.self, CheckpointCommand.self, CompactCommand.self, UpgradeCommand.self,
            ReplayCommand.self, SessionsCommand.self, WhoCommand.self, SessionCommand.self, UserCommand.self,
            ServeCommand.self,
            PolicyCommand.self, DiffPolicyCommand.self,
        ]
    )
}

/// The entry point: turns every failure into one line on standard error and an exit status.
///
/// Exit status: 0 success; 1 the answer is "no" (damage found by `check`, error findings in
/// `replay`); 2 bad input or bad arguments; 3 the ledger could not be used (missing, damaged,
/// storage error).
@main
enum Main {
    static func main() {
        umask(0o077)  // whatever the caller's umask, the ledger is the owner's alone
        signal(SIGPIPE, SIG_DFL)  // `sledger log | head` ends quietly
        let command: ParsableCommand
        do {
            command = try Sledger.parseAsRoot()
        } catch {
            if Sledger.exitCode(for: error) == .success { Sledger.exit(withError: error) }
            let message = Sledger.message(for: error).split(separator: "\n").first.map(String.init) ?? "bad arguments"
            fail("\(message) (see `sledger help`)", status: 2)
        }
        do {
            var runnable = command
            try runnable.run()
        } catch let exit as ExitCode {
            Glibc.exit(exit.rawValue)
        } catch let errors as InputErrors {
            Output.flush()
            for error in errors.errors { Output.error(error.description) }
            Glibc.exit(2)
        } catch let error as UsageError {
            fail(error.message, status: 2)
        } catch let error as QueryArgumentError {
            fail(error.message, status: 2)
        } catch let error as LedgerError {
            fail(error.description, status: 3)
        } catch let error as InputSource.SourceError {
            fail(error.message, status: 2)
        } catch let error as TemporaryFile.Failure {
            fail(error.message, status: 3)  // TMPDIR: missing, full, not writable
        } catch {
            if Sledger.exitCode(for: error) == .success { Sledger.exit(withError: error) }
            let message = Sledger.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            fail(message, status: Sledger.exitCode(for: error) == .validationFailure ? 2 : 3)
        }
        Output.flush()
    }

    static func fail(_ message: String, status: Int32) -> Never {
        Output.flush()
        Output.error(message)
        Glibc.exit(status)
    }
}

/// A mistake in how the command was called: one line, exit status 2.
struct UsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
