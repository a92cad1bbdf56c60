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

    /// Adds every id of `ids` except `DayColumns.none`.
    mutating func insert(_ ids: some Sequence<UInt32>) {
        var added = 0
        words.withUnsafeMutableBufferPointer { words in
            for id in ids where id != DayColumns.none {
                let bit = UInt64(1) << UInt64(id & 63)
                let w = Int(id >> 6)
                added += words[w] & bit == 0 ? 1 : 0
                words[w] |= bit
            }
        }
        count += added
    }

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

    mutating func removeAll() {
        for i in words.indices { words[i] = 0 }
        count = 0
    }
}
