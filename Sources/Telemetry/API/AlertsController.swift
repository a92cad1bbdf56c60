import Hummingbird

/// `GET /api/analytics/alerts`: the alerts active now (docs/api.md).
struct AlertsController: Sendable {
    let monitor: AlertMonitor

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.get("alerts") { _, _ in
            Response.json(JSONWriter.build { w in
                w.field("ok", true)
                w.key("alerts")
                w.array { w in
                    for a in monitor.active {
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
}
