/// A set of dense user ids: a sorted array while small, a bitmap once that is smaller (roaring-style).
public struct UserSet: Sendable, Equatable {
    enum Storage: Equatable {
        case array([UInt32])
        case bitmap([UInt64])
    }

    static let arrayLimit = 4096

    var storage: Storage = .array([])
    public private(set) var count = 0

    public init() {}

    /// A set of `ids` (any order, repeats allowed) built in one go.
    public init(ids: [UInt32]) {
        var ids = ids
        ids.sort()
        var unique: [UInt32] = []
        unique.reserveCapacity(ids.count)
        for x in ids where unique.last != x { unique.append(x) }
        count = unique.count
        if unique.count > Self.arrayLimit {
            var words = [UInt64](repeating: 0, count: Int(unique.last! >> 6) + 1)
            for x in unique { words[Int(x >> 6)] |= UInt64(1) << UInt64(x & 63) }
            storage = .bitmap(words)
        } else {
            storage = .array(unique)
        }
    }

    /// The set of the bits set in `words`, of which `count` are set.
    init(words: [UInt64], count: Int) {
        self.count = count
        if count > Self.arrayLimit {
            storage = .bitmap(words)
        } else {
            var ids: [UInt32] = []
            ids.reserveCapacity(count)
            for (w, word) in words.enumerated() where word != 0 {
                var x = word
                while x != 0 {
                    ids.append(UInt32(w << 6 + x.trailingZeroBitCount))
                    x &= x - 1
                }
            }
            storage = .array(ids)
        }
    }

    @inline(__always)
    public mutating func insert(_ id: UInt32) {
        switch storage {
        case .bitmap(var words):
            let w = Int(id >> 6)
            let bit = UInt64(1) << UInt64(id & 63)
            if w < words.count, words[w] & bit != 0 { return }
            storage = .array([])  // release the reference so the words are mutated in place
            if w >= words.count { words.append(contentsOf: repeatElement(0, count: w + 1 - words.count + words.count / 4)) }
            words[w] |= bit
            storage = .bitmap(words)
            count += 1
        case .array(var ids):
            var lo = 0
            var hi = ids.count
            while lo < hi {
                let mid = (lo + hi) >> 1
                if ids[mid] < id { lo = mid + 1 } else { hi = mid }
            }
            if lo < ids.count && ids[lo] == id { return }
            storage = .bitmap([])
            ids.insert(id, at: lo)
            count += 1
            if ids.count > Self.arrayLimit {
                var words = [UInt64](repeating: 0, count: Int(ids.last! >> 6) + 1)
                for x in ids { words[Int(x >> 6)] |= UInt64(1) << UInt64(x & 63) }
                storage = .bitmap(words)
            } else {
                storage = .array(ids)
            }
        }
    }

    public mutating func remove(_ id: UInt32) {
        switch storage {
        case .bitmap(var words):
            let w = Int(id >> 6)
            let bit = UInt64(1) << UInt64(id & 63)
            guard w < words.count, words[w] & bit != 0 else { return }
            storage = .array([])
            words[w] &= ~bit
            storage = .bitmap(words)
            count -= 1
        case .array(var ids):
            guard let i = ids.firstIndex(of: id) else { return }
            storage = .bitmap([])
            ids.remove(at: i)
            storage = .array(ids)
            count -= 1
        }
    }

    public func contains(_ id: UInt32) -> Bool {
        switch storage {
        case .bitmap(let words):
            let w = Int(id >> 6)
            return w < words.count && words[w] & (UInt64(1) << UInt64(id & 63)) != 0
        case .array(let ids):
            return ids.contains(id)
        }
    }

    public func forEach(_ body: (UInt32) -> Void) {
        switch storage {
        case .array(let ids): ids.forEach(body)
        case .bitmap(let words):
            for (w, word) in words.enumerated() where word != 0 {
                var x = word
                while x != 0 {
                    body(UInt32(w << 6 + x.trailingZeroBitCount))
                    x &= x - 1
                }
            }
        }
    }

    /// Adds every member to `into` (a bitmap sized for all ids).
    @inline(__always)
    public func union(into bits: inout [UInt64]) {
        switch storage {
        case .array(let ids):
            for x in ids { bits[Int(x >> 6)] |= UInt64(1) << UInt64(x & 63) }
        case .bitmap(let words):
            words.withUnsafeBufferPointer { src in
                bits.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<min(src.count, dst.count) { dst[i] |= src[i] }
                }
            }
        }
    }

    /// Members not set in `seen`.
    public func countNotIn(_ seen: [UInt64]) -> Int {
        var n = 0
        forEach { x in
            let w = Int(x >> 6)
            if w >= seen.count || seen[w] & (UInt64(1) << UInt64(x & 63)) == 0 { n += 1 }
        }
        return n
    }

    /// Bytes held, for the memory estimate.
    public var memoryBytes: Int {
        switch storage {
        case .array(let ids): ids.capacity * 4
        case .bitmap(let words): words.capacity * 8
        }
    }
}

extension Array where Element == UInt64 {
    /// Set bits in a bitmap.
    var popcount: Int { reduce(0) { $0 + $1.nonzeroBitCount } }
}
