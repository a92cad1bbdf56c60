/// One date's events grouped by the value code of one dimension: each code's event count and its members
/// (user | session << 32) without repeats. Unfiltered breakdowns read these instead of the date's rows: a
/// month of them is the month's distinct (value, user, visit) triples of each date, about three fifths of its
/// events, with the grouping already done (docs/architecture.md).
struct DayGroup: Sendable {
    /// The codes with events, ascending; `codes[k]`'s members lie in `members[offsets[k]..<offsets[k + 1]]`.
    var codes: [UInt32] = []
    var offsets: [Int] = [0]
    var events: [Int] = []
    var members = StoredArray<UInt64>()

    /// Groups the rows of `d` whose codes are `codes` (`limit`: the highest code); the members go to `file`
    /// when there is one.
    init(_ d: DayColumns, codes: [UInt32], limit: Int, file: ColumnFile?) {
        var counts = [Int](repeating: 0, count: limit + 1)
        for c in codes { counts[Int(c)] += 1 }
        var next = [Int](repeating: 0, count: limit + 2)
        for c in 0...limit { next[c + 1] = next[c] + counts[c] }
        var placed = [UInt64](unsharedCapacity: d.count) { out, n in
            d.withReaders { r in
                for i in 0..<d.count {
                    let c = Int(codes[i])
                    out[next[c]] = UInt64(r.user[i]) | UInt64(r.session[i]) << 32
                    next[c] += 1
                }
            }
            n = d.count
        }
        // Each code's run sorted, its repeats dropped: the runs shrink in place, kept in code order.
        var kept = 0
        var start = 0
        placed.withUnsafeMutableBufferPointer { all in
            for c in 0...limit where counts[c] > 0 {
                var run = UnsafeMutableBufferPointer(rebasing: all[start..<(start + counts[c])])
                start += counts[c]
                run.sort()
                let first = kept
                for m in run where kept == first || all[kept - 1] != m {
                    all[kept] = m
                    kept += 1
                }
                self.codes.append(UInt32(c))
                self.events.append(counts[c])
                self.offsets.append(kept)
            }
        }
        members = placed.withUnsafeBufferPointer { StoredArray(UnsafeBufferPointer(rebasing: $0[..<kept]), in: file) }
    }

    var memoryBytes: Int { members.count * 8 + codes.count * 20 + 64 }
}

/// One date's users and sessions (of all its events), whatever the dimension: the window's totals of an
/// unfiltered breakdown are their union.
struct DayMembers: Sendable {
    var users: SpanBits
    var sessions: SpanBits

    init(_ d: DayColumns, file: ColumnFile?) {
        users = d.user.withReader { SpanBits($0, in: file) }
        sessions = d.session.withReader { SpanBits($0, in: file) }
    }

    var memoryBytes: Int { users.memoryBytes + sessions.memoryBytes + 32 }
}

/// What unfiltered questions keep of each date's rows (docs/architecture.md): the groups of breakdowns, the
/// date's members, the visits.
struct DayCaches: Sendable {
    let groups = DayCache<DayGroupKey, DayGroup>(budget: 96 << 20) { $0.memoryBytes }
    /// A date's members are up to 2 bits per user and session of the site: 32 MiB holds 60 dates (a month and
    /// its previous) of a site with 1 M users.
    let members = DayCache<Int, DayMembers>(budget: 32 << 20) { $0.memoryBytes }
    let visits = DayCache<Int, StoredArray<TableQuery.Visit>>(budget: 64 << 20) { $0.count * MemoryLayout<TableQuery.Visit>.stride }

    func removeAll() {
        groups.removeAll()
        members.removeAll()
        visits.removeAll()
    }

    var memoryBytes: Int { groups.memoryBytes + members.memoryBytes + visits.memoryBytes }
}

/// The day groups of unfiltered breakdowns, by dimension and date.
struct DayGroupKey: Hashable, Sendable {
    var dimension: Dimension
    var day: Int
}
