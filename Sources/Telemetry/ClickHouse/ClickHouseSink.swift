#if canImport(Glibc)
import Glibc
#endif
import CoreMetrics
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Ships one site's committed events to ClickHouse (docs/clickhouse.md): reads the log from its cursor, sends
/// blocks of rows (`INSERT … FORMAT JSONEachRow`, gzip) and moves the cursor after each acknowledged block.
/// At-least-once by the cursor, exactly-once in effect by the table (`ReplacingMergeTree` keyed by the event's
/// identity) and, on servers that have it, the block's deterministic `insert_deduplication_token`. ClickHouse
/// down or refusing: the log keeps taking events; the sink backs off (1 s doubling to a minute) and catches up.
public final class ClickHouseSink: Service, Sendable {
    /// A block closes at this many bytes of stored lines, or at a segment's end.
    static let blockBytes = 4 << 20
    /// Lines wait this long to gather into a block before a block smaller than `blockBytes` is sent.
    static let gatherInterval: Duration = .seconds(1)

    let site: String
    /// The site's data directory.
    let directory: String
    /// The log's committed position, with the count of lines committed since start-up up to it.
    let committed: @Sendable () -> (position: LogPosition, lines: Int)
    let client: ClickHouseClient
    let cursor: ClickHouseCursor
    let logger: Logger
    let now: @Sendable () -> Int64
    /// The longest wait between attempts while ClickHouse fails (a minute; tests shorten it).
    let maxBackoff: Duration
    private let lag = Locked(Lag())
    private let metrics: Metrics
    private let capabilities = Locked<ClickHouseSchema.Capabilities?>(nil)
    private let baseline = Locked<Baseline?>(nil)
    /// The blocks read but not yet acknowledged (in flight or read ahead): where each ends and when its oldest
    /// event was received, for `lag_seconds`.
    private let unacknowledged = Locked<[(end: LogPosition, oldest: Int64)]>([])
    /// One insert or delete at a time: an erasure's delete waits for a block in flight, which may hold the
    /// user's rows, so that it removes them too.
    private let gate = SerialGate()

    /// What `/health` and `/metrics` report.
    public struct Lag: Sendable, Equatable {
        public var events = 0
        public var bytes = 0
        public var seconds = 0.0
        /// When the oldest unshipped event was received.
        var oldest: Int64?
    }

    struct Metrics {
        let lagEvents, lagBytes, lagSeconds: CoreMetrics.Gauge
        let shipped, failures, deletedUnshipped: CoreMetrics.Counter

        init(site: String, factory: any MetricsFactory) {
            let d = [("site", site)]
            lagEvents = CoreMetrics.Gauge(label: "telemetry_clickhouse_lag_events", dimensions: d, factory: factory)
            lagBytes = CoreMetrics.Gauge(label: "telemetry_clickhouse_lag_bytes", dimensions: d, factory: factory)
            lagSeconds = CoreMetrics.Gauge(label: "telemetry_clickhouse_lag_seconds", dimensions: d, factory: factory)
            shipped = CoreMetrics.Counter(label: "telemetry_clickhouse_shipped_events_total", dimensions: d, factory: factory)
            failures = CoreMetrics.Counter(label: "telemetry_clickhouse_insert_failures_total", dimensions: d, factory: factory)
            deletedUnshipped = CoreMetrics.Counter(label: "telemetry_clickhouse_unshipped_segments_deleted_total", dimensions: d, factory: factory)
        }
    }

    /// One block of rows: the lines of one segment from `start` to `end`.
    struct Block {
        var rows: [UInt8] = []
        /// `rows` gzip-compressed, as sent.
        var body: [UInt8] = []
        var events = 0
        /// Lines read, including any that did not parse (never shipped, but past the cursor).
        var lines = 0
        var start: LogPosition
        var end: LogPosition
        var oldestReceivedAt: Int64?
        var full = false
        var generation: Int
        /// Moves past segments that are gone (retention deleted them unshipped): the lag is counted again.
        var skipped = false

