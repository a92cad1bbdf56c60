import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// The daemon: opens the data directory and serves it until SIGTERM or SIGINT.
public func buildApplication(_ configuration: TelemetryConfiguration, logger: Logger) throws -> some ApplicationProtocol {
    let storage = try Storage.open(configuration, logger: logger, onFatal: { error in
        // The log's state is unknown after a failed fsync: exit so systemd restarts us and recovery runs.
        logger.critical("stopping: the event log failed", metadata: ["error": "\(error)"])
        Thread.sleep(forTimeInterval: 0.2)
        exit(70)
    })
    return buildApplication(storage: storage, logger: logger, onServerRunning: { port in
        logger.info("listening", metadata: ["host": "\(configuration.host)", "port": "\(port)", "data_dir": "\(configuration.dataDirectory)"])
    })
}

/// The HTTP server over an opened storage, with the background services. Services stop in reverse order:
/// the server first, then the watchdog, alerts, rollups and compression, and the storage last.
func buildApplication(
    storage: Storage, logger: Logger, limits: ServerLimits = .standard,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let configuration = storage.configuration
    let rollups = RollupService(
        job: RollupJob(configuration: configuration), index: storage.index, store: RollupStore(dataDirectory: configuration.dataDirectory),
        aggregates: storage.aggregates, maintenance: storage.maintenance, now: storage.now, logger: logger, metrics: storage.metrics)
    let alerts = AlertMonitor(now: storage.now, logger: logger)
    var app = Application(
        router: buildRouter(storage: storage, alerts: alerts),
        server: .http1(configuration: .init(
            additionalChannelHandlers: [SlowClientGuard(headerTimeout: limits.headerTimeout, bodyTimeout: limits.bodyTimeout)],
            idleTimeout: limits.idleTimeout)),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "telemetryd",
            availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
        onServerRunning: { channel in
            // Recovery and the index load are done by now: tell systemd we are ready.
            SystemdNotifier()?.notify("READY=1\nSTATUS=accepting events")
            await onServerRunning(channel.localAddress?.port ?? 0)
        },
        logger: logger)
    app.addServices(
        StorageService(storage: storage), storage.maintenance, rollups,
        AlertService(monitor: alerts, index: storage.index, rollups: rollups.stats, funnel: configuration.funnel, now: storage.now))
    if let notifier = SystemdNotifier() {
        let writer = storage.writer
        app.addServices(SystemdService(
            notifier: notifier, watchdog: SystemdNotifier.watchdogInterval(), isHealthy: { writer.isHealthy }, logger: logger))
    }
    return app
}

/// Every route: the public event endpoint, health, metrics and static files, and the keyed analytics API.
func buildRouter(storage: Storage, alerts: AlertMonitor) -> Router<TelemetryRequestContext> {
    let configuration = storage.configuration
    let (reader, now, directory, funnel) = (storage.reader, storage.now, configuration.dataDirectory, configuration.funnel)
    let router = Router(context: TelemetryRequestContext.self)
    router.add(middleware: RequestMetricsMiddleware(metrics: storage.metrics, alerts: alerts))
    router.add(middleware: ErrorMiddleware())
    EventController(
        ingestor: storage.ingestor, rateLimiter: RateLimiter(perSecond: configuration.rateLimit),
        clients: ClientAddress(trustedProxies: Set(configuration.trustedProxies)),
        cors: CORSPolicy(origins: configuration.corsOrigins),
        dimensions: DimensionSource(enabled: configuration.deriveDimensions, countries: storage.countries), now: now
    ).addRoutes(to: router)
    HealthController(writer: storage.writer, startedAt: .now).addRoutes(to: router)
    MetricsController(metrics: storage.metrics, index: storage.index, table: storage.table, dedup: storage.dedup, dataDirectory: directory).addRoutes(to: router)
    StaticController(files: StaticFiles(directory: configuration.staticDirectory)).addRoutes(to: router)
    let keyed = router.group("api/analytics").add(middleware: DashKeyMiddleware(auth: DashKeyAuth(keys: configuration.dashKeys)))
    UsageController(reader: reader, rollups: RollupStore(dataDirectory: directory), funnel: funnel, now: now).addRoutes(to: keyed)
    ReportsController(reader: reader, funnel: funnel, now: now).addRoutes(to: keyed)
    DimensionsController(reader: reader, now: now).addRoutes(to: keyed)
    UsersController(storage: storage).addRoutes(to: keyed)
    ProductController(reader: reader, rawRetentionDays: configuration.rawRetentionDays, now: now)
        .addRoutes(to: keyed)
    AlertsController(monitor: alerts).addRoutes(to: keyed)
    return router
}

/// What one client may hold of the server.
struct ServerLimits: Sendable {
    /// A request head must arrive this soon after the connection opens or the previous answer.
    var headerTimeout: TimeAmount
    /// A request body must arrive this soon after its head.
    var bodyTimeout: TimeAmount
    /// A keep-alive connection with no request in progress is closed after this long.
    var idleTimeout: TimeAmount
    /// Connections beyond this wait in the listen backlog until others close.
    var maxConnections: Int

    static let standard = ServerLimits(headerTimeout: .seconds(15), bodyTimeout: .seconds(30), idleTimeout: .seconds(60), maxConnections: 10_000)
}
