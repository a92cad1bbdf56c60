/// The text of the statements telemetryd runs on ClickHouse, for `telemetryd clickhouse schema|sql` and
/// `scripts/clickhouse/` (a test keeps those files equal to this output).
public enum ClickHouseStatements {
    /// `CREATE TABLE` as the sink runs it on a server of `major` version.
    public static func schema(_ settings: ClickHouseSettings, major: Int) -> String {
        ClickHouseSchema.createTable(settings.qualifiedTable, .init(major: major))
    }

    /// The table and every query of the query source, with `{site}`, `{start}`, `{end}` (dates) and `{filter}`
    /// (the request's conditions, each `AND (…)`) where a request fills them in, and one example of each kind
    /// of filter condition.
    public static func listing(_ settings: ClickHouseSettings) -> String {
        let (start, end) = (CivilDate(iso: "2000-01-01")!.dayNumber, CivilDate(iso: "2000-01-30")!.dayNumber)
        let sql = ClickHouseSQL(table: settings.qualifiedTable, site: "\u{1}", filterMarker: "\u{2}")
        let plain = ClickHouseSQL(table: settings.qualifiedTable, site: "\u{1}")
        let scope = sql.scope(start, end, EventFilter())
        func text(_ statement: String) -> String {
            statement.replacingOccurrences(of: "'\u{1}'", with: "{site}")
                .replacingOccurrences(of: "toDate('2000-01-01')", with: "toDate({start})")
                .replacingOccurrences(of: "toDate('2000-01-30')", with: "toDate({end})")
                .replacingOccurrences(of: "\u{2}", with: "{filter}")
        }
        var out = "-- The events table, as telemetryd creates it on ClickHouse 19 and later (18.x: String for\n"
            + "-- LowCardinality(String), no deduplication window). Written by `telemetryd clickhouse sql`.\n"
        out += schema(settings, major: 26) + ";\n\n"
        let queries: [(String, String)] = [
            ("usage, daily, trends: events and users per date", sql.perDay(scope)),
            ("usage: users per ISO week (Monday) of the window", sql.perWeek(scope)),
            ("usage (mau), breakdown totals", sql.totals(scope)),
            ("usage: events per feature", sql.features(scope)),
            ("usage: events per type (funnel_steps)", sql.types(scope)),
            ("daily: events per date and type", sql.typesPerDay(scope)),
            ("daily: new users (first seen over every stored date up to the end)", sql.newUsersPerDay(scope)),
            ("hours: events per weekday and hour", sql.hours(scope)),
            ("features.csv", sql.featureUsers(scope)),
            ("breakdown by a column (here referrer); (other) is the totals query AND NOT (the listed values)",
             sql.grouped(.context(.referrer), scope)),
            ("breakdown by prop:plan", sql.grouped(.prop("plan"), scope)),
            ("breakdown by entry_page (exit_page: argMax)", sql.grouped(.entryPage, scope)),
            ("visits per date of their first event (days since 1970)", sql.visits(scope, perDay: true)),
            ("visits over the window", sql.visits(scope, perDay: false)),
            ("retention: users per cohort week and active week ({start} is the first cohort's Monday)", sql.retention(scope, firstWeek: start)),
        ]
        for (title, statement) in queries { out += "-- \(title)\n\(text(statement));\n\n" }
        out += "-- {filter}: one AND (…) per filter= condition, for example\n"
        let examples: [(String, [String])] = [
            ("filter=utm_source:google|bing", ["utm_source:google|bing"]), ("filter=referrer!:(none)", ["referrer!:(none)"]),
            ("filter=prop:plan:pro", ["prop:plan:pro"]), ("filter=entry_page:/pricing", ["entry_page:/pricing"]),
        ]
        for (title, texts) in examples {
            let filter = try! EventFilter(texts)
            out += "--   \(title): AND \(text(plain.condition(filter.conditions[0], scope)))\n"
        }
        out += "-- a user's lines (export): \(text(plain.userLines("{user}")))\n"
        return out
    }
}
