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
        let durations = visits.map { Double($0.durationMs) / 1000 }.sorted()
        durationMeanSeconds = durations.reduce(0, +) / n
        let mid = durations.count / 2
        durationMedianSeconds = durations.count % 2 == 1 ? durations[mid] : (durations[mid - 1] + durations[mid]) / 2
        pagesPerVisit = Double(visits.reduce(0) { $0 + $1.pages }) / n
    }

    public init() {}
}

extension TableQuery {
    /// Visits of the matching events of the dates `start...end`: the window's figures and each date's.
    func visits(_ start: Int, _ end: Int) -> (total: VisitFigures, days: [(Int, VisitFigures)]) {
        let pageView = s.types.lookup(Array("page_view".utf8)).map(UInt32.init)
        let n = s.sessions.count
        var first = [Int64](repeating: .max, count: n)
        var last = [Int64](repeating: .min, count: n)
        var events = [Int32](repeating: 0, count: n)
        var pages = [Int32](repeating: 0, count: n)
        var seen: [UInt32] = []
        forEach(start, end) { day, d, i in
            let v = Int(d.session[i])
            guard d.session[i] != DayColumns.none else { return }
            let t = Int64(day) * Milliseconds.day + Int64(d.ms[i])
            if events[v] == 0 { seen.append(UInt32(v)) }
            events[v] += 1
            if d.type[i] == pageView { pages[v] += 1 }
            first[v] = min(first[v], t)
            last[v] = max(last[v], t)
        }
        var byDay: [Int: [(durationMs: Int64, pages: Int, bounced: Bool)]] = [:]
        var all: [(durationMs: Int64, pages: Int, bounced: Bool)] = []
        for v in seen.map(Int.init) {
            let visit = (durationMs: last[v] - first[v], pages: Int(pages[v]), bounced: events[v] == 1 && pages[v] == 1)
            all.append(visit)
            byDay[Int(first[v] / Milliseconds.day), default: []].append(visit)
        }
        let days = (start...max(start, end)).filter { $0 <= end }.map { ($0, VisitFigures(byDay[$0] ?? [])) }
        return (VisitFigures(all), days)
    }
}
