import Foundation

/// The keyed API's answers computed by ClickHouse (`--query-source clickhouse`, docs/clickhouse.md), with the
/// definitions of docs/metrics.md and docs/dimensions.md: exact distinct counts (`uniqExact`), `FINAL` so that a
/// row sent twice counts once, and the ranking, rounding and JSON of the day index's answers, so a dashboard
/// cannot tell which source answered. `ClickHouseSQL` writes the statements.
struct ClickHouseQueries: Sendable {
    let site: String
    let client: ClickHouseClient

    var sql: ClickHouseSQL { ClickHouseSQL(table: client.settings.qualifiedTable, site: site) }

    func usage(end: CivilDate, days: Int, top: Int, funnel: [String], filter: EventFilter) async throws -> UsageReport {
        let start = end.adding(days: -(days - 1))
        let scope = sql.scope(start.dayNumber, end.dayNumber, filter)
        // Independent statements run at once: ClickHouse answers each on a core of its own.
        async let perDayRows = client.rows(sql.perDay(scope))
        async let perWeekRows = client.rows(sql.perWeek(scope))
        async let allRows = client.rows(sql.totals(scope))
        async let featureRows = client.rows(sql.features(scope))
        async let typeRows = client.rows(sql.types(scope))
        let (perDay, perWeek, all, features, types) = try await (perDayRows, perWeekRows, allRows, featureRows, typeRows)
        let activeDays = perDay.filter { Self.int($0["events"]) > 0 }
        let activeWeeks = perWeek.filter { Self.int($0["events"]) > 0 }
        let dayUsers = activeDays.reduce(0) { $0 + Self.int($1["users"]) }
        let weekUsers = activeWeeks.reduce(0) { $0 + Self.int($1["users"]) }
        return UsageReport(
            start: start, end: end, periodDays: days,
            dau: activeDays.isEmpty ? 0 : Double(dayUsers) / Double(activeDays.count),
            wau: activeWeeks.isEmpty ? 0 : Double(weekUsers) / Double(activeWeeks.count),
            mau: Self.int(all.first?["users"]),
            featureUsage: Array(DayIndex.ranked(features.map { (Self.string($0["name"]), Self.int($0["events"])) }).prefix(top)),
            funnelSteps: DayIndex.funnel(types.map { (Self.string($0["name"]), Self.int($0["events"])) }, steps: funnel),
            totalEvents: activeDays.reduce(0) { $0 + Self.int($1["events"]) }, uniqueDays: activeDays.count, uniqueWeeks: activeWeeks.count)
    }

    func daily(end: CivilDate, days: Int, funnel: [String], filter: EventFilter) async throws -> [DailyFigures] {
        let start = end.adding(days: -(days - 1))
        let scope = sql.scope(start.dayNumber, end.dayNumber, filter, pagesFromStart: false)
        async let perDayRows = client.rows(sql.perDay(scope))
        async let typeRows = client.rows(sql.typesPerDay(scope))
        async let newUserRows = client.rows(sql.newUsersPerDay(scope))
        var figures: [Int: (users: Int, events: Int)] = [:]
        for row in try await perDayRows {
            figures[Self.day(row["day"])] = (Self.int(row["users"]), Self.int(row["events"]))
        }
        var types: [Int: [(String, Int)]] = [:]
        for row in try await typeRows {
            types[Self.day(row["day"]), default: []].append((Self.string(row["name"]), Self.int(row["events"])))
        }
        var newUsers: [Int: Int] = [:]
        for row in try await newUserRows { newUsers[Self.day(row["day"])] = Self.int(row["users"]) }
        return (start.dayNumber...end.dayNumber).map { n in
            DailyFigures(
                date: CivilDate(dayNumber: n), users: figures[n]?.users ?? 0, newUsers: newUsers[n] ?? 0, events: figures[n]?.events ?? 0,
                funnelSteps: DayIndex.funnel(types[n] ?? [], steps: funnel))
        }
    }

    func trends(end: CivilDate, days: Int, filter: EventFilter) async throws -> [DayIndex.TrendDay] {
        // The 28-day averages and week-over-week changes reach 34 days before the window.
        let scope = sql.scope(end.dayNumber - days - 33, end.dayNumber, filter)
        var figures: [Int: (Int, Int)] = [:]
        for row in try await client.rows(sql.perDay(scope)) {
            figures[Self.day(row["day"])] = (Self.int(row["users"]), Self.int(row["events"]))
        }
        return DayIndex.trends(end: end, days: days) { figures[$0] ?? (0, 0) }
    }

    func hours(end: CivilDate, days: Int, filter: EventFilter) async throws -> [[Int]] {
        var grid = [[Int]](repeating: [Int](repeating: 0, count: 24), count: 7)
        for row in try await client.rows(sql.hours(sql.scope(end.dayNumber - days + 1, end.dayNumber, filter))) {
            let weekday = Self.int(row["weekday"]) - 1
            let hour = Self.int(row["hour"])
            guard (0..<7).contains(weekday), (0..<24).contains(hour) else { continue }
            grid[weekday][hour] += Self.int(row["events"])
        }
        return grid
    }

