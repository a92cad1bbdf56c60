import Foundation
import Hummingbird

/// The keyed analytics endpoints over the day index (SPEC §4.2, §4.3).
struct UsageController: Sendable {
    let index: DayIndex
    let rollups: RollupStore
    let funnel: [String]
    let now: @Sendable () -> Int64

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.get("usage", use: usage)
        group.get("daily", use: daily)
        group.get("rollups", use: rollupHistory)
    }

    func parameters(_ request: Request) -> QueryParameters { QueryParameters(request: request, now: now()) }

    @Sendable func usage(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let q = parameters(request)
        let days = try q.integer("days", default: 30, 1...365)
        let top = try q.integer("top", default: 50, 1...1000)
        let end = try q.end()
        let report = index.usage(end: end, days: days, top: top, funnel: funnel)
        return .json(JSONWriter.build { w in
            w.field("ok", true)
            w.field("ts", Timestamp.secondsString(now()))
            Self.write(report, into: &w)
        })
    }

    @Sendable func daily(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let (end, days) = try parameters(request).window()
        let series = index.daily(end: end, days: days, funnel: funnel)
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
                        Self.writeCounts("funnel_steps", d.funnelSteps, &w)
                    }
                }
            }
        })
    }

    @Sendable func rollupHistory(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let q = parameters(request)
        let days = try q.integer("days", default: 30, 1...3650)
        let oldest = q.today.adding(days: -days)
        let lines = rollups.read().filter { $0.end >= oldest }
        return .json(#"{"ok":true,"rollups":["# + lines.map(\.text).joined(separator: ",") + "]}")
    }

    /// The fields shared by the usage answer and the rollup line.
    static func write(_ r: UsageReport, into w: inout JSONWriter) {
        w.field("period_days", r.periodDays)
        w.key("window")
        w.object { w in
            w.field("start", r.start.description)
            w.field("end", r.end.description)
        }
        w.key("dau")
        w.number(r.dau, places: 1)
        w.key("wau")
        w.number(r.wau, places: 1)
        w.field("mau", r.mau)
        writeCounts("feature_usage", r.featureUsage, &w)
        writeCounts("funnel_steps", r.funnelSteps, &w)
        w.field("total_events", r.totalEvents)
        w.field("unique_days", r.uniqueDays)
        w.field("unique_weeks", r.uniqueWeeks)
    }

    static func writeCounts(_ key: String, _ counts: [(String, Int)], _ w: inout JSONWriter) {
        w.key(key)
        w.object { w in for (name, n) in counts { w.field(name, n) } }
    }
}
