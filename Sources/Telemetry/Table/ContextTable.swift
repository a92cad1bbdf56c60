/// Interns the context tuples of the event table (one value code per `Dimension.ContextSlot`) in one flat array:
/// most visits have a tuple of their own, so per-tuple overhead is what the table's memory is made of.
struct ContextTable: Sendable {
    static let width = Dimension.ContextSlot.allCases.count
    private(set) var values: [UInt32] = []
    private var byHash = HashSlots()
    private var collisions: [[UInt32]: Int] = [:]

    var count: Int { values.count / Self.width }

    /// The code (value id + 1, 0 = absent) of `slot` in tuple `id`.
    @inline(__always)
    func value(_ id: Int, _ slot: Int) -> UInt32 { values[id * Self.width + slot] }

    static func hash(_ t: UnsafeBufferPointer<UInt32>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in t { h = (h ^ UInt64(v)) &* 0x100_0000_01b3 }
        return h
    }

    mutating func id(_ t: UnsafeBufferPointer<UInt32>) -> Int {
        let next = UInt32(count)
        var added = false
        let i = Int(byHash.id(Self.hash(t)) {
            added = true
            return next
        })
        if added {
            values.append(contentsOf: t)
            return i
        }
        if values[(i * Self.width)..<((i + 1) * Self.width)].elementsEqual(t) { return i }
        let key = Array(t)
        if let j = collisions[key] { return j }
        values.append(contentsOf: t)
        collisions[key] = count - 1
        return count - 1
    }

    var memoryBytes: Int { values.capacity * 4 + byHash.memoryBytes }
}
