import Hummingbird

/// The keyed analytics endpoints over the day index (docs/api.md).
struct UsageController: Sendable {
    let now: @Sendable () -> Int64

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.get("usage", use: usage)
        group.get("daily", use: daily)
        group.get("rollups", use: rollupHistory)
    }

    func parameters(_ request: Request) -> QueryParameters { QueryParameters(request: request, now: now()) }

    @Sendable func usage(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let site = try context.requireSite()
        let reader = site.reader
        let q = parameters(request)
        let days = try q.integer("days", default: 30, 1...365)
        let top = try q.integer("top", default: 50, 1...1000)
        let end = try q.end()
        let filter = try q.filter()
        let funnel = site.funnel
        let report = if let clickhouse = site.clickhouse {
            try await clickhouse.usage(end: end, days: days, top: top, funnel: funnel, filter: filter)
        } else if filter.isEmpty {
            await reader.read { $0.usage(end: end, days: days, top: top, funnel: funnel) }
        } else {
            await reader.scan(filter) { t in
                t.dayIndex(end.dayNumber - days + 1, end.dayNumber).usage(end: end, days: days, top: top, funnel: funnel)
            }
        }
        return .json(JSONWriter.build { w in
            w.field("ok", true)
            w.field("ts", Timestamp.secondsString(now()))
            report.write(into: &w)
        })
    }

    @Sendable func daily(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let site = try context.requireSite()
        let q = parameters(request)
        let (end, days) = try q.window()
        let series = try await site.daily(end: end, days: days, filter: try q.filter())
        return .json(JSONWriter.build { w in
            w.field("ok", true)
            w.key("days")
            w.array { w in
                for d in series {
                    w.object { w in
                        w.field("date", d.date.description)
                        w.field("users", d.users)
                        w.field("new_users", d.newUsers)
                        w.field("events", d.events)
                        w.counts("funnel_steps", d.funnelSteps)
                    }
                }
            }
        })
    }

    @Sendable func rollupHistory(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let site = try context.requireSite()
        let q = parameters(request)
        let days = try q.integer("days", default: 30, 1...3650)
        let oldest = q.today.adding(days: -days)
        let lines = site.rollupStore.read().filter { $0.end >= oldest }
        return .json(#"{"ok":true,"rollups":["# + lines.map(\.text).joined(separator: ",") + "]}")
    }
}
