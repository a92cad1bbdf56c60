/// Event counters of the public endpoint, forwarded to `/metrics`.
public struct IngestStats: Sendable {
    let metrics: TelemetryMetrics?

    public init(metrics: TelemetryMetrics? = nil) { self.metrics = metrics }

    func count(accepted: Int = 0, ignored: Int = 0, duplicates: Int = 0, rejected: Int = 0) {
        guard let metrics else { return }
        if accepted > 0 { metrics.eventsAccepted.increment(by: accepted) }
        if ignored > 0 { metrics.eventsIgnored.increment(by: ignored) }
        if duplicates > 0 { metrics.eventsDuplicates.increment(by: duplicates) }
        if rejected > 0 { metrics.eventsRejected.increment(by: rejected) }
    }
}
