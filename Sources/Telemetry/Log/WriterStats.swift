import Synchronization

/// Counters and histograms of the log, read by `/metrics` and the health check.
public final class WriterStats: Sendable {
    struct Values {
        var activeBytes = 0
        var commits = 0
        var committedBatches = 0
        var syncCount = 0
        var syncNanos: UInt64 = 0
        var syncBuckets = [Int](repeating: 0, count: WriterStats.syncBounds.count)
        var commitSizeBuckets = [Int](repeating: 0, count: WriterStats.commitSizeBounds.count)
        var failedBatches: [String: Int] = [:]
    }

    static let syncBounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, .infinity]
    static let commitSizeBounds: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, .infinity]

    let values = Mutex(Values())
    let metrics: TelemetryMetrics?

    public init(metrics: TelemetryMetrics? = nil) { self.metrics = metrics }

    func setActiveBytes(_ n: Int) {
        values.withLock { $0.activeBytes = n }
        metrics?.activeSegmentBytes.record(n)
    }

    func recordSync(nanoseconds: UInt64) {
        metrics?.fsyncSeconds.recordNanoseconds(Int64(nanoseconds))
        let seconds = Double(nanoseconds) / 1e9
        values.withLock { v in
            v.syncCount += 1
            v.syncNanos += nanoseconds
            if let i = Self.syncBounds.firstIndex(where: { seconds <= $0 }) { v.syncBuckets[i] += 1 }
        }
    }

    func recordCommit(batches: Int, nanoseconds: UInt64) {
        metrics?.commitBatches.record(batches)
        values.withLock { v in
            v.commits += 1
            v.committedBatches += batches
            if let i = Self.commitSizeBounds.firstIndex(where: { Double(batches) <= $0 }) { v.commitSizeBuckets[i] += 1 }
        }
    }

    func batchFailed(reason: String, count: Int) {
        values.withLock { $0.failedBatches[reason, default: 0] += count }
        metrics?.batchFailed(reason: reason, count: count)
    }

    public var activeBytes: Int { values.withLock { $0.activeBytes } }
    public var commits: Int { values.withLock { $0.commits } }
    public var committedBatches: Int { values.withLock { $0.committedBatches } }
}
