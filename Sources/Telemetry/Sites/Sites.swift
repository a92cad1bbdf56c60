import Foundation
import Logging

/// Every site of the daemon, opened together and closed together (docs/sites.md). Without a sites file there
/// is one, `default`, in the data directory itself: exactly the single-site layout of earlier releases.
public final class Sites: Sendable {
    /// In the order of the sites file.
    public let all: [Site]
    public let configuration: TelemetryConfiguration
    public let metrics: TelemetryMetrics
    let access: SiteAccess
    let shareTokens: ShareTokenStore
    let countries: CountryDatabase?
    /// `--event-schemas`, shared by every site.
    let schemas: SchemaStore
    let now: @Sendable () -> Int64

    /// Opens every site's storage; when one fails, those already opened are closed again.
    public static func open(
        _ configuration: TelemetryConfiguration, logger: Logger,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
        io: any FileIO = PosixFileIO(),
        onFatal: @escaping @Sendable (StorageError) -> Void = { _ in }
    ) throws -> Sites {
        if !configuration.reportEmails.isEmpty && configuration.smtpURL == nil {
            throw ConfigurationError("--report-email needs --smtp-url (the relay the reports are mailed through)")
        }
        if configuration.clickhouse.querySource == .clickhouse && configuration.clickhouse.url == nil {
            throw ConfigurationError("--query-source clickhouse needs --clickhouse-url (the server to answer from)")
        }
        let metrics = TelemetryMetrics()
        let countries = try configuration.geoipDatabase.map { path in
            let database = try CountryDatabase(path: path)
            logger.info("country database loaded", metadata: ["type": "\(database.databaseType)"])
            return database
        }
        var opened: [Site] = []
        do {
            for definition in configuration.siteDefinitions {
                var siteLogger = logger
                if !configuration.sites.isEmpty { siteLogger[metadataKey: "site"] = "\(definition.id)" }
                let storage = try Storage.open(
                    configuration.forSite(definition), logger: siteLogger, now: now, io: io, metrics: metrics, countries: countries,
                    onFatal: onFatal)
                opened.append(Site(definition: definition, storage: storage, logger: siteLogger))
            }
        } catch {
            for site in opened { site.storage.close() }
            throw error
        }
        let sites = Sites(all: opened, configuration: configuration, metrics: metrics, countries: countries, now: now)
        if !sites.access.isEnabled {
            logger.warning("no dash key configured: the usage API answers 503 until one is set (--dash-key)")
        }
        return sites
    }

    /// The sites over storages opened elsewhere (tests that inject a file-system seam or a clock).
    init(all: [Site], configuration: TelemetryConfiguration, metrics: TelemetryMetrics, countries: CountryDatabase?,
         now: @escaping @Sendable () -> Int64) {
        self.all = all
        self.configuration = configuration
        self.metrics = metrics
        self.countries = countries
        self.now = now
        // Checked when the configuration was resolved; a file broken since then leaves no schemas.
        schemas = (try? SchemaStore(path: configuration.eventSchemas)) ?? (try! SchemaStore(path: nil))
        access = SiteAccess(adminKeys: configuration.dashKeys, sites: configuration.siteDefinitions)
        shareTokens = ShareTokenStore(dataDirectory: configuration.dataDirectory)
    }

    /// One site over one opened storage: what most tests build.
    public convenience init(storage: Storage, logger: Logger) {
        let configuration = storage.configuration
        self.init(
            all: [Site(definition: SiteDefinition(id: SiteDefinition.defaultID), storage: storage, logger: logger)],
            configuration: configuration, metrics: storage.metrics, countries: storage.countries, now: storage.now)
    }

    public func site(_ id: String) -> Site? { all.first { $0.id == id } }

    /// Where a batch without `"site"` goes, and what a key reading it reads without `site=`.
    var defaultSite: Site? { site(SiteDefinition.defaultID) }

    /// Decodes a batch before its site is known (decoding does not depend on the site).
    func decode(_ body: UnsafeBufferPointer<UInt8>, dimensions: RequestDimensions) throws(BatchError) -> DecodedBatch {
        try all[0].storage.ingestor.decode(body, dimensions: dimensions, schemas: schemas.schemas)
    }

    /// The ClickHouse sinks' lag summed over the sites (the oldest wait for seconds); nil without a sink.
    var clickhouseLag: ClickHouseSink.Lag? {
        let lags = all.compactMap { $0.sink?.currentLag }
        guard !lags.isEmpty else { return nil }
        return ClickHouseSink.Lag(
            events: lags.reduce(0) { $0 + $1.events }, bytes: lags.reduce(0) { $0 + $1.bytes }, seconds: lags.map(\.seconds).max() ?? 0)
    }

    /// True while every site's log accepts events.
    var isHealthy: Bool { all.allSatisfy { $0.storage.writer.isHealthy } }

    /// Closes every site's storage.
    public func close() {
        for site in all { site.storage.close() }
    }
}
