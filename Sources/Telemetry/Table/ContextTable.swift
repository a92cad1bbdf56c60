#if canImport(Glibc)
import Glibc
#endif

/// Interns the context tuples of one `Dimension.ContextSlot.Part` (one value code per slot of the part) in one
/// flat array; id 0 is the tuple with no value.
struct ContextTable: Sendable {
    let part: Dimension.ContextSlot.Part
    let width: Int
    private(set) var values: [UInt32] = []
    private var byHash = HashSlots()
    private var collisions: [[UInt32]: Int] = [:]

    init(_ part: Dimension.ContextSlot.Part) {
        self.part = part
        width = part.slots.count
        _ = [UInt32](repeating: 0, count: width).withUnsafeBufferPointer { id($0) }
    }

    var count: Int { values.count / width }

    /// The code (value id + 1, 0 = absent) of `slot` in tuple `id`.
    @inline(__always)
    func value(_ id: Int, _ slot: Dimension.ContextSlot) -> UInt32 { values[id * width + slot.position] }

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
        let same = values.withUnsafeBufferPointer { v in
            memcmp(v.baseAddress! + i * width, t.baseAddress!, width * MemoryLayout<UInt32>.stride) == 0
        }
        if same { return i }
        let key = Array(t)
        if let j = collisions[key] { return j }
        values.append(contentsOf: t)
        collisions[key] = count - 1
        return count - 1
    }

    var memoryBytes: Int { values.capacity * 4 + byHash.memoryBytes }
}
