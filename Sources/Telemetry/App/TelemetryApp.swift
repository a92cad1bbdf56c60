import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
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
    public let index: DayIndex
    public let aggregates: AggregateStore
    public let indexReport: IndexLoader.Report
    public let rollups: RollupService
    public let metrics: TelemetryMetrics
    public let alerts: AlertMonitor
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
        let metrics = TelemetryMetrics()
        self.metrics = metrics
        alerts = AlertMonitor(now: now, logger: logger)
        recovery = try LogRecovery(directory: directory, logger: logger).run()
        dedup = DedupCache(windowSeconds: configuration.dedupWindowSeconds, maxIds: configuration.dedupMaxIds)
        let writerStats = WriterStats(metrics: metrics)
        self.writerStats = writerStats
        let maintenance = LogMaintenanceService(
            directory: directory, retentionDays: configuration.rawRetentionDays, now: now, logger: logger,
            pacing: CompressionPacing(), committed: { writerStats.committedBatches })
        self.maintenance = maintenance
        for name in recovery.uncompressed { maintenance.enqueue(name) }
        aggregates = try AggregateStore(dataDirectory: directory, logger: logger)
        index = DayIndex(hasher: SipHash(key: try aggregates.hashKey()))
        let dedupSnapshot = DedupSnapshot.read(from: aggregates)
        let openedAt = now()
        let dedup = self.dedup
        indexReport = try IndexLoader(dataDirectory: directory, logger: logger).open(index, store: aggregates) { e, line in
            if let id = e.id, let at = e.receivedAt { dedup.remember(UnsafeBufferPointer(rebasing: line[id]), at: at, now: openedAt) }
        }
        if let from = indexReport.replayedFrom {
            if let dedupSnapshot, dedupSnapshot.position == from {
                dedup.load(dedupSnapshot.entries, now: openedAt)
            } else {
                // No snapshot for this position (a crash): refill the window from the recent segments.
                try LogReplay(directory: directory, logger: logger).replayRecentIds(into: dedup, now: openedAt)
            }
        }
        rollups = RollupService(
            job: RollupJob(configuration: configuration), index: index, store: RollupStore(dataDirectory: directory),
            aggregates: aggregates, maintenance: maintenance, now: now, logger: logger, metrics: metrics)
        writer = try SegmentWriter(
            options: .init(directory: directory, durability: configuration.durability, rotateBytes: configuration.rotateBytes, io: io),
            nextSeq: indexReport.nextSeq, now: now, logger: logger, observer: index, stats: writerStats,
            onRotate: { maintenance.enqueue($0) }, onFatal: onFatal)
        ingestStats = IngestStats(metrics: metrics)
        ingestor = EventIngestor(writer: writer, dedup: dedup, stats: ingestStats, now: now)
        if configuration.dashKeys.isEmpty {
            logger.warning("no dash key configured: the usage API answers 503 until one is set (--dash-key)")
        }
    }

    /// Closes the log and writes the aggregates, as a graceful shutdown does.
    public func close() throws {
        writer.close()
        try DedupSnapshot.write(dedup, position: index.position, to: aggregates)
        try aggregates.flush(index)
    }

    public func buildRouter() -> Router<TelemetryRequestContext> {
        let router = Router(context: TelemetryRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics, alerts: alerts))
        router.add(middleware: ErrorMiddleware())
        EventController(
            ingestor: ingestor, rateLimiter: RateLimiter(perSecond: configuration.rateLimit),
            clients: ClientAddress(trustedProxies: Set(configuration.trustedProxies)),
            cors: CORSPolicy(origins: configuration.corsOrigins), now: now
        ).addRoutes(to: router)
        HealthController(writer: writer, startedAt: startedAt).addRoutes(to: router)
        MetricsController(metrics: metrics, index: index, dedup: dedup, dataDirectory: configuration.dataDirectory).addRoutes(to: router)
        StaticController(files: StaticFiles(directory: configuration.staticDirectory)).addRoutes(to: router)
        let keyed = router.group("api/analytics").add(middleware: DashKeyMiddleware(auth: DashKeyAuth(keys: configuration.dashKeys)))
        UsageController(index: index, rollups: rollups.store, funnel: configuration.funnel, now: now).addRoutes(to: keyed)
        ReportsController(index: index, dataDirectory: configuration.dataDirectory, funnel: configuration.funnel, now: now).addRoutes(to: keyed)
        UsersController(dataDirectory: configuration.dataDirectory, writer: writer, index: index, store: aggregates,
                        maintenance: maintenance).addRoutes(to: keyed)
        ProductController(index: index, dataDirectory: configuration.dataDirectory, rawRetentionDays: configuration.rawRetentionDays,
                          now: now).addRoutes(to: keyed)
        AlertsController(monitor: alerts, index: index, rollups: rollups.stats, funnel: configuration.funnel, now: now).addRoutes(to: keyed)
        return router
    }

    /// A request head must arrive this soon after the connection opens or the previous answer.
    static let headerTimeout = TimeAmount.seconds(15)
    /// A request body must arrive this soon after its head.
    static let bodyTimeout = TimeAmount.seconds(30)
    static let idleTimeout = TimeAmount.seconds(60)
    /// Connections beyond this wait in the listen backlog until others close.
    static let maxConnections = 10_000

    /// The HTTP server with the background services; the log is closed after the server has stopped.
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        var app = Application(
            router: buildRouter(),
            server: .http1(configuration: .init(
                additionalChannelHandlers: [SlowClientGuard(headerTimeout: Self.headerTimeout, bodyTimeout: Self.bodyTimeout)],
                idleTimeout: Self.idleTimeout)),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "telemetryd",
                availableConnectionsDelegate: MaximumAvailableConnections(Self.maxConnections)),
            onServerRunning: { channel in
                // Recovery and the index load are done by now: tell systemd we are ready.
                SystemdNotifier()?.notify("READY=1\nSTATUS=accepting events")
                await onServerRunning(channel.localAddress?.port ?? 0)
            },
            logger: logger)
        // Services stop in reverse order: the server first, then rollups, then the log, then the last aggregate flush.
        app.addServices(
            AggregateFlushService(index: index, store: aggregates, logger: logger),
            LogCloser(writer: writer, afterClose: { [dedup, index, aggregates, logger] in
                do {
                    try DedupSnapshot.write(dedup, position: index.position, to: aggregates)
                } catch {
                    logger.error("writing the dedup snapshot failed", metadata: ["error": "\(error)"])
                }
            }),
            maintenance, rollups)
        if let notifier = SystemdNotifier() {
            // Added last, so it stops first: STOPPING=1 goes out as soon as shutdown begins.
            let writer = self.writer
            app.addServices(SystemdService(
                notifier: notifier, watchdog: SystemdNotifier.watchdogInterval(), isHealthy: { writer.isHealthy }, logger: logger))
        }
        return app
    }
}

/// Closes the writer once the server has stopped taking requests (services stop in reverse order).
struct LogCloser: Service {
    let writer: SegmentWriter
    let afterClose: @Sendable () -> Void

    func run() async throws {
        try? await gracefulShutdown()
        writer.close()
        afterClose()
    }
}
