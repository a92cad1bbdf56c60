/// Grouping a window's matching events by the value of one dimension, and counting each value's distinct users
/// and visits, on both cores: what breakdowns are made of.
extension TableQuery {
    /// How to read one dimension's value codes (0 = absent) of a date's events, and the name of a code.
    struct ValueReader {
        /// The code of each row of a date, in row order.
        let codes: (DayColumns) -> [UInt32]
        let name: (UInt32) -> String
        /// The highest code.
        let limit: Int
    }

    func reader(for dimension: Dimension, visits: VisitPages?) -> ValueReader {
        let s = self.s
        func names(_ table: NameTable) -> (UInt32) -> String { { table.name(Int($0) - 1) } }
        switch dimension {
        case .page: return ValueReader(codes: { $0.page.decoded() }, name: names(s.pages), limit: s.pages.count)
        case .feature: return ValueReader(codes: { $0.feature.decoded() }, name: names(s.features), limit: s.features.count)
        case .eventType: return ValueReader(codes: { $0.type.map { $0 + 1 } }, name: names(s.types), limit: s.types.count)
        case .entryPage, .exitPage:
            let entry = dimension == .entryPage
            return ValueReader(codes: { d in
                d.session.map { session in visits.map { entry ? $0.entry(session) : $0.exit(session) } ?? 0 }
            },
                               name: names(s.pages), limit: s.pages.count)
        case .context(let slot):
            let table = s.contexts[slot.part.rawValue]
            let codes = (0..<table.count).map { table.value($0, slot) }
            return ValueReader(codes: { $0.context(slot.part).map { codes[Int($0)] } }, name: names(s.contextValues[slot.rawValue]),
                               limit: s.contextValues[slot.rawValue].count)
        case .prop(let key):
            let k = s.propKeys.lookup(Self.canonical(key)).map(UInt32.init)
            let codes = (0..<s.propSets.count).map { set in k.map { Self.propValue(s.propSets.bytes(set), key: $0) } ?? 0 }
            return ValueReader(codes: { $0.props.map { codes[Int($0)] } }, name: names(s.propValues), limit: s.propValues.count)
        }
    }

    /// The matching events of the dates `start...end` grouped by value code: the users and sessions of code `c`
    /// lie in runs of member arrays, so distinct counts need no hashing.
    struct Grouped {
        /// A run of a member array.
        struct Run {
            var part: Int32
            var lower: Int32
            var upper: Int32
        }

        /// Member arrays (the window's matching rows grouped, or each date's day group): a user id in the low
        /// 32 bits, a session id in the high (`DayColumns.none` when absent); one per event, or fewer (repeats
        /// dropped) in day groups.
        var parts: [StoredArray<UInt64>]
        /// Code `c`'s members are the runs `runs[runStarts[c]..<runStarts[c + 1]]`.
        var runStarts: [Int]
        var runs: [Run]
        /// The events of each code.
        var eventCounts: [Int]
        var total = BreakdownCounts()
        /// The lowest and highest user and session ids among the members.
        var users: ClosedRange<UInt32> = 0...0
        var sessions: ClosedRange<UInt32> = 0...0

        /// The number of codes (the highest plus one).
        var codes: Int { eventCounts.count }

        func events(_ code: Int) -> Int { eventCounts[code] }

