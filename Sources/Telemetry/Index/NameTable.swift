#if canImport(Glibc)
import Glibc
#endif

/// Interns names (event types, features, pages, dimension values, property sets) by their canonical (escaped)
/// bytes, so the hot path builds no strings.
///
/// The bytes lie one after another in chunks of up to 64 KiB (a longer name has a chunk of its own), each name
/// found by its chunk, start and length: 12 bytes a name besides its bytes, where an array per name took 48 to
/// 64 (a table of 9 M events has half a million property sets and values). A snapshot that shares the table
/// makes the next new name copy the last chunk and the spans, not every name.
struct NameTable: Sendable {
    private struct Span {
        var chunk: UInt32
        var start: UInt32
        var count: UInt32
    }

    private static let chunkSize = 64 << 10
    private var chunks: [[UInt8]] = []
    private var spans: [Span] = []
    private var byHash = HashSlots()
    private var collisions: [[UInt8]: Int] = [:]

    var count: Int { spans.count }

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
        let next = UInt32(count)
        let i = Int(byHash.id(h) {
            added = true
            return next
        })
        if added {
            append(b)
            return i
        }
        if equal(i, b) { return i }
        let key = Array(b)
        if let j = collisions[key] { return j }
        append(b)
        collisions[key] = count - 1
        return count - 1
    }

    private mutating func append(_ b: UnsafeBufferPointer<UInt8>) {
        if chunks.isEmpty || (!chunks[chunks.count - 1].isEmpty && chunks[chunks.count - 1].count + b.count > Self.chunkSize) {
            chunks.append([])
        }
        let last = chunks.count - 1
        spans.append(Span(chunk: UInt32(last), start: UInt32(chunks[last].count), count: UInt32(b.count)))
        chunks[last].append(contentsOf: b)
    }

    @inline(__always)
    private func equal(_ id: Int, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let span = spans[id]
        guard Int(span.count) == b.count else { return false }
        guard b.count > 0 else { return true }
        return chunks[Int(span.chunk)].withUnsafeBufferPointer { memcmp($0.baseAddress! + Int(span.start), b.baseAddress!, b.count) == 0 }
    }

    mutating func id(_ bytes: [UInt8]) -> Int { bytes.withUnsafeBufferPointer { id($0) } }

    func lookup(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { b in
            if let i = byHash[Self.hash(b)].map(Int.init), equal(i, b) { return i }
            return collisions[bytes]
        }
    }

    /// The canonical bytes of name `id` (a slice of its chunk: no copy).
    func bytes(_ id: Int) -> ArraySlice<UInt8> {
        let span = spans[id]
        return chunks[Int(span.chunk)][Int(span.start)..<Int(span.start + span.count)]
    }

    /// The decoded name.
    func name(_ id: Int) -> String { JSONString.decode(canonical: Array(bytes(id))) }

    var memoryBytes: Int { chunks.reduce(0) { $0 + $1.capacity + 48 } + spans.capacity * MemoryLayout<Span>.stride + byHash.memoryBytes }
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
