extension TableQuery {
    /// The bit set of `steps` each row of a date meets, a column at a time.
    private func stepMatcher(_ steps: [PathAnalysis.Step]) -> (DayColumns) -> [UInt16] {
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
        return { d in
            d.withReaders { r in
                (0..<d.count).map { i in
                    let t = r.type[i]
                    var mask = byType[Int(t)]
                    for c in withFeature where c.type == t && c.feature == r.feature[i] { mask |= c.bit }
                    return mask
                }
            }
        }
    }

    /// Each identified user's kept events of the dates `start...end`, grouped by user and ordered by ts (ties in
    /// log order). `tag` says what the question needs of each row of a date, a column at a time (0: nothing, not
    /// kept), and `make` makes the kept event of a row from its ts and tag. Two passes over the dates, each core
    /// taking half of them: the first tags each row and counts each user's kept events, the second places them
    /// straight into their user's run, so the events are held once (a 30-day funnel's were held twice, 95 MB at
    /// the peak).
    private func paths<E: PathAnalysis.Timed>(_ start: Int, _ end: Int, tag: (DayColumns, UnsafeMutableBufferPointer<UInt8>) -> Void,
                                               make: (DayColumns, Int, _ ts: Int64, _ tag: UInt8) -> E) -> [ArraySlice<E>] {
        let visits = needsVisitPages ? VisitPages(s, start, end) : nil
        let userCount = s.users.count
        let everything = matchesEverything
        let mid = middle(start, end)
        let halves = (s.dated(start, mid), s.dated(mid + 1, end))
        // Pass 1: a tag per row (a byte) and each user's count.
        func tagged(_ dates: [(day: Int, columns: DayColumns)]) -> (tags: [UInt8], counts: [Int]) {
            var counts = [Int](repeating: 0, count: userCount)
            let tags = [UInt8](unsharedCapacity: dates.reduce(0) { $0 + $1.columns.count }) { out, n in
                counts.withUnsafeMutableBufferPointer { counts in
                    for (_, d) in dates {
                        defer { d.dropResidentPages() }
                        let rows = UnsafeMutableBufferPointer(rebasing: out[n..<(n + d.count)])
                        tag(d, rows)
                        if !everything {
                            let pass = matching(d, visits: visits)
                            for i in 0..<d.count where !pass[i] { rows[i] = 0 }
                        }
                        d.user.withReader { user in
                            for i in 0..<d.count where rows[i] != 0 {
                                if user[i] == DayColumns.none { rows[i] = 0 } else { counts[Int(user[i])] += 1 }
                            }
                        }
                        n += d.count
                    }
                }
            }
            return (tags, counts)
        }
        let (a, b) = QueryThread.both({ tagged(halves.0) }, { tagged(halves.1) })
        var offsets = [Int](repeating: 0, count: userCount + 1)
        for u in 0..<userCount { offsets[u + 1] = offsets[u] + a.counts[u] + b.counts[u] }
        // Pass 2: each core places its half's kept events, the first half's before the second's in each run.
        var grouped = [E](unsharedCapacity: offsets[userCount]) { out, count in
            func place(_ dates: [(day: Int, columns: DayColumns)], _ tags: [UInt8], _ next: [Int]) {
                var next = next
                var n = 0
                next.withUnsafeMutableBufferPointer { next in
                    tags.withUnsafeBytes { tags in
                        for (day, d) in dates {
                            defer { d.dropResidentPages() }
                            let base = Int64(day) * Milliseconds.day
                            d.withReaders { r in
                                Self.forEachFlagged(tags, at: n, count: d.count) { i, t in
                                    let u = Int(r.user[i])
                                    (out.baseAddress! + next[u]).initialize(to: make(d, i, base + Int64(r.ms[i]), t))
                                    next[u] += 1
                                }
                            }
                            n += d.count
                        }
                    }
                }
            }
            _ = QueryThread.both({ place(halves.0, a.tags, Array(offsets.dropLast())) },
                                 { place(halves.1, b.tags, (0..<userCount).map { offsets[$0] + a.counts[$0] }) })
            count = offsets[userCount]
        }
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

    /// Users reaching each step (docs/metrics.md). A kept event is 8 bytes: its ms since the window's start
    /// above the steps it matches (at most 8).
    func funnel(_ steps: [PathAnalysis.Step], _ start: Int, _ end: Int, withinMs: Int64) -> [Int] {
        let matcher = stepMatcher(steps)
        let windowStart = Int64(start) * Milliseconds.day
        let users = paths(start, end, tag: { d, out in
            for (i, mask) in matcher(d).enumerated() { out[i] = UInt8(truncatingIfNeeded: mask) }
        }, make: { _, _, ts, tag in
            PathAnalysis.PackedEvent(ts: ts - windowStart, matches: tag)
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
        let exposure: [UInt32] = (0..<s.propSets.count).map { set in
            let pairs = s.propSets.bytes(set)
            guard let experimentKey, let wanted, Self.propValue(pairs, key: experimentKey) == wanted else { return 0 }
            return (variantKey.map { Self.propValue(pairs, key: $0) } ?? 0) + 1
        }
        var variants: [UInt32: PathAnalysis.Variant] = [:]
        // Tag bit 0: the event meets the goal; bit 1: it exposes the user.
        for events in paths(start, end, tag: { d, out in
            let goals = matcher(d)
            d.props.withReader { props in
                for i in 0..<d.count { out[i] = (goals[i] != 0 ? 1 : 0) | (exposure[Int(props[i])] != 0 ? 2 : 0) }
            }
        }, make: { d, i, ts, tag in
            PathAnalysis.Event(ts: ts, matches: UInt16(tag & 1), variant: tag & 2 != 0 ? exposure[Int(d.props[i])] : 0)
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
        forEach(start, end) { _, r, i in
            let f = r.feature[i]
            guard f != 0 else { return }
            events[Int(f)] += 1
            if r.user[i] != DayColumns.none { pairs.insert(UInt64(f) << 32 | UInt64(r.user[i])) }
        }
        var users = [Int](repeating: 0, count: events.count)
        pairs.forEachKey { users[Int($0 >> 32)] += 1 }
        return (1..<events.count).filter { events[$0] > 0 }
            .map { (name: s.features.name($0 - 1), events: events[$0], users: users[$0]) }
            .sorted { $0.events != $1.events ? $0.events > $1.events : $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }
}
