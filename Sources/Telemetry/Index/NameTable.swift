#if canImport(Glibc)
import Glibc
#endif

/// Interns event types and features by their canonical (escaped) bytes, so the hot path builds no strings.
struct NameTable: Sendable {
    private(set) var names: [[UInt8]] = []
    private var byHash = HashSlots()
    private var collisions: [[UInt8]: Int] = [:]

    var count: Int { names.count }

    @inline(__always)
    static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for c in b { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 }
        return h
    }

    @inline(__always)
    mutating func id(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        let h = Self.hash(b)
        var added = false
        let next = UInt32(names.count)
        let i = Int(byHash.id(h) {
            added = true
            return next
        })
        if added {
            names.append(Array(b))
            return i
        }
        if Self.equal(names[i], b) { return i }
        let key = Array(b)
        if let j = collisions[key] { return j }
        names.append(key)
        collisions[key] = names.count - 1
        return names.count - 1
    }

    @inline(__always)
    private static func equal(_ name: [UInt8], _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        name.withUnsafeBufferPointer { n in
            n.count == b.count && (n.count == 0 || memcmp(n.baseAddress!, b.baseAddress!, n.count) == 0)
        }
    }

    mutating func id(_ bytes: [UInt8]) -> Int { bytes.withUnsafeBufferPointer { id($0) } }

    func lookup(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { b in
            if let i = byHash[Self.hash(b)].map(Int.init), names[i] == bytes { return i }
            return collisions[bytes]
        }
    }

    /// The decoded name.
    func name(_ id: Int) -> String { JSONString.decode(canonical: names[id]) }
}

/// Dense ids for keyed user hashes; the index's user sets hold these ids.
struct UserDirectory: Sendable {
    private(set) var hashes: [UInt64] = []
    private var ids = HashSlots()

    var count: Int { hashes.count }

    @inline(__always)
    mutating func id(_ hash: UInt64) -> UInt32 {
        var added = false
        let next = UInt32(hashes.count)
        let i = ids.id(hash) {
            added = true
            return next
        }
        if added { hashes.append(hash) }
        return i
    }

    func lookup(_ hash: UInt64) -> UInt32? { ids[hash] }

    var memoryBytes: Int { hashes.capacity * 8 + ids.memoryBytes }
}

/// Dense ids for keyed session hashes: like `UserDirectory`, without keeping the hashes in id order, which
/// nothing reads back for sessions.
struct SessionDirectory: Sendable {
    private var ids = HashSlots()
    private(set) var count = 0

    @inline(__always)
    mutating func id(_ hash: UInt64) -> UInt32 {
        let next = UInt32(count)
        let id = ids.id(hash) { next }
        if id == next { count += 1 }
        return id
    }

    /// A directory with this one's count and no ids: what a snapshot of the event table carries, since scans
    /// only size their per-session sets by the count. Sharing the ids' slots instead would make the next new
    /// session copy them all (tens of MB) for as long as the snapshot lives.
    var countOnly: SessionDirectory {
        var d = SessionDirectory(ids: HashSlots(capacity: 0))
        d.count = count
        return d
    }

    init() {}

    private init(ids: HashSlots) { self.ids = ids }

    var memoryBytes: Int { ids.memoryBytes }
}
