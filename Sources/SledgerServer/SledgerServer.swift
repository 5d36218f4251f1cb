import Hummingbird
import Logging
import ServiceLifecycle
import SessionLedger
import SledgerReports

/// `sledger serve`: live ingest and queries over HTTP on Hummingbird, and the timeline page.
public enum SledgerServer {
    public struct Configuration: Sendable {
        public var ledgerPath: String
        public var listen: ListenAddress
        public var tokens: AccessTokens?
        public var policy: Policy
        /// How group commits reach the file (decision 0012).
        public var writes: Ledger.Writes
        /// How many queries that fold a range or the whole log run at once (`QueryLanes`).
        public var longQueries: Int
        /// Called once the socket is bound, with the port (the real one when 0 was asked for).
        public var onListening: @Sendable (Int) -> Void

        public init(ledgerPath: String, listen: ListenAddress, tokens: AccessTokens?, policy: Policy,
                    writes: Ledger.Writes = .buffered, longQueries: Int = 1,
                    onListening: @escaping @Sendable (Int) -> Void) {
            self.ledgerPath = ledgerPath
            self.listen = listen
            self.tokens = tokens
            self.policy = policy
            self.writes = writes
            self.longQueries = longQueries
            self.onListening = onListening
        }
    }

    /// Runs until SIGTERM or SIGINT, then stops gracefully: no new connection is accepted,
    /// requests in flight are answered (their appends committed), the writer drains its queue,
    /// and the ledger is closed.
    public static func run(_ configuration: Configuration) async throws {
        let access = try LedgerAccess(path: configuration.ledgerPath, writes: configuration.writes)
        let writer = GroupCommitWriter(access: access)
        let router = router(access: access, writer: writer, policy: configuration.policy, tokens: configuration.tokens,
                            lanes: QueryLanes(policy: configuration.policy, long: configuration.longQueries))
        var logger = Logger(label: "sledger.serve")
        logger.logLevel = .warning
        var app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.listen.host, port: configuration.listen.port),
                                 serverName: "sledger"),
            onServerRunning: { channel in configuration.onListening(channel.localAddress?.port ?? configuration.listen.port) },
            logger: logger)
        // Services stop in reverse order: the HTTP server first (answering what is in
        // flight), then the writer, so no acknowledged request is ever left in its queue.
        app.addServices(WriterService(writer: writer))
        try await app.runService()
        access.releaseRoom()
    }
}

extension SledgerServer {
    /// Every route, behind the token check (docs/openapi.json describes each one).
    static func router(access: LedgerAccess, writer: GroupCommitWriter, policy: Policy,
                       tokens: AccessTokens?, lanes: QueryLanes) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: AccessMiddleware(tokens: tokens))
        QueryRoutes(access: access, policy: policy, lanes: lanes).add(to: router)
        IngestRoutes(writer: writer).add(to: router)
        LogStream(access: access).add(to: router)
        TimelineRoutes(access: access, policy: policy, lanes: lanes).add(to: router)
        return router
    }
}

/// Keeps the writer running until the HTTP server has stopped, then drains and stops it.
struct WriterService: Service {
    let writer: GroupCommitWriter

    func run() async throws {
        try? await gracefulShutdown()
        writer.stop()
    }
}
