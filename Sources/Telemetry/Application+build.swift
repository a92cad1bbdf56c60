import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// The daemon: opens every site's data directory and serves them until SIGTERM or SIGINT.
public func buildApplication(_ configuration: TelemetryConfiguration, logger: Logger) throws -> some ApplicationProtocol {
    // SIGHUP reloads the event schemas once the services run; until then it must not stop the daemon.
    signal(SIGHUP, SIG_IGN)
    let sites = try Sites.open(configuration, logger: logger, onFatal: { error in
        // The log's state is unknown after a failed fsync: exit so systemd restarts us and recovery runs.
        logger.critical("stopping: the event log failed", metadata: ["error": "\(error)"])
        Thread.sleep(forTimeInterval: 0.2)
        exit(70)
    })
    return buildApplication(sites: sites, logger: logger, onServerRunning: { port in
        logger.info("listening", metadata: [
            "host": "\(configuration.host)", "port": "\(port)", "data_dir": "\(configuration.dataDirectory)", "sites": "\(sites.all.count)",
        ])
    })
}

/// The HTTP server over one opened storage (the single-site daemon most tests run).
func buildApplication(
    storage: Storage, logger: Logger, limits: ServerLimits = .standard,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    buildApplication(sites: Sites(storage: storage, logger: logger), logger: logger, limits: limits, onServerRunning: onServerRunning)
}

/// The HTTP server over opened sites, with the background services. Services stop in reverse order:
/// the server first, then the watchdog, alerts, rollups and compression, and the storages last.
func buildApplication(
    sites: Sites, logger: Logger, limits: ServerLimits = .standard,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let configuration = sites.configuration
    let alerts = AlertMonitor(now: sites.now, logger: logger)
    var app = Application(
        router: buildRouter(sites: sites, alerts: alerts),
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
    // Storages first, so they stop last.
    for site in sites.all { app.addServices(StorageService(storage: site.storage)) }
    for site in sites.all {
        let storage = site.storage
        app.addServices(
            storage.maintenance, site.rollups,
            AlertService(
                monitor: alerts, site: sites.all.count > 1 ? site.id : nil, index: storage.index, rollups: site.rollups.stats,
                funnel: storage.configuration.funnel, now: storage.now))
    }
    for site in sites.all { if let sink = site.sink { app.addServices(sink) } }
    app.addServices(SchemaReloadService(store: sites.schemas, logger: logger))
    let outbox = Outbox(dataDirectory: configuration.dataDirectory)
    let reporter = Reporter(sites: sites, outbox: outbox, logger: logger)
    if reporter.isEnabled {
        alerts.onChange { started, alert in reporter.alert(started: started, alert) }
        app.addServices(reporter)
    }
    // The outbox may hold messages from before a restart even when reports are now switched off.
    app.addServices(DeliveryService(
        outbox: outbox, smtp: configuration.smtpURL.flatMap { SMTPClient(url: $0, from: configuration.reportFrom) },
        metrics: sites.metrics, logger: logger, now: sites.now))
    if let notifier = SystemdNotifier() {
        app.addServices(SystemdService(
            notifier: notifier, watchdog: SystemdNotifier.watchdogInterval(), isHealthy: { sites.isHealthy }, logger: logger))
    }
    return app
}

/// Every route: the public event endpoint, health, metrics and static files, and the keyed analytics API.
func buildRouter(sites: Sites, alerts: AlertMonitor) -> Router<TelemetryRequestContext> {
    let configuration = sites.configuration
    let now = sites.now
    let router = Router(context: TelemetryRequestContext.self)
    router.add(middleware: RequestMetricsMiddleware(metrics: sites.metrics, alerts: alerts))
    router.add(middleware: ErrorMiddleware())
    EventController(
        sites: sites, rateLimiter: RateLimiter(perSecond: configuration.rateLimit),
        clients: ClientAddress(trustedProxies: Set(configuration.trustedProxies)),
        cors: CORSPolicy(union: sites.all.map(\.cors)),
        dimensions: DimensionSource(enabled: configuration.deriveDimensions, countries: sites.countries),
        bots: BotFilter(keep: configuration.keepBots, maxPerSecond: configuration.botSessionRate, metrics: sites.metrics), now: now
    ).addRoutes(to: router)
    HealthController(sites: sites, startedAt: .now).addRoutes(to: router)
    MetricsController(sites: sites).addRoutes(to: router)
    StaticController(files: StaticFiles(directory: configuration.staticDirectory)).addRoutes(to: router)
    let keyed = router.group("api/analytics").add(middleware: SiteAccessMiddleware(sites: sites))
    SitesController(sites: sites).addRoutes(to: keyed)
    ShareController(sites: sites).addRoutes(to: keyed)
    SchemasController(store: sites.schemas).addRoutes(to: keyed)
    ImportController(sessions: ImportSessions(now: now)).addRoutes(to: keyed)
    UsageController(now: now).addRoutes(to: keyed)
    ReportsController(now: now).addRoutes(to: keyed)
    DimensionsController(now: now).addRoutes(to: keyed)
    UsersController().addRoutes(to: keyed)
    ProductController(now: now).addRoutes(to: keyed)
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
