import Hummingbird

/// `GET /api/analytics/alerts`: the alerts active now (docs/api.md).
struct AlertsController: Sendable {
    let monitor: AlertMonitor

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.get("alerts") { _, context in
            let site = try context.requireSite().id
            return Response.json(JSONWriter.build { w in
                w.field("ok", true)
                w.key("alerts")
                w.array { w in
                    // The daemon's own alerts, and the site's (named only when the daemon has several).
                    for a in monitor.active where a.site == nil || a.site == site {
                        w.object { w in
                            w.field("kind", a.kind)
                            if let s = a.site { w.field("site", s) }
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
