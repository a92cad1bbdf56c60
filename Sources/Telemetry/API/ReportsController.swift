import Hummingbird
import NIOCore

/// Trends, hours, live and the CSV exports (docs/api.md).
struct ReportsController: Sendable {
    let reader: IndexReader
    let scans: ScanPool
    let dataDirectory: String
    let funnel: [String]
    let now: @Sendable () -> Int64

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.get("trends", use: trends)
        group.get("hours", use: hours)
        group.get("live", use: live)
        group.get("export.csv", use: exportCSV)
        group.get("features.csv", use: featuresCSV)
    }

    func window(_ request: Request) throws -> (end: CivilDate, days: Int) {
        try QueryParameters(request: request, now: now()).window()
    }

    @Sendable func trends(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let (end, days) = try window(request)
        let series = await reader.read { $0.trends(end: end, days: days) }
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
        let (end, days) = try window(request)
        let grid = await reader.read { $0.hours(end: end, days: days) }
        return .json(#"{"ok":true,"hours":["# + grid.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",") + "]}")
    }

    @Sendable func live(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
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
        let (end, days) = try window(request)
        var csv = CSV()
        csv.row(["date", "users", "new_users", "events"] + funnel)
        let series = await reader.read { $0.daily(end: end, days: days, funnel: funnel) }
        for d in series {
            let steps = Dictionary(d.funnelSteps, uniquingKeysWith: +)
            csv.row([d.date.description, String(d.users), String(d.newUsers), String(d.events)] + funnel.map { String(steps[$0] ?? 0) })
        }
        return csv.response(filename: "telemetry-daily.csv")
    }

    /// Events per feature from the index; users per feature from the raw segments (exact within raw retention).
    @Sendable func featuresCSV(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let (end, days) = try window(request)
        let start = end.adding(days: -(days - 1))
        let events = await reader.read { $0.usage(end: end, days: days, top: Int.max, funnel: funnel) }.featureUsage
        let users = try await scans.answer(request) { [dataDirectory] cancellation in
            try FeatureUsers(dataDirectory: dataDirectory, cancellation: cancellation).count(start: start, end: end)
        }
        var csv = CSV()
        csv.row(["feature", "events", "users"])
        for (feature, count) in events { csv.row([feature, String(count), String(users[feature] ?? 0)]) }
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
