extension TableQuery {
    /// A day index of the matching events of the dates `start...end`: usage, daily, trends, hours and retention
    /// computed over it are the filtered figures (docs/dimensions.md).
    func dayIndex(_ start: Int, _ end: Int) -> DayIndex {
        var state = DayIndex.State()
        state.users = s.users
        state.types = s.types
        state.features = s.features
        let visits = needsVisitPages ? VisitPages(s, start, end) : nil
        for n in start...max(start, end) where n <= end {
            guard let d = s.days[n] else { continue }
            var day = DayAggregate()
            for i in 0..<d.count where matches(d, i, visits: visits) {
                let user = d.user[i]
                day.add(type: Int(d.type[i]), feature: d.feature[i] == 0 ? nil : Int(d.feature[i] - 1),
                        user: user == DayColumns.none ? nil : user, hour: Int(Int64(d.ms[i]) / Milliseconds.hour))
            }
            if day.events > 0 { state.days[n] = day }
        }
        return DayIndex(hasher: hasher, state: state)
    }

    /// The first date the table holds, or `end` when it is empty.
    func firstDate(orElse end: Int) -> Int { s.days.keys.min() ?? end }
}
