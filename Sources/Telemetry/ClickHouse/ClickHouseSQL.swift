/// The statements behind `ClickHouseQueries` (docs/clickhouse.md; `scripts/clickhouse/queries.sql` lists them,
/// written by `telemetryd clickhouse sql`). Every one reads `table FINAL` restricted to one site, a range of
/// dates and the request's filters; users are distinct non-empty `user_id`s, visits distinct non-empty
/// `session_id`s, counted exactly.
struct ClickHouseSQL: Sendable {
    let table: String
    let site: String
    /// Written where the filter's conditions end (`telemetryd clickhouse sql` marks the place).
    var filterMarker = ""

    /// Which events a statement reads: a site's events of the dates `start...end` matching `filter`.
    struct Scope {
        var start: Int
        var end: Int
        var filter: EventFilter
        /// Entry and exit pages come from the visits' events of `start...end`; false: of every date up to `end`
        /// (daily and retention, which the index computes over its whole history).
        var pagesFromStart = true
    }

    func scope(_ start: Int, _ end: Int, _ filter: EventFilter, pagesFromStart: Bool = true) -> Scope {
        Scope(start: start, end: end, filter: filter, pagesFromStart: pagesFromStart)
    }

    static let users = "uniqExactIf(user_id, user_id != '')"
    static let visits = "uniqExactIf(session_id, session_id != '')"

    func date(_ n: Int) -> String { "toDate('\(CivilDate(dayNumber: n))')" }

    /// `FROM … WHERE …` of the scope; `from: nil` reads every date up to the scope's end.
    func source(_ s: Scope, from start: Int?? = .none) -> String {
        let first = start ?? s.start
        var text = "FROM \(table) FINAL WHERE site = \(ClickHouseClient.literal(site))"
        text += first.map { " AND date >= \(date($0))" } ?? ""
        text += " AND date <= \(date(s.end))"
        for condition in s.filter.conditions { text += " AND " + self.condition(condition, s) }
        return text + filterMarker
    }

    func perDay(_ s: Scope) -> String {
        "SELECT toString(date) AS day, count() AS events, \(Self.users) AS users \(source(s)) GROUP BY date ORDER BY day"
    }

    func perWeek(_ s: Scope) -> String {
        "SELECT toString(toMonday(date)) AS week, count() AS events, \(Self.users) AS users \(source(s)) GROUP BY week ORDER BY week"
    }

    func totals(_ s: Scope) -> String {
        "SELECT count() AS events, \(Self.users) AS users, \(Self.visits) AS visits \(source(s))"
    }

    /// The totals of the events whose value of `excluding.0` is none of `excluding.1` (a breakdown's `(other)`).
    func totals(_ s: Scope, excluding: (Dimension, [String?])) -> String {
        "SELECT count() AS events, \(Self.users) AS users, \(Self.visits) AS visits "
            + "\(source(s)) AND NOT (\(matches(excluding.0, excluding.1, s)))"
    }

    func features(_ s: Scope) -> String {
        "SELECT feature AS name, count() AS events \(source(s)) AND feature != '' GROUP BY feature"
    }

    func featureUsers(_ s: Scope) -> String {
        "SELECT feature AS name, count() AS events, \(Self.users) AS users \(source(s)) AND feature != '' GROUP BY feature"
    }

    func types(_ s: Scope) -> String {
        "SELECT event_type AS name, count() AS events \(source(s)) GROUP BY event_type"
    }

    func typesPerDay(_ s: Scope) -> String {
        "SELECT toString(date) AS day, event_type AS name, count() AS events \(source(s)) GROUP BY date, event_type"
    }

    /// Users by the date they were first seen (over every stored date up to the end), for the dates of the scope.
    func newUsersPerDay(_ s: Scope) -> String {
        "SELECT toString(first) AS day, count() AS users FROM (SELECT user_id, min(date) AS first \(source(s, from: .some(nil))) "
            + "AND user_id != '' GROUP BY user_id) WHERE first >= \(date(s.start)) GROUP BY first"
    }

    func hours(_ s: Scope) -> String {
        "SELECT toDayOfWeek(date) AS weekday, toHour(ts) AS hour, count() AS events \(source(s)) GROUP BY weekday, hour"
    }

    /// Events, users and visits by value of `dimension` (`present` 0: the events without it); with `only`, of
    /// those values alone.
    func grouped(_ dimension: Dimension, _ s: Scope, only: [String?]? = nil) -> String {
        let restriction = only.map { " AND (\(matches(dimension, $0, s)))" } ?? ""
        let counts = "count() AS events, \(Self.users) AS users, \(Self.visits) AS visits"
        if let pages = visitPages(dimension, s) {
            return "SELECT visit_page != '' AS present, visit_page AS value, \(counts) FROM (SELECT user_id, session_id \(source(s))\(restriction)) AS e "
                + "ALL LEFT JOIN (\(pages)) AS v USING session_id GROUP BY present, value"
        }
        let (present, value) = expressions(dimension)
        return "SELECT \(present) AS present, \(value) AS value, \(counts) \(source(s))\(restriction) GROUP BY present, value"
    }

