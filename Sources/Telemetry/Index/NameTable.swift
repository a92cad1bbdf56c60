/// Interns event types and features by their canonical (escaped) bytes, so the hot path builds no strings.
struct NameTable: Sendable {
    private(set) var names: [[UInt8]] = []
    private var byHash: [UInt64: Int] = [:]
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
        if let i = byHash[h] {
            if names[i].elementsEqual(b) { return i }
            let key = Array(b)
            if let j = collisions[key] { return j }
            names.append(key)
            collisions[key] = names.count - 1
            return names.count - 1
        }
        names.append(Array(b))
        byHash[h] = names.count - 1
        return names.count - 1
    }

    mutating func id(_ bytes: [UInt8]) -> Int { bytes.withUnsafeBufferPointer { id($0) } }

    func lookup(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { b in
            if let i = byHash[Self.hash(b)], names[i] == bytes { return i }
            return collisions[bytes]
        }
    }

    /// The decoded name.
    func name(_ id: Int) -> String { JSONString.decode(canonical: names[id]) }
}

/// Dense ids for keyed user hashes; the index's user sets hold these ids.
struct UserDirectory: Sendable {
    private(set) var hashes: [UInt64] = []
    private var ids: [UInt64: UInt32] = [:]

    var count: Int { hashes.count }

    @inline(__always)
    mutating func id(_ hash: UInt64) -> UInt32 {
        if let i = ids[hash] { return i }
        let i = UInt32(hashes.count)
        hashes.append(hash)
        ids[hash] = i
        return i
    }

    func lookup(_ hash: UInt64) -> UInt32? { ids[hash] }

    var memoryBytes: Int { hashes.capacity * 8 + ids.capacity * 24 }
}
