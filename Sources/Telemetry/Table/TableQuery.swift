/// A snapshot of the event table with a filter compiled against its dictionaries: per dictionary id, whether
/// the value passes, so that matching an event is a handful of array reads.
struct TableQuery {
    let s: EventTable.State
    /// The table's user-id hasher, which the filtered day indexes share.
    let hasher: SipHash
    /// What the table keeps of each date's rows, which unfiltered breakdowns and visit counts read (nil: work
    /// from the rows each time).
    let caches: DayCaches?
    private var type: [Bool]?
    private var feature: [Bool]?
    private var page: [Bool]?
    /// Per context tuple id, by `Dimension.ContextSlot.Part`.
    private var source: [Bool]?
    private var client: [Bool]?
    private var props: [Bool]?
    private var entry: [Bool]?
    private var exit: [Bool]?

    init(_ s: EventTable.State, filter: EventFilter, hasher: SipHash, caches: DayCaches? = nil) {
        self.s = s
        self.hasher = hasher
        self.caches = caches
        // Each condition on a context value or a property as flags by value code, read once per tuple or set.
        var contextConditions: [(Dimension.ContextSlot, [Bool])] = []
        var propConditions: [(UInt32?, [Bool])] = []
        for c in filter.conditions {
            switch c.dimension {
            case .eventType: type = Self.and(type, Self.allowed(c, in: s.types, offset: 0))
            case .feature: feature = Self.and(feature, Self.allowed(c, in: s.features, offset: 1))
            case .page: page = Self.and(page, Self.allowed(c, in: s.pages, offset: 1))
            case .entryPage: entry = Self.and(entry, Self.allowed(c, in: s.pages, offset: 1))
            case .exitPage: exit = Self.and(exit, Self.allowed(c, in: s.pages, offset: 1))
            case .context(let slot):
                contextConditions.append((slot, Self.allowed(c, in: s.contextValues[slot.rawValue], offset: 1)))
            case .prop(let key):
                let k = s.propKeys.lookup(Self.canonical(key)).map(UInt32.init)
                propConditions.append((k, Self.allowed(c, in: s.propValues, offset: 1)))
            }
        }
        for table in s.contexts {
            let conditions = contextConditions.filter { $0.0.part == table.part }
            guard !conditions.isEmpty else { continue }
            let allowed = (0..<table.count).map { id in
                conditions.allSatisfy { slot, allowed in allowed[Int(table.value(id, slot))] }
            }
            if table.part == .source { source = allowed } else { client = allowed }
        }
        if !propConditions.isEmpty {
            props = (0..<s.propSets.count).map { id in
                let pairs = s.propSets.bytes(id)
                return propConditions.allSatisfy { key, allowed in allowed[Int(key.map { Self.propValue(pairs, key: $0) } ?? 0)] }
            }
        }
    }

    /// Whether every event matches (no condition).
    var matchesEverything: Bool {
        type == nil && feature == nil && page == nil && source == nil && client == nil && props == nil && entry == nil && exit == nil
    }

    /// Whether the filter needs each visit's entry and exit page.
    var needsVisitPages: Bool { entry != nil || exit != nil }

    /// Which rows of `d` match, worked out a column at a time: each condition's flags over its whole column, then
    /// the visit's entry and exit page of the rows still in.
    func matching(_ d: DayColumns, visits: VisitPages?) -> [Bool] {
        var pass = [Bool](repeating: true, count: d.count)
        pass.withUnsafeMutableBufferPointer { pass in
            func narrow(_ flags: [Bool]?, _ column: PackedColumn) {
                guard let flags else { return }
                flags.withUnsafeBufferPointer { flags in
                    column.withReader { column in
                        for i in 0..<column.count { pass[i] = pass[i] && flags[Int(column[i])] }
                    }
                }
            }
            narrow(type, d.type)
            narrow(feature, d.feature)
            narrow(page, d.page)
            narrow(source, d.source)
            narrow(client, d.client)
            narrow(props, d.props)
            guard let visits else { return }
            d.session.withReader { session in
                for i in 0..<d.count where pass[i] {
                    if let entry, !entry[Int(visits.entry(session[i]))] { pass[i] = false }
                    if let exit, !exit[Int(visits.exit(session[i]))] { pass[i] = false }
                }
            }
        }
        return pass
    }

    /// Calls `body(day, readers, row)` for each matching event of the dates `start...end`, dates in order,
    /// rows in log order.
    func forEach(_ start: Int, _ end: Int, _ body: (Int, DayColumns.Readers, Int) -> Void) {
        let visits = needsVisitPages ? VisitPages(s, start, end) : nil
        let everything = matchesEverything
        for n in start...max(start, end) where n <= end {
            guard let d = s.days[n] else { continue }
            defer { d.dropResidentPages() }
            let pass = everything ? nil : matching(d, visits: visits)
            d.withReaders { r in
                for i in 0..<d.count where (pass?[i] ?? true) { body(n, r, i) }
            }
        }
    }

