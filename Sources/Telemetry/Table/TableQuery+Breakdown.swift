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
    public var total: BreakdownCounts
    public var rows: [Row]
}

extension TableQuery {
    /// How to read one dimension's value code (0 = absent) of an event, and the name of a code.
    struct ValueReader {
        let code: (DayColumns, Int) -> UInt32
        let name: (UInt32) -> String
    }

    func reader(for dimension: Dimension, visits: VisitPages?) -> ValueReader {
        let s = self.s
        func names(_ table: NameTable) -> (UInt32) -> String { { table.name(Int($0) - 1) } }
        switch dimension {
        case .page: return ValueReader(code: { $0.page[$1] }, name: names(s.pages))
        case .feature: return ValueReader(code: { $0.feature[$1] }, name: names(s.features))
        case .eventType: return ValueReader(code: { $0.type[$1] + 1 }, name: names(s.types))
        case .entryPage, .exitPage:
            let pages = (dimension == .entryPage ? visits?.entry : visits?.exit) ?? []
            return ValueReader(code: { d, i in d.session[i] == DayColumns.none ? 0 : pages[Int(d.session[i])] }, name: names(s.pages))
        case .context(let slot):
            let codes = s.contexts.names.map { Self.word($0, slot.rawValue) }
            return ValueReader(code: { codes[Int($0.context[$1])] }, name: names(s.contextValues[slot.rawValue]))
        case .prop(let key):
            let k = s.propKeys.lookup(Self.canonical(key)).map(UInt32.init)
            let codes = s.propSets.names.map { pairs in k.map { Self.propValue(pairs, key: $0) } ?? 0 }
            return ValueReader(code: { codes[Int($0.props[$1])] }, name: names(s.propValues))
        }
    }

    /// Counts per value code of the dates `start...end`, and the distinct users and visits of any set of codes.
    struct ValueCounts {
        var events: [Int: Int] = [:]
        var users: [Int: Int] = [:]
        var visits: [Int: Int] = [:]
        var total = BreakdownCounts()
    }

    /// With `excluding`, also the counts of all the values not in it together (the `(other)` row).
    func counts(_ dimension: Dimension, _ start: Int, _ end: Int, excluding shown: Set<UInt32>? = nil) -> (ValueCounts, BreakdownCounts?) {
        let needsVisits = needsVisitPages || dimension == .entryPage || dimension == .exitPage
        let visits = needsVisits ? VisitPages(s, start, end) : nil
        let value = reader(for: dimension, visits: visits)
        var events = [Int](repeating: 0, count: 16)
        var userPairs = HashSlots()
        var visitPairs = HashSlots()
        var users = Bits(s.users.count)
        var sessions = Bits(s.sessions.count)
        var unionUsers = Bits(shown == nil ? 0 : s.users.count)
        var unionSessions = Bits(shown == nil ? 0 : s.sessions.count)
        var unionEvents = 0
        var out = ValueCounts()
        for n in start...max(start, end) where n <= end {
            guard let d = s.days[n] else { continue }
            for i in 0..<d.count where matches(d, i, visits: visits) {
                let code = value.code(d, i)
                if Int(code) >= events.count { events += [Int](repeating: 0, count: Int(code) + 1 - events.count + events.count) }
                events[Int(code)] += 1
                out.total.events += 1
                let inUnion = shown.map { !$0.contains(code) } ?? false
                if inUnion { unionEvents += 1 }
                let user = d.user[i]
                if user != DayColumns.none {
                    userPairs.insert(UInt64(code) << 32 | UInt64(user))
                    users.insert(Int(user))
                    if inUnion { unionUsers.insert(Int(user)) }
                }
                let session = d.session[i]
                if session != DayColumns.none {
                    visitPairs.insert(UInt64(code) << 32 | UInt64(session))
                    sessions.insert(Int(session))
                    if inUnion { unionSessions.insert(Int(session)) }
                }
            }
        }
        for (code, count) in events.enumerated() where count > 0 { out.events[code] = count }
        userPairs.forEachKey { out.users[Int($0 >> 32), default: 0] += 1 }
        visitPairs.forEachKey { out.visits[Int($0 >> 32), default: 0] += 1 }
        out.total.users = users.count
        out.total.visits = sessions.count
        let union = shown.map { _ in BreakdownCounts(events: unionEvents, users: unionUsers.count, visits: unionSessions.count) }
        return (out, union)
    }

    /// The breakdown of the dates `start...end` by `dimension`: `top` rows, the rest in `(other)`; with
    /// `previous` (the dates before), each row's counts in that period too.
    func breakdown(_ dimension: Dimension, _ start: Int, _ end: Int, top: Int, previous: (Int, Int)?) -> Breakdown {
        let (current, _) = counts(dimension, start, end)
        let value = reader(for: dimension, visits: nil as VisitPages?)
        struct Ranked { var code: Int; var name: String?; var counts: BreakdownCounts }
        var ranked = current.events.keys.map { code in
            Ranked(code: code, name: code == 0 ? nil : value.name(UInt32(code)),
                   counts: BreakdownCounts(events: current.events[code]!, users: current.users[code] ?? 0, visits: current.visits[code] ?? 0))
        }
        ranked.sort { a, b in
            if a.counts.users != b.counts.users { return a.counts.users > b.counts.users }
            if a.counts.events != b.counts.events { return a.counts.events > b.counts.events }
            guard let x = a.name else { return b.name != nil }
            guard let y = b.name else { return false }
            return x.utf8.lexicographicallyPrecedes(y.utf8)
        }
        let shown = ranked.prefix(top)
        let listed = Set(shown.map { UInt32($0.code) })
        var rows = shown.map { Breakdown.Row(value: $0.name, counts: $0.counts) }
        if ranked.count > top, let other = counts(dimension, start, end, excluding: listed).1 {
            rows.append(Breakdown.Row(value: Breakdown.other, counts: other))
        }
        if let (pStart, pEnd) = previous {
            // The previous period's (other): every value not listed.
            let (before, otherBefore) = counts(dimension, pStart, pEnd, excluding: listed)
            for k in rows.indices {
                if k < shown.count {
                    let code = shown[shown.startIndex + k].code
                    rows[k].previous = BreakdownCounts(events: before.events[code] ?? 0, users: before.users[code] ?? 0, visits: before.visits[code] ?? 0)
                } else {
                    rows[k].previous = otherBefore ?? BreakdownCounts()
                }
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
}
