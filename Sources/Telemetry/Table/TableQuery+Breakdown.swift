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
        let present = (0..<(current.offsets.count - 1)).filter { current.events($0) > 0 }
        var ranked = counts(current, present).map { code, counts in
            Ranked(code: code, name: code == 0 ? nil : value.name(UInt32(code)), counts: counts)
        }
        ranked.sort { Breakdown.ranksBefore(($0.name, $0.counts), ($1.name, $1.counts)) }
        let shown = Array(ranked.prefix(top))
        let listed = Set(shown.map(\.code))
        var rows = shown.map { Breakdown.Row(value: $0.name, counts: $0.counts) }
        if ranked.count > top {
            rows.append(Breakdown.Row(value: Breakdown.other, counts: union(current, ranked.dropFirst(top).map(\.code))))
        }
        if let (pStart, pEnd) = previous {
            let before = grouped(dimension, pStart, pEnd)
            let earlier = counts(before, shown.map(\.code).filter { $0 + 1 < before.offsets.count })
            for (k, row) in shown.enumerated() { rows[k].previous = earlier[row.code] ?? BreakdownCounts() }
            if rows.count > shown.count {
                // The previous period's (other): every value not listed.
                let rest = (0..<(before.offsets.count - 1)).filter { !listed.contains($0) && before.events($0) > 0 }
                rows[rows.count - 1].previous = union(before, rest)
            }
        }
        return Breakdown(total: current.total, rows: rows)
    }
}
