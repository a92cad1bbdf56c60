/// An insert-only map from 64-bit hashes to dense 32-bit ids: open addressing with linear probing.
///
/// The keys are already hashes (SipHash, FNV), so a multiplicative step spreads them without `Hasher`'s
/// SipHash-1-3 round that `Dictionary` would add on the index's hot path, and a probe reads one slot array.
struct HashSlots: Sendable {
    private static let empty = UInt32.max
    private var keys: [UInt64]
    private var values: [UInt32]
    private var shift: Int
    private(set) var count = 0

    init(capacity: Int = 16) {
        var slots = 16
        while slots * 7 / 10 < capacity { slots <<= 1 }
        keys = Array(repeating: 0, count: slots)
        values = Array(repeating: Self.empty, count: slots)
        shift = 64 - slots.trailingZeroBitCount
    }

    @inline(__always)
    private func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift)) }

    @inline(__always)
    subscript(key: UInt64) -> UInt32? {
        let mask = keys.count - 1
        var i = home(key)
        while true {
            let v = values[i]
            if v == Self.empty { return nil }
            if keys[i] == key { return v }
            i = (i &+ 1) & mask
        }
    }

    /// The id of `key`, inserting `make()` when it is new.
    @inline(__always)
    mutating func id(_ key: UInt64, orInsert make: () -> UInt32) -> UInt32 {
        let mask = keys.count - 1
        var i = home(key)
        while true {
            let v = values[i]
            if v == Self.empty { break }
            if keys[i] == key { return v }
            i = (i &+ 1) & mask
        }
        let value = make()
        precondition(value != Self.empty, "id space exhausted")
        keys[i] = key
        values[i] = value
        count += 1
        if count * 10 > keys.count * 7 { grow() }
        return value
    }

    /// Inserts `key` (with id 0) if absent: the map used as a set.
    @inline(__always)
    mutating func insert(_ key: UInt64) { _ = id(key) { 0 } }

    func forEachKey(_ body: (UInt64) -> Void) {
        for i in keys.indices where values[i] != Self.empty { body(keys[i]) }
    }

    private mutating func grow() {
        var bigger = HashSlots(capacity: keys.count)
        for i in keys.indices where values[i] != Self.empty {
            _ = bigger.id(keys[i]) { values[i] }
        }
        self = bigger
    }

    var memoryBytes: Int { keys.count * 12 }
}
