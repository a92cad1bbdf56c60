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
        let durations = visits.map(\.durationMs).sorted()
        durationMeanSeconds = Double(durations.reduce(0, +)) / (n * 1000)
        // In milliseconds first, then seconds: the same steps as the reference, so halves round alike.
        let mid = durations.count / 2
        let medianMs = durations.count % 2 == 1 ? Double(durations[mid]) : Double(durations[mid - 1] + durations[mid]) / 2
        durationMedianSeconds = medianMs / 1000
        pagesPerVisit = Double(visits.reduce(0) { $0 + $1.pages }) / n
    }

    public init() {}

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
        var local = [UInt32](repeating: .max, count: s.sessions.count)
        var first: [Int64] = []
        var last: [Int64] = []
        var events: [Int32] = []
        var pages: [Int32] = []
        let visitPages = needsVisitPages ? VisitPages(s, start, end) : nil
        for day in start...max(start, end) where day <= end {
            guard let d = s.days[day] else { continue }
            let base = Int64(day) * Milliseconds.day
            for i in 0..<d.count where d.session[i] != DayColumns.none && matches(d, i, visits: visitPages) {
                let session = Int(d.session[i])
                var v = Int(local[session])
                if v == Int(UInt32.max) {
                    v = first.count
                    local[session] = UInt32(v)
                    first.append(.max)
                    last.append(.min)
                    events.append(0)
                    pages.append(0)
                }
                let t = base + Int64(d.ms[i])
                events[v] += 1
                if d.type[i] == pageView { pages[v] += 1 }
                if t < first[v] { first[v] = t }
                if t > last[v] { last[v] = t }
            }
        }
        var byDay = [[(durationMs: Int64, pages: Int, bounced: Bool)]](repeating: [], count: max(0, end - start + 1))
        var all: [(durationMs: Int64, pages: Int, bounced: Bool)] = []
        all.reserveCapacity(first.count)
        for v in first.indices {
            let visit = (durationMs: last[v] - first[v], pages: Int(pages[v]), bounced: events[v] == 1 && pages[v] == 1)
            all.append(visit)
            byDay[Int(first[v] / Milliseconds.day) - start].append(visit)
        }
        let days = byDay.indices.map { (start + $0, VisitFigures(byDay[$0])) }
        return (VisitFigures(all), days)
    }
}
