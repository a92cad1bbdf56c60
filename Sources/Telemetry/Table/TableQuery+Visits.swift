/// The visit figures of a date or of a whole window (docs/dimensions.md).
public struct VisitFigures: Sendable, Equatable {
    public var visits = 0
    public var bounceRate = 0.0
    public var durationMeanSeconds = 0.0
    public var durationMedianSeconds = 0.0
    public var pagesPerVisit = 0.0

    public init() {}

    /// The two middle values of `values` (equal for an odd count), found by quickselect, which reorders them:
    /// linear on average, where sorting a month's visits took most of the query.
    static func middle(_ values: UnsafeMutableBufferPointer<Int64>) -> (Int64, Int64) {
        let mid = values.count / 2
        let upper = select(values, mid)
        return values.count % 2 == 1 ? (upper, upper) : (values[..<mid].max()!, upper)
    }

    /// The `k`th smallest of `v`; on return every value before index `k` is no larger than it.
    static func select(_ v: UnsafeMutableBufferPointer<Int64>, _ k: Int) -> Int64 {
        var (low, high) = (0, v.count - 1)
        while low < high {
            // Median of three as the pivot, then a Hoare partition.
            let m = low + (high - low) / 2
            let pivot = max(min(v[low], v[m]), min(max(v[low], v[m]), v[high]))
            var (i, j) = (low, high)
            while i <= j {
                while v[i] < pivot { i += 1 }
                while v[j] > pivot { j -= 1 }
                if i <= j {
                    v.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j { high = j } else if k >= i { low = i } else { break }
        }
        return v[k]
    }

    /// The same figures from sums: `visits`, how many bounced, the sum of the durations, the two middle
    /// durations (equal for an odd count) and the sum of page views.
    init(visits: Int, bounces: Int, durationSumMs: Int64, middle: (Int64, Int64), pages: Int) {
        guard visits > 0 else { return }
        let n = Double(visits)
        self.visits = visits
        bounceRate = Double(bounces) / n
        durationMeanSeconds = Double(durationSumMs) / (n * 1000)
        durationMedianSeconds = (middle.0 == middle.1 ? Double(middle.0) : Double(middle.0 + middle.1) / 2) / 1000
        pagesPerVisit = Double(pages) / n
    }
}

extension TableQuery {
    /// One visit's events within a window (or a date).
    struct Visit: Sendable {
        var session: UInt32
        var first = Int64.max
        var last = Int64.min
        var events: Int32 = 0
        var pages: Int32 = 0

        mutating func merge(_ other: Visit) {
            first = min(first, other.first)
            last = max(last, other.last)
            events += other.events
            pages += other.pages
        }
    }

    /// The visits of the dates `from...to`, and where each session's is (`local[session - low]`, `.max`: none).
    private struct Visits {
        var visits: [Visit] = []
        var map = SessionMap()
    }

    private struct SessionMap {
        var low: UInt32 = 1
        var local: [UInt32] = []

        func index(of session: UInt32) -> Int? {
            guard session >= low, session - low < local.count, local[Int(session - low)] != .max else { return nil }
            return Int(local[Int(session - low)])
        }
    }

    /// The visits of the dates `from...to` from each date's visits, kept in `cache` (built where missing or out
    /// of date): a visit seen on several dates is one.
    private func collectVisits(_ from: Int, _ to: Int, pageView: UInt32?, cache: DayCache<Int, StoredArray<Visit>>) -> Visits {
        let days: [StoredArray<Visit>] = (from...max(from, to)).compactMap { day in
            guard day <= to, let d = s.days[day] else { return nil }
            return cache.value(day, rows: d.count, generation: s.generation) {
                StoredArray(collectVisits(day, day, pageView: pageView, visitPages: nil).visits, in: s.packing(day))
            }
        }
        var (low, high, count) = (UInt32.max, UInt32(0), 0)
        for visits in days {
            count += visits.count
            visits.withUnsafeBufferPointer { visits in
                for v in visits {
                    low = min(low, v.session)
                    high = max(high, v.session)
                }
            }
        }
        guard low <= high else { return Visits() }
        var local = [UInt32](repeating: .max, count: Int(high - low) + 1)
        let found = [Visit](unsharedCapacity: count) { found, n in
            local.withUnsafeMutableBufferPointer { local in
                for visits in days {
                    defer { visits.dropResidentPages() }
                    visits.withUnsafeBufferPointer { visits in
                        for v in visits {
                            let slot = Int(v.session - low)
                            if local[slot] == .max {
                                local[slot] = UInt32(n)
                                (found.baseAddress! + n).initialize(to: v)
                                n += 1
                            } else {
                                found[Int(local[slot])].merge(v)
                            }
                        }
                    }
                }
            }
        }
        return Visits(visits: found, map: SessionMap(low: low, local: local))
    }

    private func collectVisits(_ from: Int, _ to: Int, pageView: UInt32?, visitPages: VisitPages?) -> Visits {
        // The run's session ids span a narrow range of the table's (ids follow first sight): the session-to-visit
        // map covers that range only.
        let dates = from...max(from, to)
        let rows = rows(from, to)
        var (low, high) = (UInt32.max, UInt32(0))
        for day in dates where day <= to {
            guard let d = s.days[day] else { continue }
            defer { d.dropResidentPages() }
            d.session.withReader { session in
                for v in session where v != DayColumns.none {
                    low = min(low, v)
                    high = max(high, v)
                }
            }
        }
        guard low <= high else { return Visits() }
        var local = [UInt32](repeating: .max, count: Int(high - low) + 1)
        let everything = matchesEverything
        // Room for a visit per row: address space only, the pages no visit reaches are never touched.
        let found = [Visit](unsharedCapacity: rows) { found, count in
            local.withUnsafeMutableBufferPointer { local in
                for day in dates where day <= to {
                    guard let d = s.days[day] else { continue }
                    defer { d.dropResidentPages() }
                    let base = Int64(day) * Milliseconds.day
                    let pass = everything ? nil : matching(d, visits: visitPages)
                    d.withReaders { r in
                        for i in 0..<d.count where r.session[i] != DayColumns.none && (pass?[i] ?? true) {
                            let slot = Int(r.session[i] - low)
                            var v = Int(local[slot])
                            if v == Int(UInt32.max) {
                                v = count
                                local[slot] = UInt32(v)
                                (found.baseAddress! + v).initialize(to: Visit(session: r.session[i]))
                                count += 1
                            }
                            let t = base + Int64(r.ms[i])
                            found[v].events += 1
                            if r.type[i] == pageView { found[v].pages += 1 }
                            if t < found[v].first { found[v].first = t }
                            if t > found[v].last { found[v].last = t }
                        }
                    }
                }
            }
        }
        return Visits(visits: found, map: SessionMap(low: low, local: local))
    }

    /// Visits of the matching events of the dates `start...end`: the window's figures and each date's (a visit
    /// counts on the date of its first event).
    func visits(_ start: Int, _ end: Int) -> (total: VisitFigures, days: [(Int, VisitFigures)]) {
        let pageView = s.types.lookup(Array("page_view".utf8)).map(UInt32.init)
        let dates = (start...max(start, end)).filter { $0 <= end }
        let visitPages = needsVisitPages ? VisitPages(s, start, end) : nil
        let mid = middle(start, end)
        // Without a filter, from each date's visits, worked out once and kept.
        let cache = matchesEverything ? caches?.visits : nil
        func collect(_ from: Int, _ to: Int) -> Visits {
            cache.map { collectVisits(from, to, pageView: pageView, cache: $0) } ?? collectVisits(from, to, pageView: pageView, visitPages: visitPages)
        }
        var (a, b) = QueryThread.both({ collect(start, mid) }, { collect(mid + 1, end) })
        // A visit both halves saw is one visit: the earlier half's takes the later's events, which are left with
        // none (and skipped below) rather than copied out.
        let earlier = a.map
        a.visits.withUnsafeMutableBufferPointer { visits in
            b.visits.withUnsafeMutableBufferPointer { later in
                for i in later.indices {
                    guard let k = earlier.index(of: later[i].session) else { continue }
                    visits[k].merge(later[i])
                    later[i].events = 0
                }
            }
        }
        let laterVisits = b.visits
        // Each date's sums (a visit counts on the date of its first event), each core tallying one of the two
        // lists; then the durations side by side by date, each core placing its list's.
        struct Sums { var visits = 0, bounces = 0, pages = 0, durationMs: Int64 = 0 }
        func tally(_ visits: [Visit]) -> [Sums] {
            var sums = [Sums](repeating: Sums(), count: dates.count)
            for v in visits where v.events > 0 {
                let k = Int(v.first / Milliseconds.day) - start
                sums[k].visits += 1
                sums[k].pages += Int(v.pages)
                sums[k].durationMs += v.last - v.first
                if v.events == 1 && v.pages == 1 { sums[k].bounces += 1 }
            }
            return sums
        }
        let (first, second) = QueryThread.both({ tally(a.visits) }, { tally(laterVisits) })
        let sums = zip(first, second).map { x, y in
            Sums(visits: x.visits + y.visits, bounces: x.bounces + y.bounces, pages: x.pages + y.pages, durationMs: x.durationMs + y.durationMs)
        }
        var offsets = [0]
        for d in sums { offsets.append(offsets.last! + d.visits) }
        var durations = [Int64](unsharedCapacity: offsets.last!) { out, count in
            func place(_ visits: [Visit], _ next: [Int]) {
                var next = next
                for v in visits where v.events > 0 {
                    let k = Int(v.first / Milliseconds.day) - start
                    out[next[k]] = v.last - v.first
                    next[k] += 1
                }
            }
            _ = QueryThread.both({ place(a.visits, Array(offsets.dropLast())) },
                                 { place(laterVisits, sums.indices.map { offsets[$0] + first[$0].visits }) })
            count = offsets.last!
        }
        var all = durations
        func figures(_ sums: Sums, _ middle: (Int64, Int64)) -> VisitFigures {
            VisitFigures(visits: sums.visits, bounces: sums.bounces, durationSumMs: sums.durationMs, middle: middle, pages: sums.pages)
        }
        let total = sums.reduce(into: Sums()) { t, d in
            t.visits += d.visits
            t.bounces += d.bounces
            t.pages += d.pages
            t.durationMs += d.durationMs
        }
        let (days, window) = QueryThread.both({
            durations.withUnsafeMutableBufferPointer { d in
                sums.indices.map { k in
                    let run = UnsafeMutableBufferPointer(rebasing: d[offsets[k]..<offsets[k + 1]])
                    return (dates[k], run.isEmpty ? VisitFigures() : figures(sums[k], VisitFigures.middle(run)))
                }
            }
        }, {
            all.isEmpty ? VisitFigures() : all.withUnsafeMutableBufferPointer { figures(total, VisitFigures.middle($0)) }
        })
        return (window, days)
    }
}
