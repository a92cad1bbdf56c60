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
            var types = [Int](repeating: 0, count: s.types.count)
            var features = [Int](repeating: 0, count: s.features.count + 1)
            for n in from...max(from, to) where n <= to {
                guard let d = s.days[n] else { continue }
                defer { d.dropResidentPages() }
                var day = DayAggregate()
                var hours = [Int](repeating: 0, count: 24)
                let pass = matching(d, visits: visits)
                // The counters as buffers, and the rows by their flags, eight unmatched at a time.
                users.bulkInsert { users in
                    hours.withUnsafeMutableBufferPointer { hours in
                        types.withUnsafeMutableBufferPointer { types in
                            features.withUnsafeMutableBufferPointer { features in
                                pass.withUnsafeBytes { pass in
                                    d.ms.withReader { ms in
                                        d.type.withReader { type in
                                            d.feature.withReader { feature in
                                                d.user.withReader { user in
                                                    Self.forEachFlagged(pass, at: 0, count: d.count) { i, _ in
                                                        day.events += 1
                                                        hours[Int(ms[i] / UInt32(Milliseconds.hour))] += 1
                                                        types[Int(type[i])] += 1
                                                        features[Int(feature[i])] += 1
                                                        let u = user[i]
                                                        if u != DayColumns.none { users[Int(u >> 6)] |= UInt64(1) << UInt64(u & 63) }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                day.hours = hours
                guard day.events > 0 else { continue }
                day.types = types
                day.features = Array(features.dropFirst())
                day.users = UserSet(words: users.words, count: users.count)
                out[n] = day
                users.removeAll()
                for k in types.indices { types[k] = 0 }
                for k in features.indices { features[k] = 0 }
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