        /// Replaces `rows` with their gzip text, as sent.
        mutating func compress() throws {
            guard !rows.isEmpty else { return }
            body = try Gzip.compress(rows, level: 1)
            rows = []
        }
    }

    init(
        site: String, directory: String, committed: @escaping @Sendable () -> (position: LogPosition, lines: Int),
        client: ClickHouseClient, cursor: ClickHouseCursor, metrics: TelemetryMetrics, logger: Logger, now: @escaping @Sendable () -> Int64,
        maxBackoff: Duration = .seconds(60)
    ) {
        self.maxBackoff = maxBackoff
        self.site = site
        self.directory = directory
        self.committed = committed
        self.client = client
        self.cursor = cursor
        self.logger = logger
        self.now = now
        self.metrics = Metrics(site: site, factory: metrics.factory)
    }

    /// The sink of a running site's storage.
    convenience init(
        site: String, storage: Storage, client: ClickHouseClient, cursor: ClickHouseCursor, logger: Logger, maxBackoff: Duration = .seconds(60)
    ) {
        let index = storage.index
        self.init(
            site: site, directory: storage.configuration.dataDirectory, committed: { index.committedCount },
            client: client, cursor: cursor, metrics: storage.metrics, logger: logger, now: storage.now, maxBackoff: maxBackoff)
        // Retention keeps what has not been shipped, up to the lag limit.
        let lagLimitMs = Int64(storage.configuration.clickhouse.lagLimitDays) * Milliseconds.day
        storage.maintenance.setRetentionGuard { [cursor, logger, metrics] name, newest, cutoff in
            let shipped = name.seq < cursor.current.position.seq
            if shipped { return true }
            guard newest < cutoff - lagLimitMs else { return false }
            logger.error("deleting a segment ClickHouse has not been sent: it is past raw retention and the lag limit", metadata: [
                "site": "\(site)", "segment": "\(name)"])
            metrics.deletedUnshipped.increment()
            return true
        }
    }

    public var currentLag: Lag { lag.withLock { $0 } }

