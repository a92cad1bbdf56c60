/// Events, users and visits of one breakdown value (or of all).
public struct BreakdownCounts: Sendable, Equatable {
    public var events = 0
    public var users = 0
    public var visits = 0
}

/// The answer of `/api/analytics/breakdown` (docs/dimensions.md).
public struct Breakdown: Sendable {
    public struct Row: Sendable {
        /// nil: the events without the dimension; `(other)`: the values beyond `top`.
        public var value: String?
        public var counts: BreakdownCounts
        public var previous: BreakdownCounts?
    }

    public static let other = "(other)"

    /// The order of a breakdown's rows: users, then events (both descending), then the value in byte order,
    /// the events without the dimension (nil) first.
    static func ranksBefore(_ a: (value: String?, counts: BreakdownCounts), _ b: (value: String?, counts: BreakdownCounts)) -> Bool {
        if a.counts.users != b.counts.users { return a.counts.users > b.counts.users }
        if a.counts.events != b.counts.events { return a.counts.events > b.counts.events }
        guard let x = a.value else { return b.value != nil }
        guard let y = b.value else { return false }
        return x.utf8.lexicographicallyPrecedes(y.utf8)
    }
    public var total: BreakdownCounts
    public var rows: [Row]
}

extension TableQuery {
    /// The breakdown of the dates `start...end` by `dimension`: `top` rows, the rest in `(other)`; with
    /// `previous` (the dates before), each row's counts in that period too.
    func breakdown(_ dimension: Dimension, _ start: Int, _ end: Int, top: Int, previous: (Int, Int)?) -> Breakdown {
        let current = grouped(dimension, start, end)
        let value = reader(for: dimension, visits: nil as VisitPages?)
        struct Ranked { var code: Int; var name: String?; var counts: BreakdownCounts }
        let present = (0..<current.codes).filter { current.events($0) > 0 }
        // Ranked by users and events; names (the last key) are read only for the ties the shown rows reach.
        var ranked = rankable(current, present, top: top).map { Ranked(code: $0.code, name: nil, counts: $0.counts) }
        ranked.sort { a, b in
            a.counts.users != b.counts.users ? a.counts.users > b.counts.users : a.counts.events > b.counts.events
        }
        var i = 0
        while i < min(top, ranked.count) {
            var j = i + 1
            while j < ranked.count, ranked[j].counts.users == ranked[i].counts.users, ranked[j].counts.events == ranked[i].counts.events { j += 1 }
            for k in i..<j where ranked[k].code != 0 { ranked[k].name = value.name(UInt32(ranked[k].code)) }
            ranked[i..<j].sort { Breakdown.ranksBefore(($0.name, $0.counts), ($1.name, $1.counts)) }
            i = j
        }
        let shown = Array(ranked.prefix(top))
        let listed = Set(shown.map(\.code))
        var rows = shown.map { Breakdown.Row(value: $0.name, counts: $0.counts) }
        if present.count > top {
            rows.append(Breakdown.Row(value: Breakdown.other, counts: union(current, present.filter { !listed.contains($0) })))
        }
        if let (pStart, pEnd) = previous {
            let before = grouped(dimension, pStart, pEnd)
            let earlier = Dictionary(uniqueKeysWithValues: counts(before, shown.map(\.code).filter { $0 < before.codes }))
            for (k, row) in shown.enumerated() { rows[k].previous = earlier[row.code] ?? BreakdownCounts() }
            if rows.count > shown.count {
                // The previous period's (other): every value not listed.
                let rest = (0..<before.codes).filter { !listed.contains($0) && before.events($0) > 0 }
                rows[rows.count - 1].previous = union(before, rest)
            }
        }
        return Breakdown(total: current.total, rows: rows)
    }

    /// The counts of the codes of `present` that may rank among the first `top`: all of them when there are no
    /// more, else the codes in descending order of events, a growing slice at a time, until the next has fewer
    /// events than the `top`-th most users counted so far. A code's users never exceed its events, so every code
    /// left out ranks below each shown row, ties included, and only the `(other)` row needs them.
    func rankable(_ g: Grouped, _ present: [Int], top: Int) -> [(code: Int, counts: BreakdownCounts)] {
        guard present.count > top else { return counts(g, present) }
        let byEvents = present.sorted { g.events($0) > g.events($1) }
        var counted: [(code: Int, counts: BreakdownCounts)] = []
        var users: [Int] = []
        var next = 0
        var slice = top
        while next < byEvents.count {
            if users.count >= top {
                users.sort(by: >)
                users.removeLast(users.count - top)
                guard g.events(byEvents[next]) >= users[top - 1] else { break }
            }
            let end = min(byEvents.count, next + slice)
            let more = counts(g, Array(byEvents[next..<end]))
            counted += more
            users += more.map(\.counts.users)
            next = end
            slice *= 2
        }
        return counted
    }
}
