/// The visit figures of a date or of a whole window (docs/dimensions.md).
public struct VisitFigures: Sendable, Equatable {
    public var visits = 0
    public var bounceRate = 0.0
    public var durationMeanSeconds = 0.0
    public var durationMedianSeconds = 0.0
    public var pagesPerVisit = 0.0

    /// The figures of visits given by duration (ms), page views and whether they bounced.
    init(_ visits: [(durationMs: Int64, pages: Int, bounced: Bool)]) {
        guard !visits.isEmpty else { return }
        let n = Double(visits.count)
        self.visits = visits.count
        bounceRate = Double(visits.count(where: \.bounced)) / n
        var durations = visits.map(\.durationMs)
        durationMeanSeconds = Double(durations.reduce(0, +)) / (n * 1000)
        // In milliseconds first, then seconds: the same steps as the reference, so halves round alike.
        let mid = durations.count / 2
        let upper = Self.select(&durations, mid)
        let medianMs = durations.count % 2 == 1 ? Double(upper) : Double(durations[..<mid].max()! + upper) / 2
        durationMedianSeconds = medianMs / 1000
        pagesPerVisit = Double(visits.reduce(0) { $0 + $1.pages }) / n
    }

    public init() {}

    /// The `k`th smallest of `values` (quickselect, linear on average, where sorting a month's visits took most
    /// of the query); on return every value before index `k` is no larger than it.
    static func select(_ values: inout [Int64], _ k: Int) -> Int64 {
        values.withUnsafeMutableBufferPointer { v in
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
    /// Visits of the matching events of the dates `start...end`: the window's figures and each date's.
    func visits(_ start: Int, _ end: Int) -> (total: VisitFigures, days: [(Int, VisitFigures)]) {
        let pageView = s.types.lookup(Array("page_view".utf8)).map(UInt32.init)
        // Sessions get a local index when first seen, so the work grows with the window's visits only.
        struct Visit {
            var first = Int64.max
            var last = Int64.min
            var events: Int32 = 0
            var pages: Int32 = 0
        }
        var local = [UInt32](repeating: .max, count: s.sessions.count)
        var found: [Visit] = []
        let visitPages = needsVisitPages ? VisitPages(s, start, end) : nil
        let everything = matchesEverything
        local.withUnsafeMutableBufferPointer { local in
            for day in start...max(start, end) where day <= end {
                guard let d = s.days[day] else { continue }
                let base = Int64(day) * Milliseconds.day
                d.session.withUnsafeBufferPointer { session in
                    d.ms.withUnsafeBufferPointer { ms in
                        d.type.withUnsafeBufferPointer { type in
                            for i in 0..<d.count where session[i] != DayColumns.none && (everything || matches(d, i, visits: visitPages)) {
                                var v = Int(local[Int(session[i])])
                                if v == Int(UInt32.max) {
                                    v = found.count
                                    local[Int(session[i])] = UInt32(v)
                                    found.append(Visit())
                                }
                                let t = base + Int64(ms[i])
                                found.withUnsafeMutableBufferPointer { found in
                                    found[v].events += 1
                                    if type[i] == pageView { found[v].pages += 1 }
                                    if t < found[v].first { found[v].first = t }
                                    if t > found[v].last { found[v].last = t }
                                }
                            }
                        }
                    }
                }
            }
        }
        var byDay = [[(durationMs: Int64, pages: Int, bounced: Bool)]](repeating: [], count: max(0, end - start + 1))
        var all: [(durationMs: Int64, pages: Int, bounced: Bool)] = []
        all.reserveCapacity(found.count)
        for v in found {
            let visit = (durationMs: v.last - v.first, pages: Int(v.pages), bounced: v.events == 1 && v.pages == 1)
            all.append(visit)
            byDay[Int(v.first / Milliseconds.day) - start].append(visit)
        }
        let days = byDay.indices.map { (start + $0, VisitFigures(byDay[$0])) }
        return (VisitFigures(all), days)
    }
}
