import Logging

/// One site the daemon serves: its storage (log, index, aggregates, rollups) and its daily rollup.
public final class Site: Sendable {
    public let id: String
    public let definition: SiteDefinition
    public let storage: Storage
    let rollups: RollupService
    let rollupStore: RollupStore
    let cors: CORSPolicy

    init(definition: SiteDefinition, storage: Storage, logger: Logger) {
        id = definition.id
        self.definition = definition
        self.storage = storage
        let configuration = storage.configuration
        rollupStore = RollupStore(dataDirectory: configuration.dataDirectory)
        rollups = RollupService(
            job: RollupJob(configuration: configuration), index: storage.index, store: rollupStore,
            aggregates: storage.aggregates, maintenance: storage.maintenance, now: storage.now,
            logger: logger, metrics: storage.metrics)
        cors = CORSPolicy(origins: configuration.corsOrigins)
    }

    var configuration: TelemetryConfiguration { storage.configuration }
    var reader: IndexReader { storage.reader }
    var funnel: [String] { storage.configuration.funnel }
}
