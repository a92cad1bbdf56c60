/// The figures behind trends, hours and live (docs/api.md).
extension DayIndex {
    public struct TrendDay: Sendable {
        public var date: CivilDate
        public var users: Int
        public var events: Int
        public var usersAverage28: Double
        public var eventsAverage28: Double
        /// Change against the same weekday a week earlier; nil when that day had none.
        public var usersWeekOverWeek: Double?
        public var eventsWeekOverWeek: Double?
    }

    public func trends(end: CivilDate, days: Int) -> [TrendDay] {
        state.withLock { s in
            Self.trends(end: end, days: days) { n in s.days[n].map { ($0.users.count, $0.events) } ?? (0, 0) }
        }
    }

    /// The trend series from each date's (users, events), which it reads from 34 days before the window on.
    static func trends(end: CivilDate, days: Int, figures: (Int) -> (Int, Int)) -> [TrendDay] {
        let start = end.adding(days: -(days - 1))
        return (start.dayNumber...end.dayNumber).map { n in
            let (users, events) = figures(n)
            let window = ((n - 27)...n).map(figures)
            let (lastUsers, lastEvents) = figures(n - 7)
            func change(_ now: Int, _ before: Int) -> Double? { before == 0 ? nil : Double(now - before) / Double(before) }
            return TrendDay(
                date: CivilDate(dayNumber: n), users: users, events: events,
                usersAverage28: Double(window.reduce(0) { $0 + $1.0 }) / 28, eventsAverage28: Double(window.reduce(0) { $0 + $1.1 }) / 28,
                usersWeekOverWeek: change(users, lastUsers), eventsWeekOverWeek: change(events, lastEvents))
        }
    }

    /// Events by UTC weekday (Monday first) and hour over the window.
    public func hours(end: CivilDate, days: Int) -> [[Int]] {
        var grid = [[Int]](repeating: [Int](repeating: 0, count: 24), count: 7)
        state.withLock { s in
            for n in end.adding(days: -(days - 1)).dayNumber...end.dayNumber {
                guard let day = s.days[n], !day.hours.isEmpty else { continue }
                let weekday = CivilDate(dayNumber: n).weekdayFromMonday
                for h in 0..<24 { grid[weekday][h] += day.hours[h] }
            }
        }
        return grid
    }

    public func live(now: Int64) -> (perMinute: [Int], events5: Int, users5: Int) {
        state.withLock { $0.live.summary(now: now) }
    }
}
