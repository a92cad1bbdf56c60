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

    /// The lowest and the highest id in the set (0...0 when empty).
    var span: ClosedRange<UInt32> {
        guard let first = words.firstIndex(where: { $0 != 0 }), let last = words.lastIndex(where: { $0 != 0 }) else { return 0...0 }
        return UInt32(first * 64 + words[first].trailingZeroBitCount)...UInt32(last * 64 + 63 - words[last].leadingZeroBitCount)
    }

    /// Adds every id of `other` (a set of the same size).
    mutating func formUnion(_ other: Bits) {
        count = 0
        for i in words.indices {
            words[i] |= other.words[i]
            count += words[i].nonzeroBitCount
        }
    }

    /// Adds the users (low 32 bits) of `members` to `users` and their sessions (high 32 bits) to `sessions`,
    /// except `DayColumns.none`; the counts are right again after `recount()`.
    static func insert(members: UnsafeBufferPointer<UInt64>, users: inout Bits, sessions: inout Bits) {
        users.words.withUnsafeMutableBufferPointer { u in
            sessions.words.withUnsafeMutableBufferPointer { v in
                for m in members {
                    let user = UInt32(truncatingIfNeeded: m)
                    let session = UInt32(truncatingIfNeeded: m >> 32)
                    if user != DayColumns.none { u[Int(user >> 6)] |= UInt64(1) << UInt64(user & 63) }
                    if session != DayColumns.none { v[Int(session >> 6)] |= UInt64(1) << UInt64(session & 63) }
                }
            }
        }
    }

    /// Lets `body` set bits in the words directly, then counts them again: for loops that insert many ids.
    mutating func bulkInsert<R>(_ body: (UnsafeMutableBufferPointer<UInt64>) throws -> R) rethrows -> R {
        defer { recount() }
        return try words.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// Counts the ids again (after `insert(members:users:sessions:)`).
    mutating func recount() { count = words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Adds every id of `other`, whose ids all lie within this set's size.
    mutating func formUnion(_ other: SpanBits) {
        words.withUnsafeMutableBufferPointer { words in
            other.words.withUnsafeBufferPointer { others in
                for (k, w) in others.enumerated() {
                    count += (w & ~words[other.first + k]).nonzeroBitCount
                    words[other.first + k] |= w
                }
            }
        }
    }

    mutating func removeAll() {
        for i in words.indices { words[i] = 0 }
        count = 0
    }
}

/// A bit set of the ids of a narrow range: the words from the one holding the lowest id to the one holding the
/// highest, what a date's sessions (ids follow first sight) take little room in.
struct SpanBits: Sendable {
    /// The index of the first word.
    private(set) var first = 0
    private(set) var words = StoredArray<UInt64>()

    /// The set of `ids` except `DayColumns.none`, its words in `file` when there is one.
    init(_ ids: PackedColumn.Reader, in file: ColumnFile?) {
        var (low, high) = (UInt32.max, UInt32(0))
        for id in ids where id != DayColumns.none {
            low = min(low, id)
            high = max(high, id)
        }
        guard low <= high else { return }
        first = Int(low >> 6)
        var words = [UInt64](repeating: 0, count: Int(high >> 6) - first + 1)
        words.withUnsafeMutableBufferPointer { words in
            for id in ids where id != DayColumns.none { words[Int(id >> 6) - first] |= UInt64(1) << UInt64(id & 63) }
        }
        self.words = StoredArray(words, in: file)
    }

    var memoryBytes: Int { words.count * 8 }
}
