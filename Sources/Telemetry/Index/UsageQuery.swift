/// The usage figures (docs/metrics.md) for one window, computed from the day index.
public struct UsageReport: Sendable, Equatable {
    public var start: CivilDate
    public var end: CivilDate
    public var periodDays: Int
    public var dau: Double
    public var wau: Double
    public var mau: Int
    public var featureUsage: [(String, Int)]
    public var funnelSteps: [(String, Int)]
    public var totalEvents: Int
    public var uniqueDays: Int
    public var uniqueWeeks: Int

    public static func == (a: UsageReport, b: UsageReport) -> Bool {
        a.start == b.start && a.end == b.end && a.dau == b.dau && a.wau == b.wau && a.mau == b.mau
            && a.featureUsage.elementsEqual(b.featureUsage, by: ==) && a.funnelSteps.elementsEqual(b.funnelSteps, by: ==)
            && a.totalEvents == b.totalEvents && a.uniqueDays == b.uniqueDays && a.uniqueWeeks == b.uniqueWeeks
    }
}

/// One date of the daily series (docs/api.md).
public struct DailyFigures: Sendable, Equatable {
    public var date: CivilDate
    public var users: Int
    public var newUsers: Int
    public var events: Int
    public var funnelSteps: [(String, Int)]

    public static func == (a: DailyFigures, b: DailyFigures) -> Bool {
        a.date == b.date && a.users == b.users && a.newUsers == b.newUsers && a.events == b.events
            && a.funnelSteps.elementsEqual(b.funnelSteps, by: ==)
    }
}

extension DayIndex {
    /// The usage figures (docs/metrics.md) over the `days` dates ending with `end`.
    public func usage(end: CivilDate, days: Int, top: Int = 50, funnel: [String]) -> UsageReport {
        let start = end.adding(days: -(days - 1))
        return state.withLock { s in
            let words = (s.users.count + 63) / 64
            var all = [UInt64](repeating: 0, count: words)
            var week = [UInt64](repeating: 0, count: words)
            var typeCounts = [Int](repeating: 0, count: s.types.count)
            var featureCounts = [Int](repeating: 0, count: s.features.count)
            var uniqueDays = 0
            var uniqueWeeks = 0
            var dayUsers = 0
            var weekUsers = 0
            var total = 0
            var currentWeek: CivilDate?
            var weekHasEvents = false
            func closeWeek() {
                if weekHasEvents {
                    uniqueWeeks += 1
                    weekUsers += week.popcount
                }
                for i in week.indices { week[i] = 0 }
                weekHasEvents = false
            }
            for n in start.dayNumber...end.dayNumber {
                let date = CivilDate(dayNumber: n)
                if date.weekStart != currentWeek {
                    closeWeek()
                    currentWeek = date.weekStart
                }
                guard let day = s.days[n], day.events > 0 else { continue }
                uniqueDays += 1
                weekHasEvents = true
                total += day.events
                dayUsers += day.users.count
                day.users.union(into: &week)
                day.users.union(into: &all)
                for (t, c) in day.types.enumerated() { typeCounts[t] += c }
                for (f, c) in day.features.enumerated() { featureCounts[f] += c }
            }
            closeWeek()
            let features = Self.ranked(featureCounts, s.features).prefix(top)
            return UsageReport(
                start: start, end: end, periodDays: days,
                dau: uniqueDays == 0 ? 0 : Double(dayUsers) / Double(uniqueDays),
                wau: uniqueWeeks == 0 ? 0 : Double(weekUsers) / Double(uniqueWeeks),
                mau: all.popcount, featureUsage: Array(features),
                funnelSteps: Self.funnel(typeCounts, s.types, steps: funnel),
                totalEvents: total, uniqueDays: uniqueDays, uniqueWeeks: uniqueWeeks)
        }
    }

    /// One entry per date of the window, zeros included, oldest first.
    public func daily(end: CivilDate, days: Int, funnel: [String]) -> [DailyFigures] {
        let start = end.adding(days: -(days - 1))
        return state.withLock { s in
            var seen = [UInt64](repeating: 0, count: (s.users.count + 63) / 64)
            var out: [DailyFigures] = []
            for n in s.days.keys.sorted() where n < start.dayNumber {
                s.days[n]!.users.union(into: &seen)
            }
            for n in start.dayNumber...end.dayNumber {
                let day = s.days[n] ?? DayAggregate()
                let newUsers = day.users.countNotIn(seen)
                day.users.union(into: &seen)
                out.append(DailyFigures(
                    date: CivilDate(dayNumber: n), users: day.users.count, newUsers: newUsers, events: day.events,
                    funnelSteps: Self.funnel(day.types, s.types, steps: funnel)))
            }
            return out
        }
    }

    /// Names by count descending, then name in byte order; zero counts left out.
    static func ranked(_ counts: [Int], _ names: NameTable) -> [(String, Int)] {
        ranked(counts.indices.map { (names.name($0), counts[$0]) })
    }

    /// The same ranking of (name, count) pairs, each name once.
    static func ranked(_ pairs: [(String, Int)]) -> [(String, Int)] {
        pairs.filter { $0.1 > 0 }
            .sorted { a, b in a.1 != b.1 ? a.1 > b.1 : a.0.utf8.lexicographicallyPrecedes(b.0.utf8) }
    }

    /// The configured steps first, in order and always present, then every other type ranked.
    static func funnel(_ counts: [Int], _ names: NameTable, steps: [String]) -> [(String, Int)] {
        funnel(counts.indices.map { (names.name($0), counts[$0]) }, steps: steps)
    }

    /// The same from (type, count) pairs, each type once.
    static func funnel(_ pairs: [(String, Int)], steps: [String]) -> [(String, Int)] {
        var counts: [String: Int] = [:]
        for (name, count) in pairs { counts[name] = count }
        let stepSet = Set(steps)
        return steps.map { ($0, counts[$0] ?? 0) } + ranked(pairs).filter { !stepSet.contains($0.0) }
    }
}
