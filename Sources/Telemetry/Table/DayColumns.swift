/// One UTC date's events as dictionary ids, one packed column each, in log order.
struct DayColumns: Sendable {
    /// "No value" in the user and session columns.
    static let none = UInt32.max

    /// Milliseconds since the date's midnight.
    var ms = PackedColumn()
    var user = PackedColumn()
    var session = PackedColumn()
    var type = PackedColumn()
    /// Value ids plus one; 0 = absent.
    var feature = PackedColumn()
    var page = PackedColumn()
    /// Ids of the source and the client context tuples (`Dimension.ContextSlot.Part`) and of the property set
    /// (0 = none).
    var source = PackedColumn()
    var client = PackedColumn()
    var props = PackedColumn()
    /// Which segment the rows came from: runs of rows, each ending (exclusive) at `end`.
    var segments: [(seq: Int, end: Int)] = []

    var count: Int { ms.count }
    /// Whether the columns are packed exactly (`compact()`), with no rows appended since.
    private(set) var isCompact = true
    /// Whether the columns were packed at least once.
    private(set) var wasPacked = false
    /// How many times rows were appended to the packed columns (late events for a closed date) since start-up.
    var reopenings = 0

    mutating func append(_ row: Row, seq: Int) {
        if isCompact && wasPacked { reopenings += 1 }
        isCompact = false
        ms.append(row.ms)
        user.append(row.user)
        session.append(row.session)
        type.append(row.type)
        feature.append(row.feature)
        page.append(row.page)
        source.append(row.source)
        client.append(row.client)
        props.append(row.props)
        if let last = segments.last, last.seq == seq {
            segments[segments.count - 1].end = count
        } else {
            segments.append((seq, count))
        }
    }

    struct Row {
        var ms: UInt32 = 0
        var user = DayColumns.none
        var session = DayColumns.none
        var type: UInt32 = 0
        var feature: UInt32 = 0
        var page: UInt32 = 0
        var source: UInt32 = 0
        var client: UInt32 = 0
        var props: UInt32 = 0
    }

    /// Keeps the rows for which `keep(row, seq)` holds, packing what stays (into `file` when given); returns how
    /// many were removed.
    mutating func removeAll(into file: ColumnFile?, where remove: (Int, Int) -> Bool) -> Int {
        var out = DayColumns()
        var run = 0
        for i in 0..<count {
            while segments[run].end <= i { run += 1 }
            let seq = segments[run].seq
            guard !remove(i, seq) else { continue }
            out.append(Row(ms: ms[i], user: user[i], session: session[i], type: type[i], feature: feature[i],
                           page: page[i], source: source[i], client: client[i], props: props[i]), seq: seq)
        }
        let removed = count - out.count
        out.reopenings = reopenings
        out.compact(into: file)
        self = out
        return removed
    }

    /// Stores every column in the fewest bits its values need, in words of exactly that length; with a `file`,
    /// moves them there (they stay on the heap if the file cannot take them).
    mutating func compact(into file: ColumnFile? = nil) {
        if !isCompact || !wasPacked {
            for c in Self.columns { self[keyPath: c].compact() }
            isCompact = true
            wasPacked = true
        }
        guard let file, !isStored, count > 0,
              let (region, offsets) = file.store(Self.columns.map { self[keyPath: $0].packedWords }) else { return }
        for (c, at) in zip(Self.columns, offsets) { self[keyPath: c].move(to: region, at: at) }
    }

    /// The nine columns.
    private static var columns: [WritableKeyPath<DayColumns, PackedColumn>] {
        [\.ms, \.user, \.session, \.type, \.feature, \.page, \.source, \.client, \.props]
    }

    /// Whether the columns are read from the column file.
    var isStored: Bool { ms.isStored }

    /// Lets go of the pages a scan mapped of the columns (one region holds all nine): scans call it once done
    /// with a date.
    func dropResidentPages() { ms.region?.dropResidentPages() }

    /// A date's nine columns, read row by row while a scan's `body` runs (the columns do not change meanwhile).
    struct Readers {
        let ms, user, session, type, feature, page, source, client, props: PackedColumn.Reader
    }

    /// Lends `body` a reader of every column: one closure for a scan's loop, whichever columns it reads.
    @inline(__always)
    func withReaders<R>(_ body: (Readers) throws -> R) rethrows -> R {
        try ms.withReader { ms in
            try user.withReader { user in
                try session.withReader { session in
                    try type.withReader { type in
                        try feature.withReader { feature in
                            try page.withReader { page in
                                try source.withReader { source in
                                    try client.withReader { client in
                                        try props.withReader { props in
                                            try body(Readers(ms: ms, user: user, session: session, type: type,
                                                             feature: feature, page: page, source: source,
                                                             client: client, props: props))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The ids of `part`'s context tuples.
    func context(_ part: Dimension.ContextSlot.Part) -> PackedColumn { part == .source ? source : client }

    var memoryBytes: Int {
        Self.columns.reduce(0) { $0 + self[keyPath: $1].memoryBytes } + segments.capacity * 16 + 128
    }
}
