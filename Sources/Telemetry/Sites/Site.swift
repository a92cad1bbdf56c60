import Logging

/// One site the daemon serves: its storage (log, index, aggregates, rollups) and its daily rollup.
public final class Site: Sendable {
    public let id: String
    public let definition: SiteDefinition
    public let storage: Storage
    let rollups: RollupService
    let rollupStore: RollupStore
    let cors: CORSPolicy
    /// Ships the site's log to ClickHouse, with `--clickhouse-url`.
    let sink: ClickHouseSink?
    /// Answers the keyed API from ClickHouse, with `--query-source clickhouse`.
    let clickhouse: ClickHouseQueries?

    init(definition: SiteDefinition, storage: Storage, logger: Logger) {
        id = definition.id
        self.definition = definition
        self.storage = storage
        let configuration = storage.configuration
        rollupStore = RollupStore(dataDirectory: configuration.dataDirectory, io: storage.io)
        rollups = RollupService(
            job: RollupJob(configuration: configuration), index: storage.index, store: rollupStore,
            aggregates: storage.aggregates, maintenance: storage.maintenance, now: storage.now,
            logger: logger, metrics: storage.metrics)
        cors = CORSPolicy(origins: configuration.corsOrigins)
        // One client per site, shut down by its sink when the daemon stops (after the HTTP server).
        let client = configuration.clickhouse.url.map { _ in ClickHouseClient(settings: configuration.clickhouse) }
        if let client, let cursor = storage.clickhouseCursor {
            sink = ClickHouseSink(site: definition.id, storage: storage, client: client, cursor: cursor, logger: logger)
        } else {
            sink = nil
        }
        clickhouse = client.flatMap { configuration.clickhouse.querySource == .clickhouse ? ClickHouseQueries(site: definition.id, client: $0) : nil }
    }

    var configuration: TelemetryConfiguration { storage.configuration }
    var reader: IndexReader { storage.reader }
    var funnel: [String] { storage.configuration.funnel }

    /// The daily series (docs/api.md) from the site's query source.
    func daily(end: CivilDate, days: Int, filter: EventFilter) async throws -> [DailyFigures] {
        if let clickhouse { return try await clickhouse.daily(end: end, days: days, funnel: funnel, filter: filter) }
        return await reader.daily(end: end, days: days, funnel: funnel, filter: filter)
    }
}
