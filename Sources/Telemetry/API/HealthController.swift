import Hummingbird

/// `GET /health` (docs/api.md).
struct HealthController: Sendable {
    let sites: Sites
    let startedAt: ContinuousClock.Instant

    func addRoutes(to router: Router<TelemetryRequestContext>) {
        router.get("health") { _, _ in
            let uptime = startedAt.duration(to: .now).components.seconds
            let healthy = sites.isHealthy
            let body = JSONWriter.build { w in
                w.field("ok", healthy)
                w.field("version", TelemetryVersion.current)
                w.field("uptime_s", Int(uptime))
                if let lag = sites.clickhouseLag {
                    w.key("clickhouse")
                    w.object { w in
                        w.field("lag_events", lag.events)
                        w.field("lag_bytes", lag.bytes)
                        w.key("lag_seconds")
                        w.number(lag.seconds, places: 1)
                    }
                }
                if !healthy { w.field("error", "the event log is not writable") }
            }
            return Response.json(body, status: healthy ? .ok : .serviceUnavailable)
        }
    }
}

/// The daemon's version, as `--version` and `/health` report it.
public enum TelemetryVersion {
    public static let current = "0.1.0"
}
