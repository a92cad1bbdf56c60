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
    /// How to read one dimension's value code (0 = absent) of an event, and the name of a code.
    struct ValueReader {
        let code: (DayColumns, Int) -> UInt32
        let name: (UInt32) -> String
        /// The highest code.
        let limit: Int
    }

    func reader(for dimension: Dimension, visits: VisitPages?) -> ValueReader {
        let s = self.s
        func names(_ table: NameTable) -> (UInt32) -> String { { table.name(Int($0) - 1) } }
        switch dimension {
        case .page: return ValueReader(code: { $0.page[$1] }, name: names(s.pages), limit: s.pages.count)
        case .feature: return ValueReader(code: { $0.feature[$1] }, name: names(s.features), limit: s.features.count)
        case .eventType: return ValueReader(code: { $0.type[$1] + 1 }, name: names(s.types), limit: s.types.count)
        case .entryPage, .exitPage:
            let pages = (dimension == .entryPage ? visits?.entry : visits?.exit) ?? []
            return ValueReader(code: { d, i in d.session[i] == DayColumns.none ? 0 : pages[Int(d.session[i])] }, name: names(s.pages), limit: s.pages.count)
        case .context(let slot):
            let codes = (0..<s.contexts.count).map { s.contexts.value($0, slot.rawValue) }
            return ValueReader(code: { codes[Int($0.context[$1])] }, name: names(s.contextValues[slot.rawValue]), limit: s.contextValues[slot.rawValue].count)
        case .prop(let key):
            let k = s.propKeys.lookup(Self.canonical(key)).map(UInt32.init)
            let codes = s.propSets.names.map { pairs in k.map { Self.propValue(pairs, key: $0) } ?? 0 }
            return ValueReader(code: { codes[Int($0.props[$1])] }, name: names(s.propValues), limit: s.propValues.count)
        }
    }

    /// The matching events of the dates `start...end` grouped by value code: each code's users and sessions lie
    /// in `users[offsets[c]..<offsets[c + 1]]` (and `sessions` alike), so distinct counts need no hashing.
    struct Grouped {
        var offsets: [Int]
        var users: [UInt32]
        var sessions: [UInt32]
        var total = BreakdownCounts()

        func events(_ code: Int) -> Int { offsets[code + 1] - offsets[code] }
    }

    func grouped(_ dimension: Dimension, _ start: Int, _ end: Int) -> Grouped {
        let needsVisits = needsVisitPages || dimension == .entryPage || dimension == .exitPage
        let visits = needsVisits ? VisitPages(s, start, end) : nil
        let value = reader(for: dimension, visits: visits)
        var codes: [UInt32] = []
        var rowUsers: [UInt32] = []
        var rowSessions: [UInt32] = []
        var counts = [Int](repeating: 0, count: value.limit + 1)
        var users = Bits(s.users.count)
        var sessions = Bits(s.sessions.count)
        for n in start...max(start, end) where n <= end {
            guard let d = s.days[n] else { continue }
            for i in 0..<d.count where matches(d, i, visits: visits) {
                let code = value.code(d, i)
                counts[Int(code)] += 1
                codes.append(code)
                let user = d.user[i]
                rowUsers.append(user)
                if user != DayColumns.none { users.insert(Int(user)) }
                let session = d.session[i]
                rowSessions.append(session)
                if session != DayColumns.none { sessions.insert(Int(session)) }
            }
        }
        // A counting sort by code.
        var offsets = [Int](repeating: 0, count: counts.count + 1)
        for c in counts.indices { offsets[c + 1] = offsets[c] + counts[c] }
        var next = offsets
        var out = Grouped(offsets: offsets, users: [UInt32](repeating: 0, count: codes.count), sessions: [UInt32](repeating: 0, count: codes.count))
        for (k, code) in codes.enumerated() {
            let at = next[Int(code)]
            out.users[at] = rowUsers[k]
            out.sessions[at] = rowSessions[k]
            next[Int(code)] = at + 1
        }
        out.total = BreakdownCounts(events: codes.count, users: users.count, visits: sessions.count)
        return out
    }

    /// Distinct users and visits of groups of codes: a mark per user and session, a new generation per group.
    struct DistinctCounter {
        var userMarks: [UInt32]
        var sessionMarks: [UInt32]
        var generation: UInt32 = 0

        init(users: Int, sessions: Int) {
            userMarks = [UInt32](repeating: 0, count: users)
            sessionMarks = [UInt32](repeating: 0, count: sessions)
        }

        mutating func count(_ g: Grouped, codes: some Sequence<Int>) -> BreakdownCounts {
            generation += 1
            var c = BreakdownCounts()
            for code in codes where code + 1 < g.offsets.count {
                for k in g.offsets[code]..<g.offsets[code + 1] {
                    c.events += 1
                    let u = g.users[k]
                    if u != DayColumns.none, userMarks[Int(u)] != generation {
                        userMarks[Int(u)] = generation
                        c.users += 1
                    }
                    let v = g.sessions[k]
                    if v != DayColumns.none, sessionMarks[Int(v)] != generation {
                        sessionMarks[Int(v)] = generation
                        c.visits += 1
                    }
                }
            }
            return c
        }
    }

    /// The breakdown of the dates `start...end` by `dimension`: `top` rows, the rest in `(other)`; with
    /// `previous` (the dates before), each row's counts in that period too.
    func breakdown(_ dimension: Dimension, _ start: Int, _ end: Int, top: Int, previous: (Int, Int)?) -> Breakdown {
        let current = grouped(dimension, start, end)
        let value = reader(for: dimension, visits: nil as VisitPages?)
        var counter = DistinctCounter(users: s.users.count, sessions: s.sessions.count)
        struct Ranked { var code: Int; var name: String?; var counts: BreakdownCounts }
        var ranked: [Ranked] = []
        for code in 0..<(current.offsets.count - 1) where current.events(code) > 0 {
            ranked.append(Ranked(code: code, name: code == 0 ? nil : value.name(UInt32(code)), counts: counter.count(current, codes: [code])))
        }
        ranked.sort { Breakdown.ranksBefore(($0.name, $0.counts), ($1.name, $1.counts)) }
        let shown = Array(ranked.prefix(top))
        let listed = Set(shown.map(\.code))
        var rows = shown.map { Breakdown.Row(value: $0.name, counts: $0.counts) }
        if ranked.count > top {
            rows.append(Breakdown.Row(value: Breakdown.other, counts: counter.count(current, codes: ranked.dropFirst(top).map(\.code))))
        }
        if let (pStart, pEnd) = previous {
            let before = grouped(dimension, pStart, pEnd)
            for (k, row) in shown.enumerated() { rows[k].previous = counter.count(before, codes: [row.code]) }
            if rows.count > shown.count {
                // The previous period's (other): every value not listed.
                let rest = (0..<(before.offsets.count - 1)).filter { !listed.contains($0) && before.events($0) > 0 }
                rows[rows.count - 1].previous = counter.count(before, codes: rest)
            }
        }
        return Breakdown(total: current.total, rows: rows)
    }
}

/// A fixed-size bit set of dense ids that counts as it goes.
struct Bits {
    private(set) var words: [UInt64]
    private(set) var count = 0

    init(_ size: Int) { words = [UInt64](repeating: 0, count: (size + 63) / 64) }

    @inline(__always)
    mutating func insert(_ id: Int) {
        let bit = UInt64(1) << UInt64(id & 63)
        if words[id >> 6] & bit == 0 {
            words[id >> 6] |= bit
            count += 1
        }
    }

    @inline(__always)
    func contains(_ id: Int) -> Bool { words[id >> 6] & (UInt64(1) << UInt64(id & 63)) != 0 }

    mutating func removeAll() {
        for i in words.indices { words[i] = 0 }
        count = 0
    }
}
