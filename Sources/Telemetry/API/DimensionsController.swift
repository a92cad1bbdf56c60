import Hummingbird

/// Breakdowns and visits over the event table (docs/dimensions.md).
struct DimensionsController: Sendable {
    let now: @Sendable () -> Int64

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.get("breakdown", use: breakdown)
        group.get("visits", use: visits)
    }

    @Sendable func breakdown(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let site = try context.requireSite()
        let q = QueryParameters(request: request, now: now())
        guard let by = request.uri.queryParameters["by"] else {
            throw APIError(.badRequest, "by is required: one of \(Dimension.names.joined(separator: ", "))")
        }
        guard let dimension = Dimension(name: by) else {
            throw APIError(.badRequest, "unknown dimension \"\(by)\" for by; use one of \(Dimension.names.joined(separator: ", "))")
        }
        let (end, days) = try q.window()
        let top = try q.integer("top", default: 50, 1...1000)
        let filter = try q.filter()
        let compare: Bool
        switch request.uri.queryParameters["compare"] {
        case nil: compare = false
        case "previous": compare = true
        case let other?: throw APIError(.badRequest, "compare must be previous, not \"\(other)\"")
        }
        let (start, last) = (end.dayNumber - days + 1, end.dayNumber)
        let previous = compare ? (start - days, start - 1) : nil
        let result = if let clickhouse = site.clickhouse {
            try await clickhouse.breakdown(dimension, start, last, top: top, previous: previous, filter: filter)
        } else {
            await site.reader.scan(filter) { t in t.breakdown(dimension, start, last, top: top, previous: previous) }
        }
        return .json(JSONWriter.build { w in
            w.field("ok", true)
            w.field("by", dimension.description)
            Self.window(start, last, &w)
            w.key("total")
            Self.counts(result.total, &w)
            w.key("values")
            w.array { w in
                for row in result.rows {
                    w.object { w in
                        w.key("value")
                        if let value = row.value { w.string(value) } else { w.raw("null") }
                        w.field("events", row.counts.events)
                        w.field("users", row.counts.users)
                        w.field("visits", row.counts.visits)
                        w.key("share")
                        w.number(result.total.users == 0 ? 0 : Double(row.counts.users) / Double(result.total.users), places: 4)
                        if let previous = row.previous {
                            w.key("previous")
                            Self.counts(previous, &w)
                            w.key("change")
                            if previous.users == 0 {
                                w.raw("null")
                            } else {
                                w.number(Double(row.counts.users - previous.users) / Double(previous.users), places: 4)
                            }
                        }
                    }
                }
            }
        })
    }

    @Sendable func visits(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let site = try context.requireSite()
        let q = QueryParameters(request: request, now: now())
        let (end, days) = try q.window()
        let (start, last) = (end.dayNumber - days + 1, end.dayNumber)
        let filter = try q.filter()
        let result = if let clickhouse = site.clickhouse {
            try await clickhouse.visits(start, last, filter: filter)
        } else {
            await site.reader.scan(filter) { $0.visits(start, last) }
        }
        return .json(JSONWriter.build { w in
            w.field("ok", true)
            Self.window(start, last, &w)
            w.key("total")
            Self.figures(result.total, &w)
            w.key("days")
            w.array { w in
                for (day, figures) in result.days {
                    w.object { w in
                        w.field("date", CivilDate(dayNumber: day).description)
                        Self.fields(figures, &w)
                    }
                }
            }
        })
    }

    static func window(_ start: Int, _ end: Int, _ w: inout JSONWriter) {
        w.key("window")
        w.object { w in
            w.field("start", CivilDate(dayNumber: start).description)
            w.field("end", CivilDate(dayNumber: end).description)
        }
    }

    static func counts(_ c: BreakdownCounts, _ w: inout JSONWriter) {
        w.object { w in
            w.field("events", c.events)
            w.field("users", c.users)
            w.field("visits", c.visits)
        }
    }

    static func figures(_ f: VisitFigures, _ w: inout JSONWriter) {
        w.object { w in fields(f, &w) }
    }

    static func fields(_ f: VisitFigures, _ w: inout JSONWriter) {
        w.field("visits", f.visits)
        w.key("bounce_rate"); w.number(f.bounceRate, places: 4)
        w.key("duration_mean_s"); w.number(f.durationMeanSeconds, places: 1)
        w.key("duration_median_s"); w.number(f.durationMedianSeconds, places: 1)
        w.key("pages_per_visit"); w.number(f.pagesPerVisit, places: 2)
    }
}
