import Synchronization

/// Event ids stored within the dedup window, so client retries are not stored twice (docs/api.md).
/// Ids are kept as 64-bit hashes: memory stays flat, and a false match needs ~10^9 ids in the window.
public final class DedupCache: Sendable {
    struct State {
        var seen: [UInt64: Int64] = [:]
        var order: [(hash: UInt64, at: Int64)] = []
        var head = 0
    }

    let windowMs: Int64
    let maxIds: Int
    private let state = Locked(State())

    public init(windowSeconds: Int, maxIds: Int) {
        self.windowMs = Int64(windowSeconds) * 1000
        self.maxIds = maxIds
    }

    public var count: Int { state.withLock { $0.seen.count } }

    static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h ^ (h >> 29)
    }

    /// Marks the batch's new ids as stored and returns the indices of records that repeat a stored id.
    func reserve(_ batch: DecodedBatch, now: Int64) -> (duplicates: [Int], reserved: [UInt64]) {
        guard maxIds > 0, windowMs > 0 else { return ([], []) }
        var duplicates: [Int] = []
        var reserved: [UInt64] = []
        state.withLock { s in
            expire(&s, now: now)
            for (i, r) in batch.records.enumerated() {
                guard let id = r.id else { continue }
                let h = Self.hash(batch.lines[id])
                if s.seen[h] != nil {
                    duplicates.append(i)
                } else {
                    insert(&s, h, at: now)
                    reserved.append(h)
                }
            }
        }
        return (duplicates, reserved)
    }

    /// Forgets ids whose batch was not stored after all.
    func release(_ hashes: [UInt64]) {
        state.withLock { s in for h in hashes { s.seen[h] = nil } }
    }

    /// Every remembered id hash with when it was stored, for the shutdown snapshot.
    func entries() -> [(hash: UInt64, at: Int64)] {
        state.withLock { s in s.seen.map { ($0.key, $0.value) }.sorted { $0.at < $1.at } }
    }

    /// Restores entries of a snapshot (those still inside the window).
    func load(_ entries: [(hash: UInt64, at: Int64)], now: Int64) {
        guard maxIds > 0 else { return }
        state.withLock { s in
            for (h, at) in entries where at >= now - windowMs && s.seen[h] == nil { insert(&s, h, at: at) }
        }
    }

    /// Remembers an id read back from the log at start-up.
    public func remember(_ id: some Sequence<UInt8>, at: Int64, now: Int64) {
        guard maxIds > 0, at >= now - windowMs else { return }
        state.withLock { s in insert(&s, Self.hash(id), at: at) }
    }

    private func insert(_ s: inout State, _ h: UInt64, at: Int64) {
        s.seen[h] = at
        s.order.append((h, at))
        while s.seen.count > maxIds, s.head < s.order.count { drop(&s) }
    }

    private func expire(_ s: inout State, now: Int64) {
        while s.head < s.order.count, s.order[s.head].at < now - windowMs { drop(&s) }
        if s.head > 4096 && s.head * 2 > s.order.count {
            s.order.removeFirst(s.head)
            s.head = 0
        }
    }

    private func drop(_ s: inout State) {
        let (h, at) = s.order[s.head]
        if s.seen[h] == at { s.seen[h] = nil }
        s.head += 1
    }
}
