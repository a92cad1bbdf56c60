import Logging
import Synchronization

/// Every event the raw log holds, as dictionary-encoded columns by UTC date: what breakdowns, filters,
/// visits, funnels and experiments scan instead of parsing JSON (docs/architecture.md).
///
/// It mirrors the raw log: filled from the segments at start-up, fed each durable commit by the index
/// applier, and trimmed when retention deletes a segment or a user is erased. Queries take a snapshot
/// (copy-on-write) and scan it without holding the lock.
public final class EventTable: Sendable {
    struct State: Sendable {
        var days: [Int: DayColumns] = [:]
        var users = UserDirectory()
        var sessions = UserDirectory()
        var types = NameTable()
        var features = NameTable()
        var pages = NameTable()
        var contextValues = [NameTable](repeating: NameTable(), count: Dimension.ContextSlot.allCases.count)
        /// Context tuples: `ContextSlot.allCases.count` little-endian UInt32 value codes (id + 1, 0 = absent).
        var contexts = NameTable()
        var propKeys = NameTable()
        var propValues = NameTable()
        /// Property sets: sorted (key id, value id) pairs as little-endian UInt32s; id 0 is the empty set.
        var propSets = NameTable()
        var events = 0

        init() {
            _ = contexts.id([UInt8](repeating: 0, count: 4 * Dimension.ContextSlot.allCases.count))
            _ = propSets.id([])
        }
    }

    let hasher: SipHash
    let state = Mutex(State())

    public init(hasher: SipHash) { self.hasher = hasher }

    /// A consistent copy to scan without the lock; the arrays are shared until the table changes them.
    var snapshot: State { state.withLock { $0 } }

    public var eventCount: Int { state.withLock { $0.events } }

    /// Adds the events of durable commits (from the index applier), in log order.
    func apply(_ commits: [IndexApplier.Commit]) {
        state.withLock { s in
            var parser = LineParser()
            for commit in commits {
                for batch in commit.batches {
                    batch.lines.withUnsafeBufferPointer { b in
                        for r in batch.records {
                            parser.add(UnsafeBufferPointer(rebasing: b[r.line.lowerBound..<(r.line.upperBound - 1)]), seq: commit.position.seq, to: &s, hasher: hasher)
                        }
                    }
                }
            }
        }
    }

    /// Reads every event of the raw log (at start-up, before the writer runs).
    func load(directory: String, nextSeq: Int, logger: Logger) throws {
        let replay = LogReplay(directory: directory, logger: logger)
        var files = replay.segments().map { ($0.seq, replay.path($0)) }
        files.append((nextSeq, replay.activePath))
        try state.withLock { s in
            var parser = LineParser()
            for (seq, path) in files where FileSystem.exists(path) {
                try SegmentReader.forEachLine(path: path) { line, _ in
                    parser.add(line, seq: seq, to: &s, hasher: hasher)
                }
            }
        }
    }

    /// Forgets the events of deleted segments.
    func dropSegments(_ seqs: Set<Int>) {
        guard !seqs.isEmpty else { return }
        state.withLock { s in
            for day in Array(s.days.keys) where s.days[day]!.segments.contains(where: { seqs.contains($0.seq) }) {
                s.events -= s.days[day]!.removeAll { _, seq in seqs.contains(seq) }
                if s.days[day]!.count == 0 { s.days[day] = nil }
            }
        }
    }

    /// Forgets a user's events (erasure); returns how many.
    func erase(userHash: UInt64) -> Int {
        state.withLock { s in
            guard let id = s.users.lookup(userHash) else { return 0 }
            var removed = 0
            for day in Array(s.days.keys) where s.days[day]!.user.contains(id) {
                let users = s.days[day]!.user
                removed += s.days[day]!.removeAll { i, _ in users[i] == id }
                if s.days[day]!.count == 0 { s.days[day] = nil }
            }
            s.events -= removed
            return removed
        }
    }

    public var memoryBytes: Int {
        state.withLock { s in
            s.days.values.reduce(0) { $0 + $1.memoryBytes } + s.users.memoryBytes + s.sessions.memoryBytes
        }
    }
}
