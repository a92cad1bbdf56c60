import CTelemetryShims
import Foundation
import Logging
import Synchronization

/// The opened data directory: locked, recovered, its day index loaded and the log replayed past it, the dedup
/// window refilled, and the writer and index applier running. `close()` is the one way to shut it down, for
/// the daemon and for tests alike.
public final class Storage: Sendable {
    public let configuration: TelemetryConfiguration
    let logger: Logger
    let now: @Sendable () -> Int64
    let lock: DataDirectoryLock
    public let metrics: TelemetryMetrics
    public let recovery: LogRecovery.Report
    public let indexReport: IndexLoader.Report
    let dedup: DedupCache
    let aggregates: AggregateStore
    let index: DayIndex
    let table: EventTable
    let countries: CountryDatabase?
    /// The file system calls behind every file the storage writes.
    let io: any FileIO
    let applier: IndexApplier
    let maintenance: LogMaintenanceService
    let writer: SegmentWriter
    let ingestor: EventIngestor
    let scans: ScanPool
    let queries = QueryThread()
    /// How far the log has been shipped to ClickHouse, with `--clickhouse-url`.
    let clickhouseCursor: ClickHouseCursor?

    /// Why the data directory could not be opened.
    public struct OpenError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Opens `configuration.dataDirectory`. `onFatal` runs (on the commit thread) when the log can no longer
    /// promise durability; the daemon exits there so that systemd restarts it and recovery runs.
    public static func open(
        _ configuration: TelemetryConfiguration, logger: Logger,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
        io: any FileIO = PosixFileIO(), metrics: TelemetryMetrics = TelemetryMetrics(), countries: CountryDatabase? = nil,
        onFatal: @escaping @Sendable (StorageError) -> Void = { _ in }
    ) throws -> Storage {
        let directory = configuration.dataDirectory
        let lock: DataDirectoryLock?
        do {
            lock = try DataDirectoryLock(directory: directory)
        } catch {
            throw OpenError(description: "cannot open data directory \(directory): \(error)")
        }
        guard let lock else { throw OpenError(description: "another telemetryd serve is using \(directory)") }
        do {
            return try Storage(configuration, lock: lock, logger: logger, now: now, io: io, metrics: metrics, countries: countries, onFatal: onFatal)
        } catch {
            lock.release()
            throw OpenError(description: "cannot open data directory \(directory): \(error)")
        }
    }

    private init(
        _ configuration: TelemetryConfiguration, lock: DataDirectoryLock, logger: Logger, now: @escaping @Sendable () -> Int64,
        io: any FileIO, metrics: TelemetryMetrics, countries: CountryDatabase?, onFatal: @escaping @Sendable (StorageError) -> Void
    ) throws {
        self.configuration = configuration
        self.lock = lock
        self.logger = logger
        self.now = now
        let directory = configuration.dataDirectory
        self.metrics = metrics
        self.io = io
        // Until the event table has loaded, large blocks (the columns and dictionaries growing while the raw log
        // is read) get mappings of their own, returned whole when they grow again, rather than heap that the
        // load's smaller, lasting allocations then pin (measured: RSS after the first load of 9.65 M events).
        telemetry_set_mapped_allocation_threshold(256 << 10)
        recovery = try LogRecovery(directory: directory, io: io, logger: logger).run()
        let dedup = DedupCache(windowSeconds: configuration.dedupWindowSeconds, maxIds: configuration.dedupMaxIds)
        self.dedup = dedup
        aggregates = try AggregateStore(dataDirectory: directory, io: io, logger: logger)
        index = DayIndex(hasher: SipHash(key: try aggregates.hashKey()))
        let dedupSnapshot = DedupSnapshot.read(from: aggregates)
        let openedAt = now()
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
        let table = EventTable(hasher: index.hasher, directory: directory)
        table.startLoading(EventTable.LoadPlan(directory: directory, nextSeq: indexReport.nextSeq, logger: logger), logger: logger)
        self.table = table
        let writerStats = WriterStats(metrics: metrics)
        let maintenance = LogMaintenanceService(
            directory: directory, io: io, retentionDays: configuration.rawRetentionDays, now: now, logger: logger,
            pacing: CompressionPacing(), committed: { writerStats.committedBatches },
            ready: { await table.waitUntilLoaded() }, isReady: { table.isLoaded }, onDelete: { table.dropSegments($0) })
        self.maintenance = maintenance
        for name in recovery.uncompressed { maintenance.enqueue(name) }
        self.countries = try countries ?? configuration.geoipDatabase.map { try CountryDatabase(path: $0) }
        applier = IndexApplier(index: index, table: table)
        writer = try SegmentWriter(
            options: .init(directory: directory, durability: configuration.durability, rotateBytes: configuration.rotateBytes, io: io),
            nextSeq: indexReport.nextSeq, now: now, logger: logger, observer: applier, stats: writerStats,
            onRotate: { maintenance.enqueue($0) }, onFatal: onFatal)
        ingestor = EventIngestor(writer: writer, dedup: dedup, stats: IngestStats(metrics: metrics), now: now)
        scans = ScanPool()
        // A new sink starts at the end of the log; `telemetryd clickhouse backfill` ships what came before.
        let end = index.position
        clickhouseCursor = try configuration.clickhouse.url.map { _ in try ClickHouseCursor(directory: directory, io: io, start: end) }
    }

    /// Finishes the batches handed over, closes the log, applies the last commits to the index, saves the dedup
    /// window and the aggregates, and releases the directory.
    public func close() {
        table.stopLoading()
        writer.close()
        applier.close()
        do {
            try DedupSnapshot.write(dedup, position: index.position, to: aggregates)
        } catch {
            logger.error("writing the dedup snapshot failed", metadata: ["error": "\(error)"])
        }
        flushAggregates()
        lock.release()
    }

    /// Writes the day aggregates that changed since the last flush.
    func flushAggregates() {
        do {
            try aggregates.flush(index)
        } catch {
            logger.error("writing day aggregates failed", metadata: ["error": "\(error)"])
        }
    }

    /// How requests read the index.
    var reader: IndexReader { IndexReader(index: index, table: table, applier: applier, thread: queries) }

    /// Erases a user everywhere with the writer paused, so the index stays in step with the log.
    public func eraseUser(_ userId: String) async throws -> Int {
        let eraser = UserEraser(directory: configuration.dataDirectory, index: index, table: table, store: aggregates, maintenance: maintenance, io: io, logger: logger)
        let applier = self.applier
        await table.waitUntilLoaded()
        let deleted = ErasedCount()
        let (cursor, index, directory) = (clickhouseCursor, self.index, configuration.dataDirectory)
        try await writer.withExclusiveAccess {
            applier.drain()
            try cursor?.prepareErasure(of: userId, directory: directory, activeSeq: index.position.seq)
            deleted.set(try eraser.erase(userId))
        }
        return deleted.value
    }
}

/// The count an erasure run on the commit thread hands back.
private final class ErasedCount: Sendable {
    private let count = Locked(0)
    func set(_ n: Int) { count.withLock { $0 = n } }
    var value: Int { count.withLock { $0 } }
}
