import Logging
import ServiceLifecycle
import Synchronization

/// Background work on closed segments: gzip each one after rotation, and delete those past raw retention.
public final class LogMaintenanceService: Service, Sendable {
    let directory: String
    let io: any FileIO
    let retentionDays: Int
    let now: @Sendable () -> Int64
    let logger: Logger
    let pacing: CompressionPacing
    /// The log's running count of committed batches, read to tell whether ingest is busy.
    let committed: @Sendable () -> Int
    /// Awaited before any segment is compressed, and checked before any is deleted: the event table reads
    /// them at start-up.
    let ready: @Sendable () async -> Void
    let isReady: @Sendable () -> Bool
    /// Told the sequence numbers of the segments retention deleted (the event table forgets their events).
    let onDelete: @Sendable (Set<Int>) -> Void
    private let queue: AsyncStream<(SegmentName, ContinuousClock.Instant)>
    private let continuation: AsyncStream<(SegmentName, ContinuousClock.Instant)>.Continuation
    /// Held while a closed segment is compressed, deleted or rewritten, so erasure and compression never race.
    private let segmentLock = Locked(())
    /// Newest `ts` per closed segment, read once per segment.
    private let newest = Locked([String: Int64]())
    /// Asked before retention deletes a segment (its name, newest `ts` and the cutoff): the ClickHouse sink keeps
    /// the segments it has not shipped.
    private let retentionGuard = Locked<(@Sendable (SegmentName, Int64, Int64) -> Bool)?>(nil)

    /// Sets what retention asks before deleting a segment.
    func setRetentionGuard(_ allows: @escaping @Sendable (SegmentName, Int64, Int64) -> Bool) {
        retentionGuard.withLock { $0 = allows }
    }

    public init(
        directory: String, io: any FileIO = PosixFileIO(), retentionDays: Int, now: @escaping @Sendable () -> Int64, logger: Logger,
        pacing: CompressionPacing = .immediate, committed: @escaping @Sendable () -> Int = { 0 },
        ready: @escaping @Sendable () async -> Void = {}, isReady: @escaping @Sendable () -> Bool = { true }, onDelete: @escaping @Sendable (Set<Int>) -> Void = { _ in }
    ) {
        self.ready = ready
        self.isReady = isReady
        self.onDelete = onDelete
        self.directory = directory
        self.io = io
        self.retentionDays = retentionDays
        self.now = now
        self.logger = logger
        self.pacing = pacing
        self.committed = committed
        (queue, continuation) = AsyncStream.makeStream(of: (SegmentName, ContinuousClock.Instant).self)
    }

    /// Queues a closed segment for compression.
    public func enqueue(_ name: SegmentName) { continuation.yield((name, .now)) }

    public func run() async throws {
        await ready()
        let stream = queue
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await (name, queuedAt) in stream.cancelOnGracefulShutdown() {
                    let waited = await self.pacing.waitForQuiet(queuedAt: queuedAt, clock: ContinuousClock(), committed: self.committed)
                    if Task.isCancelled { break }
                    if waited > .seconds(1) {
                        self.logger.debug("compression waited for ingest to calm down", metadata: ["segment": "\(name)", "waited": "\(waited)"])
                    }
                    await LowPriorityThread.run { self.compress(name) }
                }
            }
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    // A first pass reads every segment for its newest event: off the cooperative threads, at
                    // the idle priority, like compression.
                    await LowPriorityThread.run { self.applyRetention() }
                    try? await Task.sleep(for: .seconds(3600))
                }
            }
            try? await gracefulShutdown()
            continuation.finish()
            group.cancelAll()
        }
    }

    /// Writes `<name>.gz` crash-safely, then removes the plain segment.
    public func compress(_ name: SegmentName) {
        let source = directory + "/" + name.uncompressed.fileName
        let target = directory + "/" + name.gzipped.fileName
        withSegmentsLocked { compressLocked(name, source: source, target: target) }
    }

    /// Runs `body` while no closed segment is being compressed or deleted.
    public func withSegmentsLocked<T>(_ body: () throws -> T) rethrows -> T {
        try segmentLock.withLock { _ in try body() }
    }

    private func compressLocked(_ name: SegmentName, source: String, target: String) {
        guard FileSystem.exists(source) else { return }
        do {
            try Gzip.compressFile(source, to: target + ".tmp", io: io)
            FaultPoint.reach("compression.written")
            try io.renameFile(target + ".tmp", target)
            try io.fsyncDirectory(directory)
            FaultPoint.reach("compression.renamed")
            try io.unlinkFile(source)
            try io.fsyncDirectory(directory)
            logger.info("compressed", metadata: ["segment": "\(name.gzipped)", "bytes": "\(FileSystem.size(target) ?? 0)"])
        } catch {
            try? io.unlinkFile(target + ".tmp")
            logger.error("compression failed", metadata: ["segment": "\(name)", "error": "\(error)"])
        }
    }

    /// Deletes closed segments whose newest `ts` is older than the retention period.
    @discardableResult
    public func applyRetention() -> [String] {
        // The hourly pass in `run` comes back once the segments are no longer being read.
        guard isReady() else { return [] }
        let cutoff = now() - Int64(retentionDays) * Milliseconds.day
        var deleted: [String] = []
        for file in FileSystem.list(directory).sorted() {
            guard let name = SegmentName(fileName: file), !file.hasSuffix(".tmp") else { continue }
            guard let newestTs = newestTimestamp(file), newestTs < cutoff else { continue }
            if let allows = retentionGuard.withLock({ $0 }), !allows(name, newestTs, cutoff) {
                logger.debug("segment past retention kept for the ClickHouse sink", metadata: ["segment": "\(file)"])
                continue
            }
            do {
                try withSegmentsLocked { try io.unlinkFile(directory + "/" + file) }
                FaultPoint.reach("retention.deleted")
                deleted.append(file)
                newest.withLock { $0[file] = nil }
                logger.info("deleted segment past retention", metadata: ["segment": "\(file)"])
            } catch {
                logger.error("retention delete failed", metadata: ["segment": "\(file)", "error": "\(error)"])
            }
        }
        if !deleted.isEmpty {
            try? io.fsyncDirectory(directory)
            onDelete(Set(deleted.compactMap { SegmentName(fileName: $0)?.seq }))
        }
        return deleted
    }

    private func newestTimestamp(_ file: String) -> Int64? {
        if let known = newest.withLock({ $0[file] }) { return known }
        var maxTs = Int64.min
        do {
            try SegmentReader.forEachLine(path: directory + "/" + file) { line, _ in
                if let e = StoredEvent.parse(line) { maxTs = max(maxTs, e.ts) }
            }
        } catch {
            logger.error("cannot read segment", metadata: ["segment": "\(file)", "error": "\(error)"])
            return nil
        }
        guard maxTs != .min else { return nil }
        newest.withLock { $0[file] = maxTs }
        return maxTs
    }
}
