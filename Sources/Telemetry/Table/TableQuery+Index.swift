extension TableQuery {
    /// A day index of the matching events of the dates `start...end`: usage, daily, trends, hours and retention
    /// computed over it are the filtered figures (docs/dimensions.md).
    func dayIndex(_ start: Int, _ end: Int) -> DayIndex {
        var state = DayIndex.State()
        state.users = s.users
        state.types = s.types
        state.features = s.features
        let visits = needsVisitPages ? VisitPages(s, start, end) : nil
        // Dates are independent: each core builds half of them.
        func build(_ from: Int, _ to: Int) -> [Int: DayAggregate] {
            var out: [Int: DayAggregate] = [:]
            var users = Bits(s.users.count)
            // The counters as buffers, zeroed again before each date.
            let counters = [24, s.types.count, s.features.count + 1].map { count in
                let counter = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
                counter.initialize(repeating: 0)
                return counter
            }
            defer { for counter in counters { counter.deallocate() } }
            let (hours, types, features) = (counters[0], counters[1], counters[2])
            for n in from...max(from, to) where n <= to {
                guard let d = s.days[n] else { continue }
                defer { d.dropResidentPages() }
                for counter in counters { counter.update(repeating: 0) }
                var day = DayAggregate()
                let pass = matching(d, visits: visits)
                // The rows by their flags, eight unmatched at a time.
                users.bulkInsert { users in
                    pass.withUnsafeBytes { pass in
                        d.withReaders { r in
                            Self.forEachFlagged(pass, at: 0, count: d.count) { i, _ in
                                day.events += 1
                                hours[Int(r.ms[i] / UInt32(Milliseconds.hour))] += 1
                                types[Int(r.type[i])] += 1
                                features[Int(r.feature[i])] += 1
                                let u = r.user[i]
                                if u != DayColumns.none { users[Int(u >> 6)] |= UInt64(1) << UInt64(u & 63) }
                            }
                        }
                    }
                }
                day.hours = Array(hours)
                guard day.events > 0 else { continue }
                day.types = Array(types)
                day.features = Array(features.dropFirst())
                day.users = UserSet(words: users.words, count: users.count)
                out[n] = day
                users.removeAll()
            }
            return out
        }
        let mid = middle(start, end)
        let (a, b) = QueryThread.both({ build(start, mid) }, { build(mid + 1, end) })
        state.days = a.merging(b) { x, _ in x }
        return DayIndex(hasher: hasher, state: state)
    }

    /// The first date the table holds, or `end` when it is empty.
    func firstDate(orElse end: Int) -> Int { s.days.keys.min() ?? end }
}
