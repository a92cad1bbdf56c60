import CoreMetrics
import Prometheus
import Synchronization

/// Every metric the daemon exports, created from an injected factory (never the global metrics system),
/// so each app and each test has its own registry. Names are documented in the README.
public final class TelemetryMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: any MetricsFactory

    let eventsAccepted: CoreMetrics.Counter
    let eventsIgnored: CoreMetrics.Counter
    let eventsRejected: CoreMetrics.Counter
    let eventsDuplicates: CoreMetrics.Counter
    let fsyncSeconds: CoreMetrics.Timer
    let commitBatches: CoreMetrics.Recorder
    let activeSegmentBytes: CoreMetrics.Gauge
    let rollupSeconds: CoreMetrics.Timer
    let rollupLastSuccess: CoreMetrics.Gauge
    let rollupFailures: CoreMetrics.Counter
    let segments: CoreMetrics.Gauge
    let indexUsers: CoreMetrics.Gauge
    let indexDays: CoreMetrics.Gauge
    let indexMemoryBytes: CoreMetrics.Gauge
    let tableEvents: CoreMetrics.Gauge
    let tableMemoryBytes: CoreMetrics.Gauge
    let tableFileBytes: CoreMetrics.Gauge
    let dedupIds: CoreMetrics.Gauge
    /// Request timers by route, method and status: made once, not on every request.
    private let requestTimers = Locked([String: CoreMetrics.Timer]())

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var prometheus = PrometheusMetricsFactory(registry: registry)
        prometheus.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(5), .seconds(30), .seconds(60),
        ]
        prometheus.valueHistogramBuckets["telemetry_commit_batches"] = [1, 2, 4, 8, 16, 32, 64, 128, 256]
        let factory: any MetricsFactory = prometheus
        self.factory = factory
        eventsAccepted = CoreMetrics.Counter(label: "telemetry_events_accepted_total", factory: factory)
        eventsIgnored = CoreMetrics.Counter(label: "telemetry_events_ignored_total", factory: factory)
        eventsRejected = CoreMetrics.Counter(label: "telemetry_events_rejected_total", factory: factory)
        eventsDuplicates = CoreMetrics.Counter(label: "telemetry_events_duplicates_total", factory: factory)
        fsyncSeconds = CoreMetrics.Timer(label: "telemetry_fsync_seconds", factory: factory)
        commitBatches = CoreMetrics.Recorder(label: "telemetry_commit_batches", aggregate: true, factory: factory)
        activeSegmentBytes = CoreMetrics.Gauge(label: "telemetry_active_segment_bytes", factory: factory)
        rollupSeconds = CoreMetrics.Timer(label: "telemetry_rollup_duration_seconds", factory: factory)
        rollupLastSuccess = CoreMetrics.Gauge(label: "telemetry_rollup_last_success_timestamp_seconds", factory: factory)
        rollupFailures = CoreMetrics.Counter(label: "telemetry_rollup_failures_total", factory: factory)
        segments = CoreMetrics.Gauge(label: "telemetry_segments", factory: factory)
        indexUsers = CoreMetrics.Gauge(label: "telemetry_index_users", factory: factory)
        indexDays = CoreMetrics.Gauge(label: "telemetry_index_days", factory: factory)
        indexMemoryBytes = CoreMetrics.Gauge(label: "telemetry_index_memory_bytes", factory: factory)
        tableEvents = CoreMetrics.Gauge(label: "telemetry_event_table_events", factory: factory)
        tableMemoryBytes = CoreMetrics.Gauge(label: "telemetry_event_table_memory_bytes", factory: factory)
        tableFileBytes = CoreMetrics.Gauge(label: "telemetry_event_table_file_bytes", factory: factory)
        dedupIds = CoreMetrics.Gauge(label: "telemetry_dedup_ids", factory: factory)
    }

    func batchFailed(reason: String, count: Int = 1) {
        CoreMetrics.Counter(label: "telemetry_batches_failed_total", dimensions: [("reason", reason)], factory: factory).increment(by: count)
    }

    func request(route: String, method: String, status: Int, nanoseconds: Int64) {
        let key = "\(route) \(method) \(status)"
        let timer = requestTimers.withLock { timers in
            if let timer = timers[key] { return timer }
            let timer = CoreMetrics.Timer(label: "telemetry_request_duration_seconds",
                                          dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory)
            timers[key] = timer
            return timer
        }
        timer.recordNanoseconds(nanoseconds)
    }

    /// The Prometheus text exposition.
    public func render() -> [UInt8] { registry.emitToBuffer() }
}