    /// Visits of the scope's matching events: each visit's first and last event, events and page views; bounce =
    /// one event, a page view. Per date of the first event (`day`: days since 1970) or over the whole scope.
    func visits(_ s: Scope, perDay: Bool) -> String {
        let sessions = "SELECT session_id, min(ts_ms) AS first, max(ts_ms) AS last, count() AS events, "
            + "countIf(event_type = 'page_view') AS pages \(source(s)) AND session_id != '' GROUP BY session_id"
        let figures = "count() AS visits, countIf(events = 1 AND pages = 1) AS bounces, sum(last - first) AS duration_ms, "
            + "sum(pages) AS page_views, arraySort(groupArray(last - first))[intDiv(count() + 1, 2)] AS median_low_ms, "
            + "arraySort(groupArray(last - first))[intDiv(count(), 2) + 1] AS median_high_ms"
        return perDay
            ? "SELECT intDiv(first, 86400000) AS day_number, \(figures) FROM (\(sessions)) GROUP BY day_number"
            : "SELECT \(figures) FROM (\(sessions))"
    }

    /// Retention cohorts: each user's first week (Monday) up to the end and every week they were active, counted
    /// per (cohort, week) for the cohorts from `firstWeek` on.
    func retention(_ s: Scope, firstWeek: Int) -> String {
        let all = source(s, from: .some(nil)) + " AND user_id != ''"
        return "SELECT toString(cohort) AS cohort_week, toString(week) AS active_week, count() AS users "
            + "FROM (SELECT user_id, toMonday(date) AS week \(all) GROUP BY user_id, week) AS a "
            + "ALL INNER JOIN (SELECT user_id, toMonday(min(date)) AS cohort \(all) GROUP BY user_id) AS f USING user_id "
            + "WHERE cohort >= \(date(firstWeek)) GROUP BY cohort, week"
    }

    /// One user's stored lines, oldest first, one per line.
    func userLines(_ userId: String) -> String {
        "SELECT line FROM \(table) FINAL WHERE site = \(ClickHouseClient.literal(site)) AND user_id = \(ClickHouseClient.literal(userId)) "
            + "ORDER BY ts_ms, received_at_ms, key FORMAT TabSeparatedRaw"
    }

    // MARK: dimensions and filters

    /// Whether an event has the dimension, and its value ('' when it has not); not for entry and exit pages.
    func expressions(_ dimension: Dimension) -> (present: String, value: String) {
        switch dimension {
        case .page, .entryPage, .exitPage: return ("page != ''", "page")
        case .feature: return ("feature != ''", "feature")
        case .eventType: return ("1", "event_type")
        case .context(let slot): return ("\(slot.key) != ''", slot.key)
        case .prop(let key):
            let k = "indexOf(prop_keys, \(ClickHouseClient.literal(key)))"
            return ("\(k) > 0", "if(\(k) > 0, prop_values[\(k)], '')")
        }
    }

    /// For entry and exit pages: each visit's page (`visit_page`), that of its first (last) event with a page
    /// among all the site's events of the scope's dates.
    func visitPages(_ dimension: Dimension, _ s: Scope) -> String? {
        guard dimension == .entryPage || dimension == .exitPage else { return nil }
        let pick = dimension == .entryPage ? "argMin" : "argMax"
        let from = s.pagesFromStart ? "AND date >= \(date(s.start)) " : ""
        return "SELECT session_id, \(pick)(page, (ts_ms, log_position)) AS visit_page FROM \(table) FINAL WHERE site = \(ClickHouseClient.literal(site)) "
            + "\(from)AND date <= \(date(s.end)) AND page != '' AND session_id != '' GROUP BY session_id"
    }

    /// The events whose value is one of `values` (nil: the events without the dimension).
    func matches(_ dimension: Dimension, _ values: [String?], _ s: Scope) -> String {
        guard !values.isEmpty else { return "0" }
        let named = values.compactMap { $0 }.map(ClickHouseClient.literal).joined(separator: ", ")
        var parts: [String] = []
        if let pages = visitPages(dimension, s) {
            if !named.isEmpty { parts.append("session_id IN (SELECT session_id FROM (\(pages)) WHERE visit_page IN (\(named)))") }
            if values.contains(where: { $0 == nil }) { parts.append("session_id NOT IN (SELECT session_id FROM (\(pages)))") }
        } else {
            let (present, value) = expressions(dimension)
            if !named.isEmpty { parts.append("(\(present) AND \(value) IN (\(named)))") }
            if values.contains(where: { $0 == nil }) { parts.append("NOT (\(present))") }
        }
        return parts.joined(separator: " OR ")
    }

    /// One `filter=` condition.
    func condition(_ c: EventFilter.Condition, _ s: Scope) -> String {
        let values = c.values.map { $0 == EventFilter.none ? nil : $0 }
        let text = "(\(matches(c.dimension, values, s)))"
        return c.negated ? "NOT \(text)" : text
    }
}
