import ServiceLifecycle

/// Checks the conditions that only change over days (a traffic drop, a slow rollup) once a minute, so they are
/// logged when they start and end whether or not anyone asks `/api/analytics/alerts`.
public struct AlertService: Service {
    let monitor: AlertMonitor
    /// The site whose traffic and rollups this service watches; nil when the daemon has only one.
    let site: String?
    let index: DayIndex
    let rollups: RollupStats
    let funnel: [String]
    let now: @Sendable () -> Int64
    static let interval = Duration.seconds(60)
    static let slowRollupSeconds = 60.0

    public func run() async throws {
        // Cancelled (a sibling service failed) as well as shut down: a cancelled sleep returns at once.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            check()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.interval) }
        }
    }

    func check() {
        let today = CivilDate(epochMilliseconds: now())
        // Yesterday under half the mean of the seven days before it (with at least 100 events a day to compare).
        let days = index.daily(end: today.adding(days: -1), days: 8, funnel: funnel)
        let yesterday = Double(days[7].events)
        let baseline = Double(days[0..<7].reduce(0) { $0 + $1.events }) / 7
        monitor.set(
            kind: "traffic_drop", site: site, firing: baseline >= 100 && yesterday < baseline / 2, value: yesterday, threshold: baseline / 2,
            since: today.startMilliseconds, message: "yesterday's events are under half the mean of the 7 days before")
        let rollup = rollups.values.withLock { $0 }
        monitor.set(
            kind: "slow_rollup", site: site, firing: rollup.lastSuccess != nil && rollup.lastSeconds > Self.slowRollupSeconds,
            value: rollup.lastSeconds, threshold: Self.slowRollupSeconds, since: rollup.lastSuccess ?? now(),
            message: "the last daily rollup took over 60 s")
    }
}
