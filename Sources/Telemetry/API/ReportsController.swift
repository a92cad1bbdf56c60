import Hummingbird
import NIOCore

/// Trends, hours, live and the CSV exports (docs/api.md).
struct ReportsController: Sendable {
    let now: @Sendable () -> Int64

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.get("trends", use: trends)
        group.get("hours", use: hours)
        group.get("live", use: live)
        group.get("export.csv", use: exportCSV)
        group.get("features.csv", use: featuresCSV)
    }

    func window(_ request: Request) throws -> (end: CivilDate, days: Int, filter: EventFilter) {
        let q = QueryParameters(request: request, now: now())
        let (end, days) = try q.window()
        return (end, days, try q.filter())
    }

    @Sendable func trends(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let site = try context.requireSite()
        let reader = site.reader
        let (end, days, filter) = try window(request)
        // The 28-day averages and week-over-week changes reach 34 days before the window.
        let series = if let clickhouse = site.clickhouse {
            try await clickhouse.trends(end: end, days: days, filter: filter)
        } else if filter.isEmpty {
            await reader.read { $0.trends(end: end, days: days) }
        } else {
            await reader.scan(filter) { $0.dayIndex(end.dayNumber - days - 33, end.dayNumber).trends(end: end, days: days) }
        }
        return .json(JSONWriter.build { w in
            w.field("ok", true)
            w.key("days")
            w.array { w in
                for d in series {
                    w.object { w in
                        w.field("date", d.date.description)
                        w.field("users", d.users)
                        w.field("events", d.events)
                        w.key("users_avg28"); w.number(d.usersAverage28, places: 2)
                        w.key("events_avg28"); w.number(d.eventsAverage28, places: 2)
                        w.key("users_wow"); d.usersWeekOverWeek.map { w.number($0, places: 4) } ?? w.raw("null")
                        w.key("events_wow"); d.eventsWeekOverWeek.map { w.number($0, places: 4) } ?? w.raw("null")
                    }
                }
            }
        })
    }

    @Sendable func hours(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let site = try context.requireSite()
        let reader = site.reader
        let (end, days, filter) = try window(request)
        let grid = if let clickhouse = site.clickhouse {
            try await clickhouse.hours(end: end, days: days, filter: filter)
        } else if filter.isEmpty {
            await reader.read { $0.hours(end: end, days: days) }
        } else {
            await reader.scan(filter) { $0.dayIndex(end.dayNumber - days + 1, end.dayNumber).hours(end: end, days: days) }
        }
        return .json(#"{"ok":true,"hours":["# + grid.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",") + "]}")
    }

    @Sendable func live(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let site = try context.requireSite()
        let reader = site.reader
        let t = now()
        let live = await reader.read { $0.live(now: t) }
        return .json(JSONWriter.build { w in
            w.field("ok", true)
            w.field("ts", Timestamp.secondsString(t))
            w.field("events_5m", live.events5)
            w.field("users_5m", live.users5)
            w.key("per_minute")
            w.raw("[" + live.perMinute.map(String.init).joined(separator: ",") + "]")
        })
    }

    @Sendable func exportCSV(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let site = try context.requireSite()
        let (end, days, filter) = try window(request)
        let funnel = site.funnel
        var csv = CSV()
        csv.row(["date", "users", "new_users", "events"] + funnel)
        let series = try await site.daily(end: end, days: days, filter: filter)
        for d in series {
            let steps = Dictionary(d.funnelSteps, uniquingKeysWith: +)
            csv.row([d.date.description, String(d.users), String(d.newUsers), String(d.events)] + funnel.map { String(steps[$0] ?? 0) })
        }
        return csv.response(filename: "telemetry-daily.csv")
    }

    /// Events and distinct users per feature, from the event table (exact within raw retention); without a
    /// filter, the events come from the day index, exact for 365 days.
    @Sendable func featuresCSV(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let site = try context.requireSite()
        let reader = site.reader
        let (end, days, filter) = try window(request)
        let (start, last) = (end.dayNumber - days + 1, end.dayNumber)
        if let clickhouse = site.clickhouse {
            return Self.featuresCSV(try await clickhouse.features(start, last, filter: filter))
        }
        let features = await reader.scan(filter) { $0.features(start, last) }
        var rows = features
        if filter.isEmpty {
            let funnel = site.funnel
            let users = Dictionary(features.map { ($0.name, $0.users) }, uniquingKeysWith: max)
            let events = await reader.read { $0.usage(end: end, days: days, top: Int.max, funnel: funnel) }.featureUsage
            rows = events.map { (name: $0.0, events: $0.1, users: users[$0.0] ?? 0) }
        }
        return Self.featuresCSV(rows)
    }

    static func featuresCSV(_ rows: [(name: String, events: Int, users: Int)]) -> Response {
        var csv = CSV()
        csv.row(["feature", "events", "users"])
        for f in rows { csv.row([f.name, String(f.events), String(f.users)]) }
        return csv.response(filename: "telemetry-features.csv")
    }
}

/// RFC 4180 text, with cells that a spreadsheet would run as a formula neutralised.
struct CSV {
    var text = ""

    mutating func row(_ cells: [String]) {
        text += cells.map(Self.cell).joined(separator: ",") + "\r\n"
    }

    static func cell(_ value: String) -> String {
        var v = value
        if let first = v.first, "=+-@\t\r".contains(first) { v = "'" + v }
        guard v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return v }
        return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    func response(filename: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\""],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
