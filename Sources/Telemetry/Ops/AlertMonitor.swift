import Logging
import Synchronization

/// Watches what operators are paged for and logs each condition once per episode, at warning level:
/// event-endpoint storage failures over 1% of batches in 5 minutes, usage-query p95 over 500 ms in 5 minutes,
/// and what `AlertService` checks each minute (traffic drop, slow rollup). `active` feeds `/api/analytics/alerts`.
public final class AlertMonitor: Sendable {
    public struct Alert: Sendable, Equatable {
        public var kind: String
        /// The site a per-site condition (traffic drop, slow rollup) is about; nil for the daemon's own.
        public var site: String? = nil
        public var message: String
        public var since: Int64
        public var value: Double
        public var threshold: Double
    }

    struct Minute {
        var minute: Int64 = -1
        var batches = 0
        var failed = 0
        var queryMs: [Double] = []
    }

    struct State {
        var minutes = [Minute](repeating: Minute(), count: 5)
        var active: [String: Alert] = [:]
    }

    static let failureRatio = 0.01
    static let queryP95Ms = 500.0

    let now: @Sendable () -> Int64
    let logger: Logger
    private let state = Locked(State())
    private let listeners = Locked<[@Sendable (Bool, Alert) -> Void]>([])

    /// Calls `listener` with every alert that starts (true) or clears (false): the webhooks.
    func onChange(_ listener: @escaping @Sendable (Bool, Alert) -> Void) {
        listeners.withLock { $0.append(listener) }
    }

    public init(now: @escaping @Sendable () -> Int64, logger: Logger) {
        self.now = now
        self.logger = logger
    }

    /// An event-endpoint batch: stored, or failed for storage reasons (503).
    public func ingest(failed: Bool) {
        update(checkQueries: false) { m in
            m.batches += 1
            if failed { m.failed += 1 }
        }
    }

    public func query(milliseconds: Double) { update(checkIngest: false) { $0.queryMs.append(milliseconds) } }

    public var active: [Alert] { state.withLock { Array($0.active.values).sorted { $0.since < $1.since } } }

    /// Sets a condition checked elsewhere: it starts (logged) when it first fires, and ends (logged) when it stops.
    func set(kind: String, site: String? = nil, firing: Bool, value: Double, threshold: Double, since: Int64, message: String) {
        var events: [(Bool, Alert)] = []
        state.withLock { s in
            evaluate(&s, &events, kind: kind, site: site, firing: firing, value: value, threshold: threshold, at: since, message: message)
        }
        log(events)
    }

    /// Records into the current minute, then re-evaluates the conditions the change can affect.
    private func update(checkIngest: Bool = true, checkQueries: Bool = true, _ change: (inout Minute) -> Void) {
        let t = now()
        let minute = t / Milliseconds.minute
        var events: [(Bool, Alert)] = []
        state.withLock { s in
            let slot = Int(minute % 5)
            if s.minutes[slot].minute != minute { s.minutes[slot] = Minute(minute: minute) }
            change(&s.minutes[slot])
            let recent = s.minutes.filter { minute - $0.minute < 5 && $0.minute >= 0 }
            if checkIngest {
                let batches = recent.reduce(0) { $0 + $1.batches }
                let failed = recent.reduce(0) { $0 + $1.failed }
                let ratio = batches == 0 ? 0 : Double(failed) / Double(batches)
                evaluate(&s, &events, kind: "ingest_failures", firing: ratio > Self.failureRatio && failed > 0, value: ratio,
                         threshold: Self.failureRatio, at: t, message: "over 1% of event batches failed to store in the last 5 minutes")
            }
            if checkQueries {
                let times = recent.flatMap(\.queryMs).sorted()
                let p95 = times.isEmpty ? 0 : times[min(times.count - 1, Int(Double(times.count) * 0.95))]
                evaluate(&s, &events, kind: "slow_queries", firing: p95 > Self.queryP95Ms, value: p95,
                         threshold: Self.queryP95Ms, at: t, message: "usage query p95 over 500 ms in the last 5 minutes")
            }
        }
        log(events)
    }

    private func log(_ events: [(Bool, Alert)]) {
        let listeners = events.isEmpty ? [] : self.listeners.withLock { $0 }
        for (firing, alert) in events {
            for listener in listeners { listener(firing, alert) }
            if firing {
                logger.warning("alert", metadata: ["kind": "\(alert.kind)", "site": "\(alert.site ?? "-")", "value": "\(alert.value)", "threshold": "\(alert.threshold)", "message": "\(alert.message)"])
            } else {
                logger.info("alert resolved", metadata: ["kind": "\(alert.kind)"])
            }
        }
    }

    private func evaluate(_ s: inout State, _ events: inout [(Bool, Alert)], kind: String, site: String? = nil, firing: Bool,
                          value: Double, threshold: Double, at: Int64, message: String) {
        let key = site.map { "\(kind)/\($0)" } ?? kind
        if firing, s.active[key] == nil {
            let alert = Alert(kind: kind, site: site, message: message, since: at, value: value, threshold: threshold)
            s.active[key] = alert
            events.append((true, alert))
        } else if firing {
            s.active[key]?.value = value
        } else if let alert = s.active.removeValue(forKey: key) {
            events.append((false, alert))
        }
    }
}
