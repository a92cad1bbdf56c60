#if canImport(Glibc)
import Glibc
#endif
import CTelemetryShims
import Foundation
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
        var sessions = SessionDirectory()
        var types = NameTable()
        var features = NameTable()
        var pages = NameTable()
        var contextValues = [NameTable](repeating: NameTable(), count: Dimension.ContextSlot.allCases.count)
        /// The context tuples, by `Dimension.ContextSlot.Part`.
        var contexts = Dimension.ContextSlot.Part.allCases.map(ContextTable.init)
        var propKeys = NameTable()
        var propValues = NameTable()
        /// Property sets: sorted (key id, value id) pairs as little-endian UInt32s; id 0 is the empty set.
        var propSets = NameTable()
        var events = 0
        /// Counts the times events were removed (retention, erasure): what day groups built before are
        /// checked against.
        var generation = 0
        /// Dates before yesterday with rows appended since they were packed: their row count when last looked
        /// at, and how many applies since it changed.
        var unpacked: [Int: (rows: Int, idle: Int)] = [:]
        /// Where packed dates before yesterday keep their columns; nil: on the heap.
        var columns: ColumnFile?

        init(columns: ColumnFile? = nil) {
            self.columns = columns
            _ = propSets.id([])
        }

        /// The dates of `from...to` that have rows, in order, with their columns.
        func dated(_ from: Int, _ to: Int) -> [(day: Int, columns: DayColumns)] {
            (from...max(from, to)).compactMap { day in day <= to ? days[day].map { (day, $0) } : nil }
        }

        /// Where the date `day` packs into: the column file for the dates before yesterday, which rows rarely
        /// reopen; the heap for the newest two, which ingest keeps appending to.
        func packing(_ day: Int) -> ColumnFile? {
            guard let newest = days.keys.max(), day < newest - 1 else { return nil }
            return columns
        }
    }

    /// The start-up load: commits that arrive before it is done, and who waits for it.
    struct Loading {
        var loaded = false
        /// The commits since the log was last read, in order, while their lines stay under `pendingLimit`.
        var pending: [IndexApplier.Commit] = []
        var pendingBytes = 0
        /// Set once the pending commits outgrew the limit and were let go: the load reads them back from the
        /// log, through this position (the newest commit's), instead.
        var readBackThrough: LogPosition?
        var waiters: [CheckedContinuation<Void, Never>] = []

        /// Keeps `commits` for the end of the load, or, past `limit` bytes, only where the log must be read up to.
        mutating func hold(_ commits: [IndexApplier.Commit], limit: Int) {
            guard let newest = commits.last?.position else { return }
            if readBackThrough == nil {
                pending += commits
                pendingBytes += commits.reduce(0) { $0 + $1.batches.reduce(0) { $0 + $1.lines.count } }
                guard pendingBytes > limit else { return }
                pending = []
                pendingBytes = 0
            }
            readBackThrough = newest
        }
    }

    /// How many bytes of lines the commits that arrive during the start-up load may hold in memory; past it,
    /// the load reads them from the log (a busy daemon's load can take a minute: 30 M events at full ingest).
    public static let pendingLimitDefault = 32 << 20

    let hasher: SipHash
    let state: Locked<State>
    private let columns: ColumnFile?
    /// What unfiltered breakdowns and visit counts keep of each date's events.
    let caches = DayCaches()
    private let loading = Locked(Loading())
    private let cancelled = AtomicFlag()
    private let pendingLimit: Int

    /// A table whose packed dates go to an unnamed file in `directory` (nil: they stay on the heap).
    public init(hasher: SipHash, directory: String? = nil, pendingLimit: Int = pendingLimitDefault) {
        self.hasher = hasher
        self.pendingLimit = pendingLimit
        columns = directory.flatMap { ColumnFile(directory: $0) }
        state = Locked(State(columns: columns))
    }

    /// Lets go of the column-file pages a scan mapped (`ColumnFile.dropResidentPages`).
    func releaseScannedPages() { columns?.dropResidentPages() }

    /// A consistent copy to scan without the lock; the arrays are shared until the table changes them, except
    /// the session directory's slots, which scans never read (its count only).
    var snapshot: State {
        state.withLock { s in
            var copy = s
            copy.sessions = s.sessions.countOnly
            return copy
        }
    }

    public var eventCount: Int { state.withLock { $0.events } }

    /// Adds the events of durable commits (from the index applier), in log order; while the table is still
    /// loading, they wait to be added after the log it reads.
    func apply(_ commits: [IndexApplier.Commit]) {
        let waiting = loading.withLock { l in
            if !l.loaded { l.hold(commits, limit: pendingLimit) }
            return !l.loaded
        }
        guard !waiting else { return }
        state.withLock { s in
            Self.add(commits, to: &s, hasher: hasher)
            Self.packIdleDates(&s)
        }
    }

    /// How many applies a date before yesterday must go without new rows before it is packed, the first time
    /// late rows reopen it; each further reopening doubles it, up to `idleAppliesBeforePacking << 10`.
    static let idleAppliesBeforePacking = 64

    /// The quiet spell a date reopened `reopenings` times waits for.
    static func quietSpell(reopenings: Int) -> Int { idleAppliesBeforePacking << min(max(reopenings - 1, 0), 10) }

    /// Packs the dates before yesterday (of the newest date held) that rows were appended to, once no rows
    /// have come for them in a quiet spell of applies: their spare capacity goes, and a trickle of late events
    /// for an old date costs one repack per quiet spell rather than one per apply. A date that keeps being
    /// reopened (clients replaying their offline queues all day) waits twice as long each time, so its repacks
    /// cost a logarithmic number of copies, not one per spell.
    private static func packIdleDates(_ s: inout State) {
        guard let newest = s.days.keys.max() else { return }
        var pack: [Int] = []
        var watched: [Int: (rows: Int, idle: Int)] = [:]
        for (day, d) in s.days where day < newest - 1 {
            if d.isCompact {
                // Packed on the heap while it was one of the newest two dates: to the file as it is.
                if !d.isStored && s.columns != nil { pack.append(day) }
                continue
            }
            // A date first seen here had rows in this very apply: its quiet spell starts at the next.
            var w = s.unpacked[day] ?? (-1, 0)
            if w.rows == d.count { w.idle += 1 } else { w = (d.count, 0) }
            if w.idle >= quietSpell(reopenings: d.reopenings) { pack.append(day) } else { watched[day] = w }
        }
        s.unpacked = watched
        for day in pack { s.days[day]!.compact(into: s.columns) }
    }

    /// Packs the dates before yesterday that were never packed (the load, between segments); a date that late
    /// rows reopen is packed once, at the end of the load.
    private static func packClosedDates(_ s: inout State) {
        guard let newest = s.days.keys.max() else { return }
        let closed = s.days.compactMap { day, d in day < newest - 1 && !d.wasPacked ? day : nil }
        for day in closed { s.days[day]!.compact(into: s.columns) }
    }

    private static func add(_ commits: [IndexApplier.Commit], to s: inout State, hasher: SipHash) {
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

    /// What the table reads at start-up: the closed segments, which nothing changes until the load is done
    /// (compression, retention and erasure wait for it), and the active segment as it was when the daemon
    /// opened it, read through a descriptor opened then (the writer may rename it meanwhile).
    struct LoadPlan: Sendable {
        var directory: String
        var closed: [(seq: Int, path: String)]
        var activeSeq: Int
        var active: Int32?
        var activeSize: Int

        init(directory: String, nextSeq: Int, logger: Logger) {
            let replay = LogReplay(directory: directory, logger: logger)
            self.directory = directory
            closed = replay.segments().map { ($0.seq, replay.path($0)) }
            activeSeq = nextSeq
            let fd = open(replay.activePath, O_RDONLY | O_CLOEXEC)
            active = fd >= 0 ? fd : nil
            activeSize = FileSystem.size(replay.activePath) ?? 0
        }
    }

    /// Reads the raw log on a thread of its own; queries wait for it (`waitUntilLoaded`), ingest does not.
    func startLoading(_ plan: LoadPlan, logger: Logger) {
        let started = ContinuousClock.now
        let thread = Thread(named: "table-load") { [self] in
            var fresh = State(columns: columns)
            var parser = LineParser()
            defer { if let fd = plan.active { close(fd) } }
            do {
                for (seq, path) in plan.closed where FileSystem.exists(path) {
                    guard !cancelled.isSet else { return }
                    try SegmentReader.forEachLine(path: path) { line, _ in parser.add(line, seq: seq, to: &fresh, hasher: hasher) }
                    // Dates the log has moved past are packed now, so that the load's spare capacity stays small.
                    Self.packClosedDates(&fresh)
                }
                if let fd = plan.active {
                    try SegmentReader.forEachLine(fd: fd, from: 0, to: plan.activeSize) { line, _ in
                        parser.add(line, seq: plan.activeSeq, to: &fresh, hasher: hasher)
                    }
                }
            } catch {
                logger.error("reading the raw log into the event table failed; dimension answers miss its events", metadata: ["error": "\(error)"])
            }
            // Appending left spare capacity in the newest dates' columns (and in dates a late event reopened);
            // the reopenings the load saw are not ingest's, whose quiet spells start over.
            for day in Array(fresh.days.keys) {
                fresh.days[day]!.compact(into: fresh.packing(day))
                fresh.days[day]!.reopenings = 0
            }
            // The columns' growth left freed heap behind: give it back to the system. From here on, blocks up to
            // 4 MiB come from the heap again (`Storage.open` lowered it for the load), which keeps the scans'
            // temporaries' pages between the questions of a dashboard's burst.
            telemetry_release_free_heap()
            telemetry_set_mapped_allocation_threshold(4 << 20)
            // What was committed meanwhile: the commits held, or, once they outgrew the limit, the log read again
            // from where the load left off, as often as it takes to catch up.
            var readThrough = LogPosition(seq: plan.activeSeq, offset: plan.activeSize)
            while !cancelled.isSet {
                let step: (through: LogPosition?, waiters: [CheckedContinuation<Void, Never>]) = loading.withLock { l in
                    if let through = l.readBackThrough {
                        l.readBackThrough = nil
                        return (through, [])
                    }
                    Self.add(l.pending, to: &fresh, hasher: hasher)
                    l.pending = []
                    l.pendingBytes = 0
                    let events = fresh.events
                    state.withLock { $0 = fresh }
                    l.loaded = true
                    logger.info("event table loaded", metadata: ["events": "\(events)", "seconds": "\((ContinuousClock.now - started).seconds)"])
                    defer { l.waiters = [] }
                    return (nil, l.waiters)
                }
                guard let through = step.through else {
                    for waiter in step.waiters { waiter.resume() }
                    return
                }
                do {
                    try Self.readLog(from: readThrough, through: through, directory: plan.directory, logger: logger) { line, seq in
                        parser.add(line, seq: seq, to: &fresh, hasher: hasher)
                    }
                } catch {
                    logger.error("reading back what was committed during the event table's load failed; dimension answers miss its events",
                                 metadata: ["error": "\(error)"])
                }
                readThrough = through
            }
        }
        thread.start()
    }

    /// Calls `line` with each line the log holds after position `from` through `through` (commit positions), in order.
    /// The segments it reads are those written since the start-up (the writer's, never compressed or deleted
    /// before the load is done); the active one is read only up to `through`, since the writer keeps appending.
    static func readLog(from: LogPosition, through: LogPosition, directory: String, logger: Logger,
                        _ line: (UnsafeBufferPointer<UInt8>, Int) -> Void) throws {
        let replay = LogReplay(directory: directory, logger: logger)
        var at = from
        while at.seq <= through.seq {
            let end = at.seq == through.seq ? through.offset : nil
            if let end, at.offset >= end { break }
            let seq = at.seq
            // The segment `seq` is either rotated (named by its seq) or still the active file. Opened as active and not
            // found rotated after the open, it was the active file when opened: rotation renames it before it
            // creates the next.
            func rotated() -> String? { replay.segments().first { $0.seq == seq }.map(replay.path) }
            var path = rotated()
            var fd: Int32 = -1
            if path == nil {
                fd = open(replay.activePath, O_RDONLY | O_CLOEXEC)
                if let moved = rotated() {
                    if fd >= 0 { close(fd) }
                    path = moved
                    fd = -1
                }
            }
            if let path {
                guard !path.hasSuffix(".gz") else { throw FileError("read back (compressed during the load)", path, code: EINVAL) }
                fd = open(path, O_RDONLY | O_CLOEXEC)
            }
            guard fd >= 0 else { throw FileError("open", path ?? replay.activePath) }
            defer { close(fd) }
            try SegmentReader.forEachLine(fd: fd, from: at.offset, to: end) { bytes, _ in line(bytes, seq) }
            at = LogPosition(seq: seq + 1, offset: 0)
        }
    }

    /// Returns once the start-up load is done.
    func waitUntilLoaded() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let ready = loading.withLock { l in
                if !l.loaded { l.waiters.append(done) }
                return l.loaded
            }
            if ready { done.resume() }
        }
    }

    var isLoaded: Bool { loading.withLock { $0.loaded } }

    /// Stops a load in progress (shutdown).
    func stopLoading() { cancelled.set() }

    /// Forgets the events of deleted segments.
    func dropSegments(_ seqs: Set<Int>) {
        guard !seqs.isEmpty else { return }
        defer { forgetDerived() }
        state.withLock { s in
            s.generation += 1
            for day in Array(s.days.keys) where s.days[day]!.segments.contains(where: { seqs.contains($0.seq) }) {
                s.events -= s.days[day]!.removeAll(into: s.packing(day)) { _, seq in seqs.contains(seq) }
                if s.days[day]!.count == 0 { s.days[day] = nil }
            }
        }
    }

    /// Forgets a user's events (erasure); returns how many.
    func erase(userHash: UInt64) -> Int {
        state.withLock { s in
            guard let id = s.users.lookup(userHash) else { return 0 }
            s.generation += 1
            defer { forgetDerived() }
            var removed = 0
            for day in Array(s.days.keys) where s.days[day]!.user.contains(id) {
                let users = s.days[day]!.user
                removed += s.days[day]!.removeAll(into: s.packing(day)) { i, _ in users[i] == id }
                if s.days[day]!.count == 0 { s.days[day] = nil }
            }
            s.events -= removed
            return removed
        }
    }

    /// Forgets what was worked out from the dates' rows (events were removed).
    private func forgetDerived() { caches.removeAll() }

    /// The bytes of the column file's regions (the closed dates' columns and what the caches keep of them).
    public var fileBytes: Int { columns?.liveBytes ?? 0 }

    /// An estimate of the bytes the columns on the heap, the larger dictionaries and the caches hold.
    public var memoryBytes: Int {
        state.withLock { s in
            s.days.values.reduce(0) { $0 + $1.memoryBytes } + s.users.memoryBytes + s.sessions.memoryBytes + s.contexts.reduce(0) { $0 + $1.memoryBytes }
                + s.propSets.memoryBytes + s.propValues.memoryBytes + s.pages.memoryBytes + caches.memoryBytes
        }
    }
}
