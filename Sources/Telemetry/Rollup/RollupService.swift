import Logging
import ServiceLifecycle
import Synchronization

/// Runs the daily rollup at the configured UTC time, catches up on start, and prunes what is past retention.
public final class RollupService: Service, Sendable {
    let job: RollupJob
    let index: DayIndex
    let store: RollupStore
    let aggregates: AggregateStore?
    let maintenance: LogMaintenanceService?
    let now: @Sendable () -> Int64
    let logger: Logger
    public let stats: RollupStats

    public init(
        job: RollupJob, index: DayIndex, store: RollupStore, aggregates: AggregateStore?, maintenance: LogMaintenanceService?,
        now: @escaping @Sendable () -> Int64, logger: Logger, metrics: TelemetryMetrics? = nil
    ) {
        self.stats = RollupStats(metrics: metrics)
        self.job = job
        self.index = index
        self.store = store
        self.aggregates = aggregates
        self.maintenance = maintenance
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        // Cancelled (a sibling service failed) as well as shut down: a cancelled sleep returns at once.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            runDue()
            // Wake at least every minute, so a stepped wall clock is noticed soon; due ends come from the file, never twice.
            let wait = min(job.untilNext(now: now()), Milliseconds.minute)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(wait)) }
        }
    }

    /// Rolls up every due `end` not yet in the file, then prunes. Returns the ends written.
    @discardableResult
    public func runDue() -> [CivilDate] {
        let started = ContinuousClock.now
        var written: [CivilDate] = []
        do {
            written = try store.locked {
                let ends = job.dueEnds(now: now(), newest: store.read().last?.end)
                for end in ends {
                    try store.upsert(job.line(index: index, end: end, now: now()), keepingFrom: oldestKept)
                }
                if ends.isEmpty { return [] }
                return ends
            }
        } catch {
            logger.error("rollup failed", metadata: ["error": "\(error)"])
            stats.failed()
            return []
        }
        guard !written.isEmpty else { return [] }
        prune()
        let elapsed = started.duration(to: .now)
        let seconds = elapsed.seconds
        stats.succeeded(at: now(), seconds: seconds)
        logger.info("rollup done", metadata: ["ends": "\(written.map(\.description).joined(separator: ","))", "seconds": "\(seconds)"])
        return written
    }

    var oldestKept: CivilDate { CivilDate(epochMilliseconds: now()).adding(days: -job.retentionDays) }

    /// Drops rollup lines, day aggregates and raw segments past their retention.
    func prune() {
        do {
            try store.locked { try store.upsert(nil, keepingFrom: oldestKept) }
            if index.prune(before: oldestKept) > 0 { try aggregates?.flush(index) }
        } catch {
            logger.error("rollup pruning failed", metadata: ["error": "\(error)"])
        }
        maintenance?.applyRetention()
    }
}

/// Rollup duration and last success, for `/metrics`.
public final class RollupStats: Sendable {
    struct Values {
        var lastSuccess: Int64?
        var lastSeconds = 0.0
        var failures = 0
    }

    let values = Locked(Values())
    let metrics: TelemetryMetrics?

    init(metrics: TelemetryMetrics?) { self.metrics = metrics }

    func succeeded(at: Int64, seconds: Double) {
        values.withLock { $0.lastSuccess = at; $0.lastSeconds = seconds }
        metrics?.rollupSeconds.recordNanoseconds(Int64(seconds * 1e9))
        metrics?.rollupLastSuccess.record(Double(at) / 1000)
    }

    func failed() {
        values.withLock { $0.failures += 1 }
        metrics?.rollupFailures.increment()
    }
}
