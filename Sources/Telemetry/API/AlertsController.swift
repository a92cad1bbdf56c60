import Hummingbird

/// `GET /api/analytics/alerts`: the alerts active now (SPEC §4.3).
struct AlertsController: Sendable {
    let monitor: AlertMonitor
    let index: DayIndex
    let rollups: RollupStats
    let funnel: [String]
    let now: @Sendable () -> Int64

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.get("alerts") { _, _ in
            let alerts = monitor.active + trafficDrop() + slowRollup()
            return Response.json(JSONWriter.build { w in
                w.field("ok", true)
                w.key("alerts")
                w.array { w in
                    for a in alerts {
                        w.object { w in
                            w.field("kind", a.kind)
                            w.field("message", a.message)
                            w.field("since", Timestamp.secondsString(a.since))
                            w.key("value")
                            w.raw(String(a.value))
                            w.key("threshold")
                            w.raw(String(a.threshold))
                        }
                    }
                }
            })
        }
    }

    /// Yesterday under half the mean of the seven days before it (with at least 100 events a day to compare).
    func trafficDrop() -> [AlertMonitor.Alert] {
        let today = CivilDate(epochMilliseconds: now())
        let days = index.daily(end: today.adding(days: -1), days: 8, funnel: funnel)
        let yesterday = Double(days[7].events)
        let baseline = Double(days[0..<7].reduce(0) { $0 + $1.events }) / 7
        guard baseline >= 100, yesterday < baseline / 2 else { return [] }
        return [AlertMonitor.Alert(kind: "traffic_drop", message: "yesterday's events are under half the mean of the 7 days before",
                                   since: today.startMilliseconds, value: yesterday, threshold: baseline / 2)]
    }

    func slowRollup() -> [AlertMonitor.Alert] {
        let v = rollups.values.withLock { $0 }
        guard let at = v.lastSuccess, v.lastSeconds > 60 else { return [] }
        return [AlertMonitor.Alert(kind: "slow_rollup", message: "the last daily rollup took over 60 s", since: at, value: v.lastSeconds, threshold: 60)]
    }
}
