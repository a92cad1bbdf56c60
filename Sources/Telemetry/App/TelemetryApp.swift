import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The daemon's parts, opened once at start-up from a configuration; `makeApplication()` serves them.
public final class TelemetryApp: Sendable {
    public let configuration: TelemetryConfiguration
    public let writer: SegmentWriter
    public let maintenance: LogMaintenanceService
    public let ingestor: EventIngestor
    public let ingestStats: IngestStats
    public let writerStats: WriterStats
    public let dedup: DedupCache
    public let recovery: LogRecovery.Report
    let logger: Logger
    let now: @Sendable () -> Int64
    let startedAt = ContinuousClock.now

    /// Recovers the data directory, replays the log into the in-memory state and opens the writer.
    public init(
        configuration: TelemetryConfiguration, logger: Logger,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
        io: any SegmentIO = PosixSegmentIO(),
        onFatal: @escaping @Sendable (StorageError) -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.now = now
        let directory = configuration.dataDirectory
        recovery = try LogRecovery(directory: directory, logger: logger).run()
        dedup = DedupCache(windowSeconds: configuration.dedupWindowSeconds, maxIds: configuration.dedupMaxIds)
        try LogReplay(directory: directory, logger: logger).replayRecentIds(into: dedup, now: now())
        let maintenance = LogMaintenanceService(
            directory: directory, retentionDays: configuration.rawRetentionDays, now: now, logger: logger)
        self.maintenance = maintenance
        for name in recovery.uncompressed { maintenance.enqueue(name) }
        writerStats = WriterStats()
        writer = try SegmentWriter(
            options: .init(directory: directory, durability: configuration.durability, rotateBytes: configuration.rotateBytes, io: io),
            nextSeq: SegmentRotation.nextSeq(in: directory), now: now, logger: logger, stats: writerStats,
            onRotate: { maintenance.enqueue($0) }, onFatal: onFatal)
        ingestStats = IngestStats()
        ingestor = EventIngestor(writer: writer, dedup: dedup, stats: ingestStats, now: now)
    }

    public func buildRouter() -> Router<TelemetryRequestContext> {
        let router = Router(context: TelemetryRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        EventController(
            ingestor: ingestor, rateLimiter: RateLimiter(perSecond: configuration.rateLimit),
            clients: ClientAddress(trustedProxies: Set(configuration.trustedProxies)),
            cors: CORSPolicy(origins: configuration.corsOrigins), now: now
        ).addRoutes(to: router)
        HealthController(writer: writer, startedAt: startedAt).addRoutes(to: router)
        return router
    }

    /// The HTTP server with the background services; the log is closed after the server has stopped.
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        var app = Application(
            router: buildRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "telemetryd"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        app.addServices(LogCloser(writer: writer), maintenance)
        return app
    }
}

/// Closes the writer once the server has stopped taking requests (services stop in reverse order).
struct LogCloser: Service {
    let writer: SegmentWriter

    func run() async throws {
        try? await gracefulShutdown()
        writer.close()
    }
}
