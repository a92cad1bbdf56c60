import Synchronization

/// What the log reports about itself: read by tests and the health check, forwarded to `/metrics`.
public final class WriterStats: Sendable {
    struct Values {
        var commits = 0
        var committedBatches = 0
    }

    let values = Locked(Values())
    let metrics: TelemetryMetrics?

    public init(metrics: TelemetryMetrics? = nil) { self.metrics = metrics }

    func setActiveBytes(_ n: Int) {
        metrics?.activeSegmentBytes.record(n)
    }

    func recordSync(nanoseconds: UInt64) {
        metrics?.fsyncSeconds.recordNanoseconds(Int64(nanoseconds))
    }

    func recordCommit(batches: Int, nanoseconds: UInt64) {
        metrics?.commitBatches.record(batches)
        values.withLock { v in
            v.commits += 1
            v.committedBatches += batches
        }
    }

    func batchFailed(reason: String, count: Int) {
        metrics?.batchFailed(reason: reason, count: count)
    }

    public var commits: Int { values.withLock { $0.commits } }
    public var committedBatches: Int { values.withLock { $0.committedBatches } }
}