        /// Calls `body` with each run of code `code`'s members.
        @inline(__always)
        func forEachRun(_ code: Int, _ body: (UnsafeBufferPointer<UInt64>) -> Void) {
            guard code < codes else { return }
            for r in runs[runStarts[code]..<runStarts[code + 1]] {
                parts[Int(r.part)].withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[Int(r.lower)..<Int(r.upper)])) }
            }
        }

        /// The codes with events, split in two runs of about the same number of events (one per core).
        func halves(_ codes: [Int]) -> ([Int], [Int]) {
            let all = codes.reduce(0) { $0 + events($1) }
            var sum = 0
            let cut = codes.firstIndex { sum += events($0); return sum * 2 >= all }.map { $0 + 1 } ?? codes.count
            return (Array(codes[..<cut]), Array(codes[cut...]))
        }
    }

    /// One run of dates' matching rows: which rows match (a byte per row, in date and log order), how many of
    /// each code, and who is among them.
    private struct Counted {
        var matched: [Bool]
        var counts: [Int]
        var users: Bits
        var sessions: Bits
    }

    /// The first pass over a run of dates: counts each code's matching rows and marks their users and sessions.
    private func count(_ value: ValueReader, _ dates: [(day: Int, columns: DayColumns)], visits: VisitPages?) -> Counted {
        var counts = [Int](repeating: 0, count: value.limit + 1)
        var users = Bits(s.users.count)
        var sessions = Bits(s.sessions.count)
        let everything = matchesEverything
        let matched = [Bool](unsharedCapacity: dates.reduce(0) { $0 + $1.columns.count }) { matched, n in
            counts.withUnsafeMutableBufferPointer { counts in
                for (_, d) in dates {
                    defer { d.dropResidentPages() }
                    let codes = value.codes(d)
                    let pass = everything ? nil : matching(d, visits: visits)
                    codes.withUnsafeBufferPointer { codes in
                        d.withReaders { r in
                            for i in 0..<d.count {
                                let m = pass?[i] ?? true
                                matched[n] = m
                                n += 1
                                guard m else { continue }
                                counts[Int(codes[i])] += 1
                                if r.user[i] != DayColumns.none { users.insert(Int(r.user[i])) }
                                if r.session[i] != DayColumns.none { sessions.insert(Int(r.session[i])) }
                            }
                        }
                    }
                }
            }
        }
        return Counted(matched: matched, counts: counts, users: users, sessions: sessions)
    }

    func grouped(_ dimension: Dimension, _ start: Int, _ end: Int) -> Grouped {
        // Without a filter, the dates' groups hold the answer (entry and exit pages depend on the window).
        if let caches, matchesEverything, dimension != .entryPage, dimension != .exitPage {
            return grouped(dimension, start, end, from: caches)
        }
        let needsVisits = needsVisitPages || dimension == .entryPage || dimension == .exitPage
        let visits = needsVisits ? VisitPages(s, start, end) : nil
        let value = reader(for: dimension, visits: visits)
        // Two passes, each core taking half of the dates: the first counts each code's matching rows, the second
        // places each row's member straight into its code's run (a counting sort), so they are held once.
        let mid = middle(start, end)
        let halves = (s.dated(start, mid), s.dated(mid + 1, end))
        var (a, b) = QueryThread.both({ count(value, halves.0, visits: visits) }, { count(value, halves.1, visits: visits) })
        var offsets = [Int](repeating: 0, count: value.limit + 2)
        for c in 0...value.limit { offsets[c + 1] = offsets[c] + a.counts[c] + b.counts[c] }
        let members = [UInt64](unsharedCapacity: offsets[value.limit + 1]) { out, count in
            func place(_ dates: [(day: Int, columns: DayColumns)], _ matched: [Bool], _ next: [Int]) {
                var next = next
                var n = 0
                for (_, d) in dates {
                    defer { d.dropResidentPages() }
                    let codes = value.codes(d)
                    matched.withUnsafeBytes { matched in
                        d.withReaders { r in
                            Self.forEachFlagged(matched, at: n, count: d.count) { i, _ in
                                let code = Int(codes[i])
                                let member = UInt64(r.user[i]) | UInt64(r.session[i]) << 32
                                (out.baseAddress! + next[code]).initialize(to: member)
                                next[code] += 1
                            }
                        }
                    }
                    n += d.count
                }
            }
            _ = QueryThread.both({ place(halves.0, a.matched, Array(offsets.dropLast())) },
                                 { place(halves.1, b.matched, (0...value.limit).map { offsets[$0] + a.counts[$0] }) })
            count = offsets[value.limit + 1]
        }
        a.users.formUnion(b.users)
        a.sessions.formUnion(b.sessions)
        return Grouped(parts: [StoredArray(members)], runStarts: Array(0..<offsets.count),
                       runs: (0..<(offsets.count - 1)).map { Grouped.Run(part: 0, lower: Int32(offsets[$0]), upper: Int32(offsets[$0 + 1])) },
                       eventCounts: zip(a.counts, b.counts).map(+),
                       total: BreakdownCounts(events: members.count, users: a.users.count, visits: a.sessions.count),
                       users: a.users.span, sessions: a.sessions.span)
    }

    /// The same from the dates' day groups and members, built where missing (or out of date) and kept in
    /// `caches`: each core gets half of the dates, then the groups' runs are copied into each code's run.
    private func grouped(_ dimension: Dimension, _ start: Int, _ end: Int, from caches: DayCaches) -> Grouped {
        let value = reader(for: dimension, visits: nil)
        let dates = (start...max(start, end)).filter { $0 <= end && s.days[$0] != nil }
        let mid = middle(start, end)
        let cut = dates.firstIndex { $0 > mid } ?? dates.count
        func groups(_ dates: ArraySlice<Int>) -> [(DayGroup, DayMembers)] {
            dates.map { day in
                let d = s.days[day]!
                let group = caches.groups.value(.init(dimension: dimension, day: day), rows: d.count, generation: s.generation) {
                    defer { d.dropResidentPages() }
                    return DayGroup(d, codes: value.codes(d), limit: value.limit, file: s.packing(day))
                }
                return (group, caches.members.value(day, rows: d.count, generation: s.generation) {
                    defer { d.dropResidentPages() }
                    return DayMembers(d, file: s.packing(day))
                })
            }
        }
        let halves = QueryThread.both({ groups(dates[..<cut]) }, { groups(dates[cut...]) })
        let dated = halves.0 + halves.1
        let days = dated.map(\.0)
        let members = dated.map(\.1)
        // Each code's runs, date after date.
        var runStarts = [Int](repeating: 0, count: value.limit + 2)
        var eventCounts = [Int](repeating: 0, count: value.limit + 1)
        for g in days {
            for (k, c) in g.codes.enumerated() {
                runStarts[Int(c) + 1] += 1
                eventCounts[Int(c)] += g.events[k]
            }
        }
        for c in 0...value.limit { runStarts[c + 1] += runStarts[c] }
        var next = runStarts
        var runs = [Grouped.Run](repeating: Grouped.Run(part: 0, lower: 0, upper: 0), count: runStarts[value.limit + 1])
        for (part, g) in days.enumerated() {
            for (k, c) in g.codes.enumerated() {
                runs[next[Int(c)]] = Grouped.Run(part: Int32(part), lower: Int32(g.offsets[k]), upper: Int32(g.offsets[k + 1]))
                next[Int(c)] += 1
            }
        }
        // Who is in the window: each date's users and sessions together.
        var users = Bits(s.users.count)
        var sessions = Bits(s.sessions.count)
        for m in members {
            users.formUnion(m.users)
            sessions.formUnion(m.sessions)
        }
        return Grouped(parts: days.map(\.members), runStarts: runStarts, runs: runs, eventCounts: eventCounts,
                       total: BreakdownCounts(events: eventCounts.reduce(0, +), users: users.count, visits: sessions.count),
                       users: users.span, sessions: sessions.span)
    }

    /// Distinct users and visits of one code at a time: a mark per user and session of the window's id ranges
    /// (16 bits each, so the marks of a month stay in cache), a new generation per code.
    struct DistinctCounter {
        let users: ClosedRange<UInt32>
        let sessions: ClosedRange<UInt32>
        var userMarks: [UInt16]
        var sessionMarks: [UInt16]
        var generation: UInt16 = 0

        init(users: ClosedRange<UInt32>, sessions: ClosedRange<UInt32>) {
            self.users = users
            self.sessions = sessions
            userMarks = [UInt16](repeating: 0, count: users.count)
            sessionMarks = [UInt16](repeating: 0, count: sessions.count)
        }

        mutating func count(_ g: Grouped, code: Int) -> BreakdownCounts {
            if generation == .max {
                for k in userMarks.indices { userMarks[k] = 0 }
                for k in sessionMarks.indices { sessionMarks[k] = 0 }
                generation = 0
            }
            generation += 1
            let generation = self.generation
            let (userLow, sessionLow) = (users.lowerBound, sessions.lowerBound)
            var c = BreakdownCounts()
            guard code < g.codes else { return c }
            c.events = g.events(code)
            userMarks.withUnsafeMutableBufferPointer { users in
                sessionMarks.withUnsafeMutableBufferPointer { sessions in
                    g.forEachRun(code) { members in
                        for k in members.indices {
                            let u = UInt32(truncatingIfNeeded: members[k])
                            if u != DayColumns.none, users[Int(u &- userLow)] != generation {
                                users[Int(u &- userLow)] = generation
                                c.users += 1
                            }
                            let v = UInt32(truncatingIfNeeded: members[k] >> 32)
                            if v != DayColumns.none, sessions[Int(v &- sessionLow)] != generation {
                                sessions[Int(v &- sessionLow)] = generation
                                c.visits += 1
                            }
                        }
                    }
                }
            }
            return c
        }
    }

    /// Each code's counts, on both cores.
    func counts(_ g: Grouped, _ codes: [Int]) -> [(code: Int, counts: BreakdownCounts)] {
        let (first, second) = g.halves(codes)
        func run(_ codes: [Int]) -> [(code: Int, counts: BreakdownCounts)] {
            guard !codes.isEmpty else { return [] }
            var counter = DistinctCounter(users: g.users, sessions: g.sessions)
            return codes.map { ($0, counter.count(g, code: $0)) }
        }
        let (a, b) = QueryThread.both({ run(first) }, { run(second) })
        return a + b
    }

    /// The counts of several codes together (distinct users and visits across all of them), on both cores.
    func union(_ g: Grouped, _ codes: [Int]) -> BreakdownCounts {
        let (first, second) = g.halves(codes)
        func run(_ codes: [Int]) -> (events: Int, users: Bits, sessions: Bits) {
            var users = Bits(s.users.count)
            var sessions = Bits(s.sessions.count)
            var events = 0
            for code in codes where code < g.codes {
                events += g.events(code)
                g.forEachRun(code) { Bits.insert(members: $0, users: &users, sessions: &sessions) }
            }
            users.recount()
            sessions.recount()
            return (events, users, sessions)
        }
        var (a, b) = QueryThread.both({ run(first) }, { run(second) })
        a.users.formUnion(b.users)
        a.sessions.formUnion(b.sessions)
        return BreakdownCounts(events: a.events + b.events, users: a.users.count, visits: a.sessions.count)
    }
}
