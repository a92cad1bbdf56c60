import Synchronization

/// Event counters of the public endpoint.
public final class IngestStats: Sendable {
    public struct Values: Sendable {
        public var accepted = 0
        public var ignored = 0
        public var duplicates = 0
        public var rejected = 0
    }

    private let values = Mutex(Values())
    let metrics: TelemetryMetrics?

    public init(metrics: TelemetryMetrics? = nil) { self.metrics = metrics }

    public var snapshot: Values { values.withLock { $0 } }

    func count(accepted: Int = 0, ignored: Int = 0, duplicates: Int = 0, rejected: Int = 0) {
        if let metrics {
            if accepted > 0 { metrics.eventsAccepted.increment(by: accepted) }
            if ignored > 0 { metrics.eventsIgnored.increment(by: ignored) }
            if duplicates > 0 { metrics.eventsDuplicates.increment(by: duplicates) }
            if rejected > 0 { metrics.eventsRejected.increment(by: rejected) }
        }
        values.withLock {
            $0.accepted += accepted
            $0.ignored += ignored
            $0.duplicates += duplicates
            $0.rejected += rejected
        }
    }
}
