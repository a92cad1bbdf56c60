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
        var dirty: Set<Int> = [] {
            didSet { if dirty.isEmpty { lastDirty = nil } }
        }
        var lastDirty: Int?
        var live = LiveWindow()
    }

    let hasher: SipHash
    let state = Mutex(State())

    public init(hasher: SipHash) { self.hasher = hasher }

    public var position: LogPosition { state.withLock { $0.position } }

    public func committed(_ batches: [DecodedBatch], through position: LogPosition) {
        state.withLock { s in
            var day = DayCursor()
            for batch in batches {
                batch.lines.withUnsafeBufferPointer { b in
                    for r in batch.records {
                        Self.add(&s, hasher, ts: r.ts, b, type: r.eventType, feature: r.feature, user: r.user, day: &day)
                    }
                }
            }
            s.position = position
        }
    }

    /// Adds one stored event read back from the log.
    func add(_ event: StoredEvent, line: UnsafeBufferPointer<UInt8>, to s: inout State, day: inout DayCursor) {
        Self.add(&s, hasher, ts: event.ts, line, type: event.eventType, feature: event.feature, user: event.user, day: &day)
    }

    /// The date last added to within one hold of the lock, and where it sits in `days`: the events of a batch
    /// mostly share a date, and a dictionary index stays valid until a key is inserted.
    struct DayCursor {
        var dayNumber = Int.min
        var index: Dictionary<Int, DayAggregate>.Index?
    }

    @inline(__always)
    static func add(_ s: inout State, _ hasher: SipHash, ts: Int64, _ b: UnsafeBufferPointer<UInt8>,
                    type: Range<Int>, feature: Range<Int>?, user: Range<Int>?, day: inout DayCursor) {
        let date = CivilDate(epochMilliseconds: ts)
        let t = s.types.id(UnsafeBufferPointer(rebasing: b[type]))
        let f = feature.map { s.features.id(UnsafeBufferPointer(rebasing: b[$0])) }
        let hash = user.map { hasher.hash(UnsafeBufferPointer(rebasing: b[$0])) }
        let u = hash.map { s.users.id($0) }
        if day.dayNumber != date.dayNumber || day.index == nil {
            if s.days[date.dayNumber] == nil { s.days[date.dayNumber] = DayAggregate() }
            day = DayCursor(dayNumber: date.dayNumber, index: s.days.index(forKey: date.dayNumber))
        }
        s.days.values[day.index!].add(type: t, feature: f, user: u, hour: Int((ts - date.startMilliseconds) / 3_600_000))
        if s.lastDirty != date.dayNumber {
            // Most events of a batch share a date: skip the set's hashing for repeats.
            s.dirty.insert(date.dayNumber)
            s.lastDirty = date.dayNumber
        }
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
                + (s.types.names + s.features.names).reduce(0) { $0 + $1.count + 32 }
        }
    }
}