    /// Calls `body(i, flag)` for each row `i` of `0..<count` whose byte `flags[at + i]` is not 0, passing eight
    /// zero bytes at a time: the second pass of a scan that kept few rows reads little more than their flags.
    @inline(__always)
    static func forEachFlagged(_ flags: UnsafeRawBufferPointer, at: Int, count: Int, _ body: (Int, UInt8) -> Void) {
        var i = 0
        while i < count {
            if i + 8 <= count, flags.loadUnaligned(fromByteOffset: at + i, as: UInt64.self) == 0 {
                i += 8
                continue
            }
            let flag = flags[at + i]
            if flag != 0 { body(i, flag) }
            i += 1
        }
    }

    /// The number of events (matching or not) of the dates `start...end`.
    func rows(_ start: Int, _ end: Int) -> Int {
        (start...max(start, end)).reduce(0) { $0 + ($1 <= end ? s.days[$1]?.count ?? 0 : 0) }
    }

    /// The date that splits `start...end` into two runs of about the same number of events.
    func middle(_ start: Int, _ end: Int) -> Int {
        let all = rows(start, end)
        var sum = 0
        for n in start...max(start, end) where n <= end {
            sum += s.days[n]?.count ?? 0
            if sum * 2 >= all { return n }
        }
        return end
    }

    /// `body` over each half of `items`, one half per core.
    func inHalves<T, R>(_ items: [T], _ body: (ArraySlice<T>) -> R) -> (R, R) {
        let half = items.count / 2
        return QueryThread.both({ body(items[..<half]) }, { body(items[half...]) })
    }

    // MARK: compiling

    static func canonical(_ value: String) -> [UInt8] {
        var out: [UInt8] = []
        JSONString.appendEscaped(value.utf8, into: &out)
        return out
    }

    /// The codes (id + offset; 0 for `(none)`) of the values a condition names that the table knows.
    static func codes(_ values: [String], in table: NameTable, offset: UInt32 = 1) -> Set<UInt32> {
        Set(values.compactMap { v in
            v == EventFilter.none ? (offset == 1 ? 0 : nil) : table.lookup(canonical(v)).map { UInt32($0) + offset }
        })
    }

    static func allowed(_ c: EventFilter.Condition, in table: NameTable, offset: UInt32) -> [Bool] {
        var flags = [Bool](repeating: c.negated, count: table.count + Int(offset))
        for code in codes(c.values, in: table, offset: offset) { flags[Int(code)] = !c.negated }
        return flags
    }

    static func and(_ a: [Bool]?, _ b: [Bool]) -> [Bool] {
        guard let a else { return b }
        return zip(a, b).map { $0 && $1 }
    }

    /// The `index`th little-endian UInt32 of a tuple.
    @inline(__always)
    static func word(_ bytes: ArraySlice<UInt8>, _ index: Int) -> UInt32 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self).littleEndian }
    }

    /// The value code (id + 1) of `key` in a property set, 0 when absent.
    static func propValue(_ pairs: ArraySlice<UInt8>, key: UInt32) -> UInt32 {
        for p in 0..<(pairs.count / 8) where word(pairs, 2 * p) == key { return word(pairs, 2 * p + 1) + 1 }
        return 0
    }
}

/// Each visit's entry and exit page within a window: the page of its first and of its last event with a page
/// (by ts; ties: the first, and the last, in log order). Page codes, 0 = none. The window's session ids span a
/// narrow range of the table's (ids follow first sight): the arrays cover that range only.
struct VisitPages {
    private var low: UInt32 = 0
    private var entries: [UInt32] = []
    private var exits: [UInt32] = []

    init(_ s: EventTable.State, _ start: Int, _ end: Int) {
        let days = s.dated(start, end)
        var (low, high) = (UInt32.max, UInt32(0))
        for (_, d) in days {
            defer { d.dropResidentPages() }
            d.withReaders { r in
                for i in 0..<d.count where r.page[i] != 0 && r.session[i] != DayColumns.none {
                    low = min(low, r.session[i])
                    high = max(high, r.session[i])
                }
            }
        }
        guard low <= high else { return }
        self.low = low
        let n = Int(high - low) + 1
        var entries = [UInt32](repeating: 0, count: n)
        var exits = [UInt32](repeating: 0, count: n)
        var first = [Int64](repeating: .max, count: n)
        var last = [Int64](repeating: .min, count: n)
        for (day, d) in days {
            defer { d.dropResidentPages() }
            let base = Int64(day) * Milliseconds.day
            d.withReaders { r in
                for i in 0..<d.count where r.page[i] != 0 && r.session[i] != DayColumns.none {
                    let v = Int(r.session[i] - low)
                    let t = base + Int64(r.ms[i])
                    if t < first[v] {
                        first[v] = t
                        entries[v] = r.page[i]
                    }
                    if t >= last[v] {
                        last[v] = t
                        exits[v] = r.page[i]
                    }
                }
            }
        }
        self.entries = entries
        self.exits = exits
    }

    /// The entry page of `session` (0: none, also for `DayColumns.none`).
    @inline(__always)
    func entry(_ session: UInt32) -> UInt32 { Self.page(entries, session &- low) }

    @inline(__always)
    func exit(_ session: UInt32) -> UInt32 { Self.page(exits, session &- low) }

    @inline(__always)
    private static func page(_ pages: [UInt32], _ slot: UInt32) -> UInt32 { Int(slot) < pages.count ? pages[Int(slot)] : 0 }
}