    public func run() async throws {
        var backoff: Duration = .seconds(1)
        var failing = false
        var erasureFailing = false
        var lastShipped = ContinuousClock.now
        var prefetched: Task<[Block], any Error>?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await prepare()
                do {
                    try await carryOutErasures()
                    erasureFailing = false
                } catch {
                    // Shipping goes on; the erasure stays recorded and is tried again on the next round.
                    if !erasureFailing {
                        erasureFailing = true
                        logger.error("deleting an erased user's rows in ClickHouse failed; retrying", metadata: ["site": "\(site)", "error": "\(error)"])
                    }
                }
                let blocks: [Block]
                if let next = prefetched {
                    blocks = try await next.value
                    prefetched = nil
                } else {
                    blocks = try await readBlocks()
                }
                guard let first = blocks.first, first.events > 0 || first.end != first.start else {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.gatherInterval) }
                    continue
                }
                if !first.full, lastShipped.duration(to: .now) < Self.gatherInterval {
                    let until = lastShipped + Self.gatherInterval
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(until: until) }
                    continue
                }
                // Behind a closed segment the next one is read and encoded while this one is sent.
                if let last = blocks.last, last.end.seq > last.start.seq {
                    prefetched = Task { try await self.readBlocks(from: last.end) }
                }
                for block in blocks {
                    try await ship(block)
                    logger.debug("shipped", metadata: ["site": "\(site)", "from": "\(block.start)", "to": "\(block.end)", "events": "\(block.events)"])
                }
                lastShipped = .now
                if failing {
                    failing = false
                    logger.info("ClickHouse takes events again", metadata: ["site": "\(site)"])
                }
                backoff = .seconds(1)
            } catch is StaleBlock {
                prefetched?.cancel()
                _ = try? await prefetched?.value
                prefetched = nil
                unacknowledged.withLock { $0.removeAll() }
            } catch {
                prefetched?.cancel()
                _ = try? await prefetched?.value
                prefetched = nil
                metrics.failures.increment()
                if !failing {
                    failing = true
                    logger.warning("shipping to ClickHouse failed; the log keeps the events and the sink retries with backoff", metadata: [
                        "site": "\(site)", "error": "\(error)"])
                }
                unacknowledged.withLock { $0.removeAll() }
                _ = try? await Self.offPool { [self] in updateLag() }
                let wait = backoff
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
                backoff = min(backoff * 2, maxBackoff)
            }
        }
        await client.shutdown()
    }

    /// Learns the server's version and creates the database and table when missing, once.
    func prepare() async throws {
        guard capabilities.withLock({ $0 }) == nil else { return }
        let found = ClickHouseSchema.Capabilities(major: try await client.majorVersion())
        let settings = client.settings
        _ = try await client.execute(ClickHouseSchema.createDatabase(settings.database))
        _ = try await client.execute(
            ClickHouseSchema.createTable(settings.qualifiedTable, found),
            parameters: found.lowCardinality ? [] : [("allow_experimental_low_cardinality_type", "1")])
        capabilities.withLock { $0 = found }
        logger.info("shipping events to ClickHouse", metadata: [
            "site": "\(site)", "server": "\(found.major)", "table": "\(settings.qualifiedTable)",
            "deduplication_token": "\(found.deduplicationToken)"])
    }

    /// Deletes the rows of users erased here since the last run.
    func carryOutErasures() async throws {
        try await prepare()
        try await gate.run { try await self.deleteErased() }
    }

    private func deleteErased() async throws {
        for user in cursor.current.erasures {
            try await Self.delete(user: user, site: site, client: client, capabilities: capabilities.withLock { $0 })
            try cursor.erased(user)
            logger.info("user erased in ClickHouse", metadata: ["site": "\(site)"])
        }
    }

    static func delete(user: String, site: String, client: ClickHouseClient, capabilities: ClickHouseSchema.Capabilities?) async throws {
        let condition = "site = \(ClickHouseClient.literal(site)) AND user_id = \(ClickHouseClient.literal(user))"
        let table = client.settings.qualifiedTable
        if capabilities?.lightweightDelete == true {
            _ = try await client.execute("DELETE FROM \(table) WHERE \(condition)")
        } else if capabilities?.mutationsSync == true {
            _ = try await client.execute("ALTER TABLE \(table) DELETE WHERE \(condition)", parameters: [("mutations_sync", "1")])
        } else {
            // 18.x: the mutation runs in the background; wait for it (a minute at most, then it counts as failed
            // and is asked for again, which ClickHouse runs as one more mutation).
            _ = try await client.execute("ALTER TABLE \(table) DELETE WHERE \(condition)")
            let pending = "SELECT count() FROM system.mutations WHERE database = \(ClickHouseClient.literal(client.settings.database)) "
                + "AND table = \(ClickHouseClient.literal(client.settings.table)) AND is_done = 0"
            let deadline = ContinuousClock.now + .seconds(60)
            while String(decoding: try await client.execute(pending), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) != "0" {
                guard ContinuousClock.now < deadline else { throw ClickHouseClient.Failure(status: nil, message: "the delete mutation is still running after a minute") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// The next blocks from the cursor, up to what the log has committed (none when there is nothing to ship):
    /// the rest of a closed segment, read in one pass, or the active segment's tail; gzip-compressed, with the lag
    /// brought up to date. Read on a thread of its own, off the cooperative pool.
    func readBlocks(from start: LogPosition? = nil) async throws -> [Block] {
        try await Self.offPool { [self] in
            let blocks = try Self.read(directory: directory, committed: { committed().position }, cursor: cursor, site: site, from: start)
            unacknowledged.withLock { list in
                for block in blocks {
                    guard let oldest = block.oldestReceivedAt, !list.contains(where: { $0.end == block.end }) else { continue }
                    list.append((block.end, oldest))
                }
            }
            updateLag()
            return blocks
        }
    }

    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, any Error>) in
            Thread(named: "clickhouse") {
                do {
                    done.resume(returning: try work())
                } catch {
                    done.resume(throwing: error)
                }
            }.start()
        }
    }

    /// The sequence numbers of the closed segments; throws when the directory cannot be listed.
    static func closedSegments(_ directory: String) throws -> [Int] {
        try FileManager.default.contentsOfDirectory(atPath: directory).compactMap { SegmentName(fileName: $0)?.seq }
    }

    /// Reads on the calling thread (a thread of its own, off the cooperative pool).
    static func read(
        directory: String, committed now: () -> LogPosition, cursor: ClickHouseCursor, site: String, from start: LogPosition? = nil
    ) throws -> [Block] {
        let state = cursor.current
        let committed = now()
        var position = start ?? state.position
        guard position < committed else { return [] }
        let rows = ClickHouseRow(site: site, instance: state.instance)
        // The committed position may still name a segment that has just been closed (the index learns of the
        // next commit after the writer has rotated): a closed file of that number is read as closed.
        let closedPath = ClickHouseCursor.segmentPath(seq: position.seq, directory: directory, activeSeq: -1)
        if position.seq < committed.seq || closedPath != nil {
            // A closed segment (or one retention deleted: skip to the next one there is).
            guard let path = closedPath else {
                // Only the oldest segments go (retention), so a segment is gone only when every closed segment
                // left is newer; a gap in the middle, or a listing that failed or missed a file being renamed by
                // compression, is read again on the next round.
                let seqs = try Self.closedSegments(directory)
                guard !seqs.contains(where: { $0 < position.seq }) else {
                    throw ClickHouseClient.Failure(status: nil, message: "segment \(position.seq) is missing from \(directory)")
                }
                Thread.sleep(forTimeInterval: 0.1)
                guard ClickHouseCursor.segmentPath(seq: position.seq, directory: directory, activeSeq: -1) == nil else { return [] }
                let next = seqs.filter { $0 > position.seq }.min()
                position = LogPosition(seq: min(next ?? committed.seq, committed.seq), offset: 0)
                var skip = Block(start: start ?? state.position, end: position, generation: state.generation)
                skip.skipped = true
                return [skip]
            }
            // The rest of the segment in blocks of `blockBytes`, sent at once: more of the log waits behind them.
            var blocks: [Block] = []
            var block = Block(start: position, end: position, full: true, generation: state.generation)
            try SegmentReader.forEachLine(path: path, skipping: position.offset) { line, offset in
                if block.rows.count >= blockBytes {
                    block.end = LogPosition(seq: position.seq, offset: offset)
                    try block.compress()
                    blocks.append(block)
                    block = Block(start: block.end, end: block.end, full: true, generation: state.generation)
                }
                add(line, offset: offset, seq: position.seq, rows: rows, to: &block)
            }
            block.end = LogPosition(seq: position.seq + 1, offset: 0)
            try block.compress()
            blocks.append(block)
            return blocks
        }
        // The active segment, up to the committed offset; read again later if it was rotated meanwhile.
        let path = directory + "/" + SegmentName.active
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        // Opened before the rename that closes it, the file is this segment whatever happens next; opened after,
        // the closed file exists now, and the next round reads that.
        guard ClickHouseCursor.segmentPath(seq: position.seq, directory: directory, activeSeq: -1) == nil else { return [] }
        let length = min(committed.offset - position.offset, blockBytes)
        var bytes = [UInt8](repeating: 0, count: length)
        var got = 0
        while got < length {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, length - got, off_t(position.offset + got)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return [] }
            got += n
        }
        var block = Block(start: position, end: position, generation: state.generation)
        var consumed = 0
        bytes.withUnsafeBufferPointer { b in
            SegmentReader.forEachLine(in: b) { line, offset in
                add(line, offset: position.offset + offset, seq: position.seq, rows: rows, to: &block)
                consumed = offset + line.count + 1
            }
        }
        block.end = LogPosition(seq: position.seq, offset: position.offset + consumed)
        block.full = length == blockBytes
        try block.compress()
        return [block]
    }

    private static func add(_ line: UnsafeBufferPointer<UInt8>, offset: Int, seq: Int, rows: ClickHouseRow, to block: inout Block) {
        block.lines += 1
        guard let received = rows.append(line, seq: seq, offset: offset, to: &block.rows) else { return }
        block.events += 1
        if block.oldestReceivedAt == nil { block.oldestReceivedAt = received }
    }

    /// Sends `block` and moves the cursor past it.
    func ship(_ block: Block) async throws {
        try await gate.run { try await self.send(block) }
    }

    /// A block read before an erasure moved the log: it is not sent (it may hold the erased user's rows and its
    /// offsets are old); the sink reads again from the cursor.
    struct StaleBlock: Error {}

    private func send(_ block: Block) async throws {
        guard cursor.generation == block.generation else { throw StaleBlock() }
        if block.events > 0 {
            let capable = capabilities.withLock { $0 }
            var parameters = [("input_format_skip_unknown_fields", "1")]
            if capable?.deduplicationToken == true {
                let to = block.end.seq == block.start.seq ? String(block.end.offset) : "end"
                parameters.append(("insert_deduplication_token", "\(cursor.instance)/\(block.start.seq)/\(block.start.offset)-\(to)"))
            }
            _ = try await client.execute(
                "INSERT INTO \(client.settings.qualifiedTable) FORMAT JSONEachRow", parameters: parameters, body: block.body, gzipped: true)
        }
        let cursor = self.cursor
        FaultPoint.reach("clickhouse.acknowledged")
        if try await Self.offPool({ try cursor.advance(to: block.end, readAt: block.generation) }) {
            metrics.shipped.increment(by: block.events)
            baseline.withLock { b in
                // Only lines the baseline counted as pending: a block that began before its position was shipped
                // before the count was taken.
                if b?.generation == block.generation, let from = b?.position, block.start >= from { b?.shipped += block.lines }
            }
            unacknowledged.withLock { list in list.removeAll { $0.end <= block.end } }
            if block.skipped { baseline.withLock { $0 = nil } }
        }
    }

    /// Where the event count of the lag was last taken: lines between the cursor and `position`, and the
    /// log's count of committed lines then; shipped lines since are subtracted.
    struct Baseline {
        var generation: Int
        /// The cursor's position the pending lines were counted from.
        var position: LogPosition
        /// Lines from `position` to the committed position when counted (nil while being counted).
        var pending: Int?
        var committedLines = 0
        var shipped = 0
    }

    /// Recomputes the lag: the lines between the cursor and the committed position (in events, and in bytes on
    /// disk), and how long the oldest of them has waited.
    func updateLag() {
        // A new baseline takes the cursor's position under its lock before counting, so a block shipped
        // meanwhile (the next one is sent while this runs) is either before that position or counted as shipped.
        let fresh: Baseline? = baseline.withLock { b in
            let state = cursor.current
            guard b?.generation != state.generation else { return nil }
            b = Baseline(generation: state.generation, position: state.position)
            return b
        }
        let state = cursor.current
        let (committed, committedLines) = self.committed()
        if let fresh {
            let pending = Self.countLines(from: fresh.position, to: committed, directory: directory)
            baseline.withLock { b in
                guard b?.generation == fresh.generation, b?.position == fresh.position else { return }
                b?.pending = pending
                b?.committedLines = committedLines
            }
        }
        var bytes = 0
        if state.position.seq == committed.seq {
            bytes = committed.offset - state.position.offset
        } else {
            for file in FileSystem.list(directory) {
                guard let name = SegmentName(fileName: file), name.seq >= state.position.seq else { continue }
                bytes += (FileSystem.size(directory + "/" + file) ?? 0) - (name.seq == state.position.seq && !name.compressed ? state.position.offset : 0)
            }
            bytes += committed.offset
        }
        var value = Lag(bytes: max(0, bytes))
        let previous = lag.withLock { $0.events }
        value.events = baseline.withLock { b in
            guard let b else { return 0 }
            guard let pending = b.pending else { return previous }  // another call is counting
            return max(0, pending + committedLines - b.committedLines - b.shipped)
        }
        if value.events > 0 {
            // The oldest unacknowledged block's; while ClickHouse is down (nothing read ahead), the last known.
            let oldest = unacknowledged.withLock { $0.map(\.oldest).min() } ?? lag.withLock { $0.oldest }
            if let oldest { value.seconds = Double(max(0, now() - oldest)) / 1000 }
            value.oldest = oldest
        }
        lag.withLock { $0 = value }
        metrics.lagEvents.record(value.events)
        metrics.lagBytes.record(value.bytes)
        metrics.lagSeconds.record(value.seconds)
    }

    /// Counts the lines of the log from `from` to `to`.
    static func countLines(from: LogPosition, to: LogPosition, directory: String) -> Int {
        guard from.seq <= to.seq else { return 0 }
        return (from.seq...to.seq).reduce(0) { count, seq in
            count + countLines(seq: seq, directory: directory, skipping: seq == from.seq ? from.offset : 0, before: seq == to.seq ? to.offset : Int.max, mayBeActive: seq == to.seq)
        }
    }

    /// The lines of one segment that start at or after `skipping` and before `before`. The writer may close the
    /// active segment and compress closed ones while this reads: a file that moved is looked for again, and the
    /// active file counts only when no closed file of its number exists after it was read (else it may have been
    /// the next segment's).
    static func countLines(seq: Int, directory: String, skipping: Int, before limit: Int, mayBeActive: Bool) -> Int {
        for _ in 0..<16 {
            let closed = ClickHouseCursor.segmentPath(seq: seq, directory: directory, activeSeq: -1)
            guard let path = closed ?? (mayBeActive ? directory + "/" + SegmentName.active : nil) else { return 0 }  // deleted unshipped
            var count = 0
            do {
                try SegmentReader.forEachLine(path: path, skipping: skipping) { _, offset in
                    if offset < limit { count += 1 }
                }
            } catch {
                continue
            }
            if closed == nil, ClickHouseCursor.segmentPath(seq: seq, directory: directory, activeSeq: -1) != nil { continue }
            return count
        }
        return 0
    }
}

