import Synchronization

/// The exact day index: per UTC date, counts by type and feature and the set of users.
/// Fed by the writer as batches become durable; read by the usage queries. Memory grows with
/// distinct users, features and dates, not with events.
public final class DayIndex: CommitObserver, Sendable {
    struct State {
        var days: [Int: DayAggregate] = [:]
        var users = UserDirectory()
        var types = NameTable()
        var features = NameTable()
        var position = LogPosition(seq: 1, offset: 0)
        /// Lines committed since the daemon started, counted with `position` (the ClickHouse sink's lag).
        var committedLines = 0
        var dirty: Set<Int> = []
        var live = LiveWindow()
    }

    let hasher: SipHash
    let state = Locked(State())

    public init(hasher: SipHash) { self.hasher = hasher }

    /// An index over given aggregates (the filtered figures of the event table).
    init(hasher: SipHash, state: State) {
        self.hasher = hasher
        self.state.withLock { $0 = state }
    }

    public var position: LogPosition { state.withLock { $0.position } }

    /// The committed position with the count of lines committed since start-up up to it.
    var committedCount: (position: LogPosition, lines: Int) { state.withLock { ($0.position, $0.committedLines) } }

    public func committed(_ batches: [DecodedBatch], through position: LogPosition) {
        apply([IndexApplier.Commit(batches: batches, position: position)])
    }

    /// Adds the events of durable commits, in log order, within one hold of the lock.
    func apply(_ commits: [IndexApplier.Commit]) {
        guard let last = commits.last else { return }
        state.withLock { s in
            var day = DayCursor()
            for commit in commits {
                for batch in commit.batches {
                    s.committedLines += batch.records.count
                    batch.lines.withUnsafeBufferPointer { b in
                        for r in batch.records {
                            Self.add(&s, hasher, ts: r.ts, b, type: r.eventType, feature: r.feature, user: r.user, day: &day)
                        }
                    }
                }
            }
            s.position = last.position
        }
    }

    /// Bulk loading at start-up (stored aggregates, then the raw log): the state is lent to the loader whole,
    /// so a file's events go in without taking the lock per event.
    struct Bulk {
        var state: State
        let hasher: SipHash
        var cursor = DayCursor()

        /// Adds one stored event read back from the log.
        mutating func add(_ event: StoredEvent, line: UnsafeBufferPointer<UInt8>) {
            DayIndex.add(&state, hasher, ts: event.ts, line, type: event.eventType, feature: event.feature, user: event.user, day: &cursor)
        }

        /// Forgets what is known of a date (its raw events are about to be added again).
        mutating func clear(day: Int) {
            state.days[day] = nil
            cursor = DayCursor()  // the removal moved every index
        }
    }

    func load<R>(_ body: (inout Bulk) throws -> R) rethrows -> R {
        try state.withLock { s in
            var bulk = Bulk(state: State(), hasher: hasher)
            swap(&bulk.state, &s)
            defer { swap(&bulk.state, &s) }
            return try body(&bulk)
        }
    }

    /// What changed since the last call, taken under the lock as copies-on-write; encoding happens outside it.
    struct Changes {
        var days: [(Int, DayAggregate)]
        var removed: [Int]
        var position: LogPosition
        var types: NameTable
        var features: NameTable
        var users: UserDirectory
    }

    func takeChanges() -> Changes {
        state.withLock { s in
            let dirty = s.dirty
            s.dirty = []
            var changes = Changes(days: [], removed: [], position: s.position, types: s.types, features: s.features, users: s.users)
            for day in dirty {
                if let agg = s.days[day] { changes.days.append((day, agg)) } else { changes.removed.append(day) }
            }
            return changes
        }
    }

    /// Puts dates back among the changed ones after a failed write.
    func markChanged(_ days: [Int]) { state.withLock { $0.dirty.formUnion(days) } }

    /// The dates added to within one hold of the lock, and where they sit in `days`: a batch's events span a few
    /// dates, and a dictionary index stays valid until a key is inserted. A date enters `dirty` once per hold.
    struct DayCursor {
        static let slots = 8
        var days = [Int](repeating: .min, count: slots)
        var indices = [Dictionary<Int, DayAggregate>.Index?](repeating: nil, count: slots)
        var next = 0

        @inline(__always)
        mutating func index(of day: Int, in s: inout State) -> Dictionary<Int, DayAggregate>.Index {
            for k in 0..<Self.slots where days[k] == day { return indices[k]! }
            if s.days[day] == nil {
                s.days[day] = DayAggregate()
                // The insertion moved every index: forget them all.
                for k in 0..<Self.slots { days[k] = .min }
            }
            s.dirty.insert(day)
            let index = s.days.index(forKey: day)!
            days[next] = day
            indices[next] = index
            next = (next + 1) % Self.slots
            return index
        }
    }

    @inline(__always)
    static func add(_ s: inout State, _ hasher: SipHash, ts: Int64, _ b: UnsafeBufferPointer<UInt8>,
                    type: Range<Int>, feature: Range<Int>?, user: Range<Int>?, day: inout DayCursor) {
        let date = CivilDate(epochMilliseconds: ts)
        let t = s.types.id(UnsafeBufferPointer(rebasing: b[type]))
        let f = feature.map { s.features.id(UnsafeBufferPointer(rebasing: b[$0])) }
        let hash = user.map { hasher.hash(UnsafeBufferPointer(rebasing: b[$0])) }
        let u = hash.map { s.users.id($0) }
        let index = day.index(of: date.dayNumber, in: &s)
        s.days.values[index].add(type: t, feature: f, user: u, hour: Int((ts - date.startMilliseconds) / Milliseconds.hour))
        s.live.add(ts: ts, user: hash)
    }

    /// Drops the dates before `oldest`.
    public func prune(before oldest: CivilDate) -> Int {
        state.withLock { s in
            let old = s.days.keys.filter { $0 < oldest.dayNumber }
            for d in old {
                s.days[d] = nil
                s.dirty.insert(d)
            }
            return old.count
        }
    }

    public var dayCount: Int { state.withLock { $0.days.count } }
    public var userCount: Int { state.withLock { $0.users.count } }

    /// An estimate of the bytes the index holds.
    public var memoryBytes: Int {
        state.withLock { s in
            s.days.values.reduce(0) { $0 + $1.memoryBytes } + s.users.memoryBytes
                + s.types.memoryBytes + s.features.memoryBytes
        }
    }
}
