/// One UTC date's events as dictionary ids, one array per column, in log order.
struct DayColumns: Sendable {
    /// "No value" in the user and session columns.
    static let none = UInt32.max

    /// Milliseconds since the date's midnight.
    var ms: [UInt32] = []
    var user: [UInt32] = []
    var session: [UInt32] = []
    var type: [UInt32] = []
    /// Value ids plus one; 0 = absent.
    var feature: [UInt32] = []
    var page: [UInt32] = []
    /// Ids of the source and the client context tuples (`Dimension.ContextSlot.Part`) and of the property set
    /// (0 = none).
    var source: [UInt32] = []
    var client: [UInt32] = []
    var props: [UInt32] = []
    /// Which segment the rows came from: runs of rows, each ending (exclusive) at `end`.
    var segments: [(seq: Int, end: Int)] = []

    var count: Int { ms.count }

    mutating func append(_ row: Row, seq: Int) {
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

    /// Keeps the rows for which `keep(row, seq)` holds; returns how many were removed.
    mutating func removeAll(where remove: (Int, Int) -> Bool) -> Int {
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
        self = out
        return removed
    }

    /// Copies every column into an array of exactly its length.
    mutating func compact() {
        func exact<T>(_ a: inout [T]) { a = [T](unsharedCapacity: a.count) { b, n in
            _ = b.initialize(from: a)
            n = a.count
        } }
        exact(&ms); exact(&user); exact(&session); exact(&type); exact(&feature); exact(&page); exact(&source); exact(&client); exact(&props)
    }

    /// The ids of `part`'s context tuples.
    func context(_ part: Dimension.ContextSlot.Part) -> [UInt32] { part == .source ? source : client }

    /// The bytes of one row across the columns.
    static let rowBytes = 9 * MemoryLayout<UInt32>.stride

    var memoryBytes: Int { ms.capacity * Self.rowBytes + segments.capacity * 16 + 128 }
}