/// Runs one body at a time, in the order they asked.
actor SerialGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        while busy { await withCheckedContinuation { waiters.append($0) } }
        busy = true
        defer {
            busy = false
            if !waiters.isEmpty { waiters.removeFirst().resume() }
        }
        return try await body()
    }
}

extension ClickHouseSink {
    /// `telemetryd clickhouse backfill`: ships a stopped site's whole log, from its first segment to its end,
    /// through the site's cursor (so the daemon goes on from there). Rows already in ClickHouse are sent again
    /// and merged away by the table. Returns how many events were shipped.
    public static func backfill(
        site: String, directory: String, settings: ClickHouseSettings, logger: Logger, progress: (Int) -> Void = { _ in }
    ) async throws -> Int {
        let end = LogPosition(seq: SegmentRotation.nextSeq(in: directory), offset: FileSystem.size(directory + "/" + SegmentName.active) ?? 0)
        let cursor = try ClickHouseCursor(directory: directory, start: end)
        let first = LogReplay(directory: directory, logger: logger).segments().first?.seq ?? end.seq
        try cursor.reset(to: LogPosition(seq: first, offset: 0))
        let client = ClickHouseClient(settings: settings)
        let sink = ClickHouseSink(
            site: site, directory: directory, committed: { (end, 0) }, client: client, cursor: cursor, metrics: TelemetryMetrics(),
            logger: logger, now: { Int64(Date().timeIntervalSince1970 * 1000) })
        var shipped = 0
        do {
            try await sink.prepare()
            try await sink.carryOutErasures()
            // Each segment is read and encoded while the one before is sent.
            var next = Task { try await sink.readBlocks() }
            while case let blocks = try await next.value, let first = blocks.first, first.end != first.start {
                let from = blocks[blocks.count - 1].end
                next = Task { try await sink.readBlocks(from: from) }
                for block in blocks {
                    try await sink.ship(block)
                    shipped += block.events
                    progress(shipped)
                }
            }
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
        return shipped
    }
}
