/// Weekly cohorts from the day index (docs/api.md).
extension DayIndex {
    public struct Cohort: Sendable, Equatable {
        public var weekStart: CivilDate
        public var users: Int
        /// Users of the cohort active in its own week, the next, … up to the week of `end`.
        public var active: [Int]
    }

    /// The `weeks` ISO weeks ending with the week of `end`: each week's new users (first event in the kept history)
    /// and how many of them were active in each following week.
    public func retention(end: CivilDate, weeks: Int) -> [Cohort] {
        state.withLock { s in
            let words = (s.users.count + 63) / 64
            let lastWeek = end.weekStart
            let firstWeek = lastWeek.adding(days: -7 * (weeks - 1))
            var seen = [UInt64](repeating: 0, count: words)
            var cohorts: [Int: [UInt64]] = [:]
            var activity: [Int: [UInt64]] = [:]
            for n in s.days.keys.sorted() where n <= end.dayNumber {
                let day = s.days[n]!
                let week = CivilDate(dayNumber: n).weekStart.dayNumber
                if week >= firstWeek.dayNumber {
                    day.users.union(into: &activity[week, default: [UInt64](repeating: 0, count: words)])
                    var fresh = cohorts[week] ?? [UInt64](repeating: 0, count: words)
                    day.users.forEach { id in
                        let w = Int(id >> 6), bit = UInt64(1) << UInt64(id & 63)
                        if seen[w] & bit == 0 { fresh[w] |= bit }
                    }
                    cohorts[week] = fresh
                }
                day.users.union(into: &seen)
            }
            return stride(from: firstWeek.dayNumber, through: lastWeek.dayNumber, by: 7).map { week in
                let members = cohorts[week] ?? [UInt64](repeating: 0, count: words)
                let active = stride(from: week, through: lastWeek.dayNumber, by: 7).map { later -> Int in
                    guard let act = activity[later] else { return 0 }
                    return zip(members, act).reduce(0) { $0 + ($1.0 & $1.1).nonzeroBitCount }
                }
                return Cohort(weekStart: CivilDate(dayNumber: week), users: members.popcount, active: active)
            }
        }
    }
}

extension CivilDate {
    /// ISO 8601 week label, e.g. `2025-W40`.
    public var isoWeek: String {
        let thursday = weekStart.adding(days: 3)
        let year = thursday.components.year
        let week = (thursday.dayNumber - CivilDate(year: year, month: 1, day: 1).dayNumber) / 7 + 1
        return "\(year)-W" + (week < 10 ? "0" : "") + String(week)
    }
}