    func features(_ start: Int, _ end: Int, filter: EventFilter) async throws -> [(name: String, events: Int, users: Int)] {
        try await client.rows(sql.featureUsers(sql.scope(start, end, filter)))
            .map { (name: Self.string($0["name"]), events: Self.int($0["events"]), users: Self.int($0["users"])) }
            .sorted { $0.events != $1.events ? $0.events > $1.events : $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    func breakdown(_ dimension: Dimension, _ start: Int, _ end: Int, top: Int, previous: (Int, Int)?, filter: EventFilter) async throws -> Breakdown {
        let scope = sql.scope(start, end, filter)
        async let totalRows = client.rows(sql.totals(scope))
        struct Ranked { var value: String?; var counts: BreakdownCounts }
        var ranked = try await client.rows(sql.grouped(dimension, scope)).map { row in
            Ranked(value: Self.int(row["present"]) == 1 ? Self.string(row["value"]) : nil, counts: Self.counts(row))
        }
        ranked.sort { Breakdown.ranksBefore(($0.value, $0.counts), ($1.value, $1.counts)) }
        let shown = Array(ranked.prefix(top))
        var rows = shown.map { Breakdown.Row(value: $0.value, counts: $0.counts) }
        let listed = shown.map(\.value)
        let hasOther = ranked.count > top
        let before = previous.map { sql.scope($0.0, $0.1, filter) }
        async let otherRows = self.rows(hasOther ? sql.totals(scope, excluding: (dimension, listed)) : nil)
        async let previousRows = self.rows(before.map { sql.grouped(dimension, $0, only: listed) })
        async let previousOtherRows = self.rows(hasOther ? before.map { sql.totals($0, excluding: (dimension, listed)) } : nil)
        if hasOther {
            rows.append(Breakdown.Row(value: Breakdown.other, counts: Self.counts(try await otherRows.first ?? [:])))
        }
        if before != nil {
            var counts: [String?: BreakdownCounts] = [:]
            for row in try await previousRows {
                counts[Self.int(row["present"]) == 1 ? Self.string(row["value"]) : nil] = Self.counts(row)
            }
            for k in shown.indices { rows[k].previous = counts[shown[k].value] ?? BreakdownCounts() }
            if hasOther { rows[rows.count - 1].previous = Self.counts(try await previousOtherRows.first ?? [:]) }
        }
        let total = Self.counts(try await totalRows.first ?? [:])
        _ = try await (otherRows, previousRows, previousOtherRows)
        return Breakdown(total: total, rows: rows)
    }

    func visits(_ start: Int, _ end: Int, filter: EventFilter) async throws -> (total: VisitFigures, days: [(Int, VisitFigures)]) {
        let scope = sql.scope(start, end, filter)
        async let dayRows = client.rows(sql.visits(scope, perDay: true))
        async let totalRows = client.rows(sql.visits(scope, perDay: false))
        var byDay: [Int: VisitFigures] = [:]
        for row in try await dayRows { byDay[Self.int(row["day_number"])] = Self.visitFigures(row) }
        let total = try await totalRows.first.map(Self.visitFigures) ?? VisitFigures()
        return (total, (start...max(start, end)).filter { $0 <= end }.map { ($0, byDay[$0] ?? VisitFigures()) })
    }

    func retention(end: CivilDate, weeks: Int, filter: EventFilter) async throws -> [DayIndex.Cohort] {
        let lastWeek = end.weekStart.dayNumber
        let firstWeek = lastWeek - 7 * (weeks - 1)
        var counts: [Int: [Int: Int]] = [:]
        for row in try await client.rows(sql.retention(sql.scope(firstWeek, end.dayNumber, filter, pagesFromStart: false), firstWeek: firstWeek)) {
            counts[Self.day(row["cohort_week"]), default: [:]][Self.day(row["active_week"])] = Self.int(row["users"])
        }
        return stride(from: firstWeek, through: lastWeek, by: 7).map { week in
            let active = stride(from: week, through: lastWeek, by: 7).map { counts[week]?[$0] ?? 0 }
            return DayIndex.Cohort(weekStart: CivilDate(dayNumber: week), users: active[0], active: active)
        }
    }

    /// A user's stored lines from ClickHouse, oldest first, followed by the lines of `local` (this instance's
    /// NDJSON of the user) that ClickHouse does not hold yet.
    func userLines(_ userId: String, local: [UInt8]) async throws -> [UInt8] {
        var out = try await client.execute(sql.userLines(userId), parameters: [("wait_end_of_query", "1")])
        var shipped = Set<ArraySlice<UInt8>>()
        for line in out.split(separator: UInt8(ascii: "\n")) { shipped.insert(line) }
        for line in local.split(separator: UInt8(ascii: "\n")) where !shipped.contains(line) {
            out.append(contentsOf: line)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    // MARK: reading rows

    /// The rows of `statement`, none without one.
    func rows(_ statement: String?) async throws -> [[String: Any]] {
        guard let statement else { return [] }
        return try await client.rows(statement)
    }

    static func visitFigures(_ row: [String: Any]) -> VisitFigures {
        VisitFigures(
            visits: int(row["visits"]), bounces: int(row["bounces"]), durationSumMs: Int64(int(row["duration_ms"])),
            middle: (Int64(int(row["median_low_ms"])), Int64(int(row["median_high_ms"]))), pages: int(row["page_views"]))
    }

    static func counts(_ row: [String: Any]) -> BreakdownCounts {
        BreakdownCounts(events: int(row["events"]), users: int(row["users"]), visits: int(row["visits"]))
    }

    /// ClickHouse writes 64-bit integers as JSON strings by default.
    static func int(_ value: Any?) -> Int {
        switch value {
        case let n as Int: n
        case let n as NSNumber: n.intValue
        case let s as String: Int(s) ?? 0
        default: 0
        }
    }

    static func string(_ value: Any?) -> String { value as? String ?? "" }

    static func day(_ value: Any?) -> Int { CivilDate(iso: string(value))?.dayNumber ?? Int.min }
}
