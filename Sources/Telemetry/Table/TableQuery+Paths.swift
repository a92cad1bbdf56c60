extension TableQuery {
    /// The bit set of `steps` each event type id meets, and the feature code each bit also needs (nil: any).
    private func stepMatcher(_ steps: [PathAnalysis.Step]) -> (DayColumns, Int) -> UInt16 {
        // Steps without a feature: one mask per type; steps with one: a (type, feature code, bit) list.
        var byType = [UInt16](repeating: 0, count: s.types.count)
        var withFeature: [(type: UInt32, feature: UInt32, bit: UInt16)] = []
        for (k, step) in steps.enumerated() {
            guard let type = s.types.lookup(Self.canonical(step.type)) else { continue }
            if let f = step.feature {
                // A feature the table never saw: the step matches nothing.
                withFeature.append((UInt32(type), s.features.lookup(Self.canonical(f)).map { UInt32($0) + 1 } ?? UInt32.max, 1 << k))
            } else {
                byType[type] |= 1 << k
            }
        }
        return { d, i in
            let type = d.type[i]
            var mask = byType[Int(type)]
            for c in withFeature where c.type == type && c.feature == d.feature[i] { mask |= c.bit }
            return mask
        }
    }

    /// Each identified user's kept events of the dates `start...end`, grouped by user and ordered by ts (ties in
    /// log order): `keep` returns nil for an event the question does not need. Both cores collect half of the
    /// dates each, then place their events into each user's run (a counting sort, stable: log order).
    private func paths(_ start: Int, _ end: Int, keep: (DayColumns, Int) -> PathAnalysis.Event?) -> [ArraySlice<PathAnalysis.Event>] {
        let visits = needsVisitPages ? VisitPages(s, start, end) : nil
        let userCount = s.users.count
        func collect(_ from: Int, _ to: Int) -> Keyed<PathAnalysis.Event> {
            let dates = from...max(from, to)
            let rows = rows(from, to)
            var c = Keyed<PathAnalysis.Event>(counts: [Int](repeating: 0, count: userCount))
            var n = 0
            c.items = [PathAnalysis.Event](unsharedCapacity: rows) { eventsOut, eventsCount in
                c.keys = [UInt32](unsharedCapacity: rows) { usersOut, usersCount in
                    c.counts.withUnsafeMutableBufferPointer { counts in
                        for day in dates where day <= to {
                            guard let d = s.days[day] else { continue }
                            let base = Int64(day) * Milliseconds.day
                            d.user.withReader { user in
                                for i in 0..<d.count where user[i] != DayColumns.none && matches(d, i, visits: visits) {
                                    guard var e = keep(d, i) else { continue }
                                    e.ts = base + Int64(d.ms[i])
                                    (eventsOut.baseAddress! + n).initialize(to: e)
                                    usersOut[n] = user[i]
                                    counts[Int(user[i])] += 1
                                    n += 1
                                }
                            }
                        }
                    }
                    usersCount = n
                }
                eventsCount = n
            }
            return c
        }
        let mid = middle(start, end)
        let (a, b) = QueryThread.both({ collect(start, mid) }, { collect(mid + 1, end) })
        let placed = Self.bucketed(a, b)
        let offsets = placed.offsets
        var grouped = placed.items
        let users = (0..<userCount).filter { offsets[$0 + 1] > offsets[$0] }
        // Events arrive by date, and in log order within a date, mostly already by ts: a stable sort by ts
        // (ties in log order) only where they are not.
        grouped.withUnsafeMutableBufferPointer { g in
            _ = inHalves(users) { users in
                for u in users {
                    let range = offsets[u]..<offsets[u + 1]
                    guard zip(g[range].dropLast(), g[range].dropFirst()).contains(where: { $0.ts > $1.ts }) else { continue }
                    let sorted = zip(g[range], range).sorted { $0.0.ts != $1.0.ts ? $0.0.ts < $1.0.ts : $0.1 < $1.1 }.map(\.0)
                    for (k, e) in zip(range, sorted) { g[k] = e }
                }
            }
        }
        return users.map { grouped[offsets[$0]..<offsets[$0 + 1]] }
    }

    /// Users reaching each step (docs/metrics.md).
    func funnel(_ steps: [PathAnalysis.Step], _ start: Int, _ end: Int, withinMs: Int64) -> [Int] {
        let matcher = stepMatcher(steps)
        let users = paths(start, end, keep: { d, i in
            let mask = matcher(d, i)
            return mask == 0 ? nil : PathAnalysis.Event(ts: 0, matches: mask)
        })
        let (a, b) = inHalves(users) { users in
            var reached = [Int](repeating: 0, count: steps.count)
            for events in users {
                let depth = PathAnalysis.depth(events, steps: steps.count, withinMs: withinMs)
                for k in 0..<depth { reached[k] += 1 }
            }
            return reached
        }
        return zip(a, b).map { $0 + $1 }
    }

    /// Exposure: a user's first event of the window whose `metadata.experiment` is `name`, its
    /// `metadata.variant` theirs for good; conversion: an event matching `goal` whose ts is at or after it.
    func experiment(_ name: String, goal: PathAnalysis.Step, _ start: Int, _ end: Int) -> [PathAnalysis.Variant] {
        let matcher = stepMatcher([goal])
        let experimentKey = s.propKeys.lookup(Array("experiment".utf8)).map(UInt32.init)
        let variantKey = s.propKeys.lookup(Array("variant".utf8)).map(UInt32.init)
        let wanted = s.propValues.lookup(Self.canonical(name)).map { UInt32($0) + 1 }
        // Per property set: 0 when it does not expose, else the variant code + 1 (1: no variant).
        let exposure: [UInt32] = s.propSets.names.map { pairs in
            guard let experimentKey, let wanted, Self.propValue(pairs, key: experimentKey) == wanted else { return 0 }
            return (variantKey.map { Self.propValue(pairs, key: $0) } ?? 0) + 1
        }
        var variants: [UInt32: PathAnalysis.Variant] = [:]
        for events in paths(start, end, keep: { d, i in
            let variant = exposure[Int(d.props[i])]
            let goalMatched = matcher(d, i)
            return variant == 0 && goalMatched == 0 ? nil : PathAnalysis.Event(ts: 0, matches: goalMatched, variant: variant)
        }) {
            guard let at = events.firstIndex(where: { $0.variant != 0 }) else { continue }
            let code = events[at].variant - 1
            var v = variants[code] ?? PathAnalysis.Variant(name: code == 0 ? EventFilter.none : s.propValues.name(Int(code) - 1), users: 0, converted: 0)
            v.users += 1
            let exposedAt = events[at].ts
            if events.contains(where: { $0.matches != 0 && $0.ts >= exposedAt }) { v.converted += 1 }
            variants[code] = v
        }
        return variants.values.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// Events and distinct users per feature of the dates `start...end`, by events descending, then name.
    func features(_ start: Int, _ end: Int) -> [(name: String, events: Int, users: Int)] {
        var events = [Int](repeating: 0, count: s.features.count + 1)
        var pairs = HashSlots()
        forEach(start, end) { _, d, i in
            let f = d.feature[i]
            guard f != 0 else { return }
            events[Int(f)] += 1
            if d.user[i] != DayColumns.none { pairs.insert(UInt64(f) << 32 | UInt64(d.user[i])) }
        }
        var users = [Int](repeating: 0, count: events.count)
        pairs.forEachKey { users[Int($0 >> 32)] += 1 }
        return (1..<events.count).filter { events[$0] > 0 }
            .map { (name: s.features.name($0 - 1), events: events[$0], users: users[$0]) }
            .sorted { $0.events != $1.events ? $0.events > $1.events : $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }
}
