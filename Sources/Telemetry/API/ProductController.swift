import Hummingbird

/// Retention cohorts, funnels and experiments (docs/api.md).
struct ProductController: Sendable {
    let now: @Sendable () -> Int64

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.get("retention", use: retention)
        group.get("funnel", use: funnel)
        group.get("experiments/:name", use: experiment)
    }

    func parameters(_ request: Request) -> QueryParameters { QueryParameters(request: request, now: now()) }

    /// With `--query-source clickhouse`, the analyses ClickHouse does not answer yet say so (501) rather than
    /// answer from this instance's log alone, which holds only the events it received.
    static func refuseClickHouse(_ site: Site, _ what: String) throws {
        guard site.clickhouse != nil else { return }
        throw APIError(.notImplemented, "\(what) are not answered from ClickHouse yet; ask an instance running with --query-source index")
    }

    @Sendable func retention(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let site = try context.requireSite()
        let reader = site.reader
        let q = parameters(request)
        let weeks = try q.integer("weeks", default: 8, 1...52)
        let end = try q.end()
        let filter = try q.filter()
        let cohorts = if let clickhouse = site.clickhouse {
            try await clickhouse.retention(end: end, weeks: weeks, filter: filter)
        } else if filter.isEmpty {
            await reader.read { $0.retention(end: end, weeks: weeks) }
        } else {
            await reader.scan(filter) { $0.dayIndex($0.firstDate(orElse: end.dayNumber), end.dayNumber).retention(end: end, weeks: weeks) }
        }
        return .json(JSONWriter.build { w in
            w.field("ok", true)
            w.key("cohorts")
            w.array { w in
                for c in cohorts {
                    w.object { w in
                        w.field("week", c.weekStart.isoWeek)
                        w.field("start", c.weekStart.description)
                        w.field("users", c.users)
                        w.key("active")
                        w.raw("[" + c.active.map(String.init).joined(separator: ",") + "]")
                    }
                }
            }
        })
    }

    /// The window of a raw-log analysis: within raw retention, or 400.
    func rawWindow(_ q: QueryParameters, site: Site) throws -> (CivilDate, CivilDate) {
        let rawRetentionDays = site.configuration.rawRetentionDays
        let (end, days) = try q.window()
        guard days <= rawRetentionDays else {
            throw APIError(.badRequest, "days may not exceed the raw retention of \(rawRetentionDays) days for this analysis")
        }
        return (end.adding(days: -(days - 1)), end)
    }

    func step(_ text: String?, name: String) throws -> PathAnalysis.Step {
        guard let text, let step = PathAnalysis.Step(Substring(text)) else {
            throw APIError(.badRequest, "\(name) must be event_type or event_type:feature")
        }
        return step
    }

    @Sendable func funnel(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let site = try context.requireSite()
        try Self.refuseClickHouse(site, "funnels")
        let reader = site.reader
        let q = parameters(request)
        let texts = (request.uri.queryParameters["steps"].map(String.init) ?? "").split(separator: ",")
        let steps = texts.compactMap(PathAnalysis.Step.init)
        guard steps.count == texts.count, (2...8).contains(steps.count) else {
            throw APIError(.badRequest, "steps must be 2 to 8 comma separated event_type or event_type:feature")
        }
        let within = try q.integer("within", default: 86_400, 1...(365 * 86_400))
        let (start, end) = try rawWindow(q, site: site)
        let reached = await reader.scan(try q.filter()) {
            $0.funnel(steps, start.dayNumber, end.dayNumber, withinMs: Int64(within) * Milliseconds.second)
        }
        return .json(JSONWriter.build { w in
            w.field("ok", true)
            w.key("steps")
            w.array { w in
                for (step, users) in zip(steps, reached) {
                    w.object { w in
                        w.field("step", step.description)
                        w.field("users", users)
                        w.key("conversion")
                        w.number(reached[0] == 0 ? 0 : Double(users) / Double(reached[0]), places: 3)
                    }
                }
            }
        })
    }

    @Sendable func experiment(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let site = try context.requireSite()
        try Self.refuseClickHouse(site, "experiments")
        let reader = site.reader
        let q = parameters(request)
        let name = try context.parameters.decoded("name")
        let goal = try step(request.uri.queryParameters["goal"].map(String.init) ?? "conversion", name: "goal")
        let (start, end) = try rawWindow(q, site: site)
        let variants = await reader.scan(try q.filter()) { $0.experiment(name, goal: goal, start.dayNumber, end.dayNumber) }
        let control = variants.first { $0.name == "control" } ?? variants.first
        return .json(JSONWriter.build { w in
            w.field("ok", true)
            w.field("experiment", name)
            w.field("goal", goal.description)
            w.key("variants")
            w.array { w in
                for v in variants {
                    w.object { w in
                        w.field("variant", v.name)
                        w.field("users", v.users)
                        w.field("converted", v.converted)
                        w.key("rate"); w.number(v.rate, places: 4)
                        if let control, control.name != v.name {
                            let c = PathAnalysis.compare(v, to: control)
                            w.key("uplift"); w.number(c.uplift, places: 4)
                            w.key("relative_uplift"); c.relative.map { w.number($0, places: 4) } ?? w.raw("null")
                            w.key("ci95"); w.array { w in w.number(c.ci.0, places: 4); w.number(c.ci.1, places: 4) }
                            w.key("p_value"); w.number(c.p, places: 4)
                        }
                    }
                }
            }
        })
    }
}
