#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// Owns the active segment. Callers hand it batches; one commit thread writes every batch waiting
/// at that moment with one `write` and (in `fsync` mode) one `fdatasync`, then answers them all.
///
/// `@unchecked Sendable`: every mutable field is guarded by `condition`, or touched only by the commit thread.
public final class SegmentWriter: @unchecked Sendable {
    public struct Options: Sendable {
        public var directory: String
        public var durability: Durability
        public var rotateBytes: Int
        public var io: any FileIO

        public init(directory: String, durability: Durability = .fsync, rotateBytes: Int = 64 << 20, io: any FileIO = PosixFileIO()) {
            self.directory = directory
            self.durability = durability
            self.rotateBytes = rotateBytes
            self.io = io
        }
    }

    private struct Job {
        var batch: DecodedBatch
        var done: CheckedContinuation<Void, any Error>
    }

    /// Group commit under load: gather up to this many batches, waiting at most `gatherSeconds`.
    static let gatherBatches = 24
    static let gatherSeconds = 0.0006
    /// Commits closer together than this count as load.
    static let busyWindowNanos: UInt64 = 2_000_000

    let options: Options
    let now: @Sendable () -> Int64
    let logger: Logger
    private let condition = NSCondition()
    private var rotation: SegmentRotation

    // Guarded by `condition`.
    private var pending: [Job] = []
    private var closing = false
    private var failure: StorageError?
    private var thread: Thread?
    private var finished = false
    private var exclusive: [(work: @Sendable () throws -> Void, done: CheckedContinuation<Void, any Error>)] = []
    private var rotationAsked = false

    // Commit thread only (and `init`).
    private var lastCommitEnded: UInt64 = 0
    private var fd: Int32 = -1
    private var size = 0
    private var segmentStart: Int64?

    private let observer: (any CommitObserver)?
    private let onRotate: @Sendable (SegmentName) -> Void
    private let onFatal: @Sendable (StorageError) -> Void
    private let stats: WriterStats

    /// Opens (creating if needed) the active segment. Run `LogRecovery` first.
    public init(
        options: Options, nextSeq: Int, now: @escaping @Sendable () -> Int64, logger: Logger,
        observer: (any CommitObserver)? = nil, stats: WriterStats = WriterStats(),
        onRotate: @escaping @Sendable (SegmentName) -> Void = { _ in },
        onFatal: @escaping @Sendable (StorageError) -> Void = { _ in }
    ) throws {
        self.options = options
        self.now = now
        self.logger = logger
        self.observer = observer
        self.stats = stats
        self.onRotate = onRotate
        self.onFatal = onFatal
        self.rotation = SegmentRotation(directory: options.directory, nextSeq: nextSeq, io: options.io)
        try openActive()
        segmentStart = size > 0 ? rotation.firstReceivedAt() : nil
        stats.setActiveBytes(size)
        let thread = Thread(named: "log-writer") { [unowned self] in self.commitLoop() }
        self.thread = thread
        thread.start()
    }

    public var activePath: String { options.directory + "/" + SegmentName.active }

    /// Where the next commit will start.
    public var isHealthy: Bool {
        condition.lock(); defer { condition.unlock() }
        return failure == nil && !closing
    }

    /// Appends the batch's lines whole, returning once they are durable (or written, in `write` mode).
    public func append(_ batch: DecodedBatch) async throws {
        guard !batch.lines.isEmpty else { return }
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            condition.lock()
            if let failure {
                condition.unlock()
                done.resume(throwing: failure)
                return
            }
            if closing {
                condition.unlock()
                done.resume(throwing: StorageError.unavailable)
                return
            }
            pending.append(Job(batch: batch, done: done))
            if pending.count == 1 || pending.count == Self.gatherBatches { condition.signal() }
            condition.unlock()
        }
    }

    /// Runs `work` on the commit thread between two commits, with the active segment closed; the writer
    /// reopens it afterwards, so `work` may rewrite it (user erasure).
    public func withExclusiveAccess(_ work: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            condition.lock()
            guard failure == nil, !closing else {
                condition.unlock()
                done.resume(throwing: StorageError.unavailable)
                return
            }
            exclusive.append((work, done))
            condition.signal()
            condition.unlock()
        }
    }

    /// Asks the commit thread to rotate if the segment is due (the UTC date changed since it began), even with
    /// nothing to write: `MidnightRotationService` calls it when the clock passes midnight.
    public func rotateIfDue() {
        condition.lock()
        rotationAsked = true
        condition.signal()
        condition.unlock()
    }

    /// Finishes every batch already handed over, closes the segment and stops the commit thread.
    public func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func commitLoop() {
        while true {
            condition.lock()
            while pending.isEmpty && !closing && exclusive.isEmpty && !rotationAsked { condition.wait() }
            rotationAsked = false
            if options.durability == .fsync, !closing, pending.count < Self.gatherBatches,
                DispatchTime.now().uptimeNanoseconds - lastCommitEnded < Self.busyWindowNanos
            {
                // Under load, wait a moment for more batches so one fdatasync covers them (each costs the
                // kernel real CPU): like PostgreSQL's commit_delay, and only when commits follow each other closely.
                let deadline = Date(timeIntervalSinceNow: Self.gatherSeconds)
                while pending.count < Self.gatherBatches && !closing && condition.wait(until: deadline) {}
            }
            let jobs = pending
            pending = []
            let stop = closing && jobs.isEmpty
            let failed = failure
            let exclusiveWork = exclusive
            exclusive = []
            condition.unlock()

            for (work, done) in exclusiveWork { runExclusive(work, done) }

            if let failed {
                for job in jobs { job.done.resume(throwing: failed) }
                if stop { break }
                continue
            }
            if segmentDue() { rotate() }
            if stop { break }
            if !jobs.isEmpty { commit(jobs) }
        }
        if fd >= 0 {
            if failure == nil { _ = options.io.sync(fd) }
            options.io.close(fd)
            fd = -1
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func runExclusive(_ work: () throws -> Void, _ done: CheckedContinuation<Void, any Error>) {
        guard failure == nil else { return done.resume(throwing: StorageError.unavailable) }
        options.io.close(fd)
        fd = -1
        var result: Result<Void, any Error> = .success(())
        do { try work() } catch { result = .failure(error) }
        do {
            try openActive()
            stats.setActiveBytes(size)
        } catch {
            fail(error: .syncFailed(errno: EIO), jobs: [])
        }
        done.resume(with: result)
    }

    /// Due at the size limit, or when the segment holds data and the UTC date has changed since it began.
    private func segmentDue() -> Bool {
        guard size > 0 else { return false }
        if size >= options.rotateBytes { return true }
        guard let segmentStart else { return false }
        return CivilDate(epochMilliseconds: segmentStart) != CivilDate(epochMilliseconds: now())
    }

    private func commit(_ jobs: [Job]) {
        let before = size
        let started = DispatchTime.now().uptimeNanoseconds
        var buffer: [UInt8]
        if jobs.count == 1 {
            buffer = jobs[0].batch.lines
        } else {
            buffer = []
            buffer.reserveCapacity(jobs.reduce(0) { $0 + $1.batch.lines.count })
            for job in jobs { buffer.append(contentsOf: job.batch.lines) }
        }
        var written = 0
        var writeError: Int32 = 0
        buffer.withUnsafeBytes { raw in
            while written < raw.count {
                let n = options.io.write(fd, UnsafeRawBufferPointer(rebasing: raw[written...]))
                if n < 0 {
                    writeError = Int32(-n)
                    return
                }
                if n == 0 {
                    writeError = EIO
                    return
                }
                written += n
            }
        }
        if writeError != 0 {
            let cut = options.io.truncate(fd, to: before) == 0
            logger.error("segment write failed; batch cut back", metadata: [
                "errno": "\(writeError)", "written": "\(written)", "truncated": "\(cut)",
            ])
            stats.batchFailed(reason: writeError == ENOSPC ? "disk_full" : "io_error", count: jobs.count)
            let error = StorageError.writeFailed(errno: writeError)
            if !cut {
                fail(error: .syncFailed(errno: errno), jobs: jobs)
                return
            }
            for job in jobs { job.done.resume(throwing: error) }
            return
        }
        if options.durability == .fsync {
            let syncStarted = DispatchTime.now().uptimeNanoseconds
            let e = options.io.datasync(fd)
            stats.recordSync(nanoseconds: DispatchTime.now().uptimeNanoseconds - syncStarted)
            if e != 0 {
                logger.critical("fdatasync failed; the log stops taking writes", metadata: ["errno": "\(e)"])
                fail(error: .syncFailed(errno: e), jobs: jobs)
                return
            }
        }
        size += written
        if segmentStart == nil { segmentStart = now() }
        stats.setActiveBytes(size)
        stats.recordCommit(batches: jobs.count, nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
        observer?.committed(jobs.map(\.batch), through: LogPosition(seq: rotation.nextSeq, offset: size))
        for job in jobs { job.done.resume() }
        lastCommitEnded = DispatchTime.now().uptimeNanoseconds
    }

    /// An fsync failure is not retried: the data's fate is unknown, so the process must restart and recover.
    private func fail(error: StorageError, jobs: [Job]) {
        condition.lock()
        failure = error
        condition.unlock()
        for job in jobs { job.done.resume(throwing: error) }
        stats.batchFailed(reason: "sync_failed", count: jobs.count)
        onFatal(error)
    }

    private func openActive() throws {
        fd = options.io.open(activePath, flags: O_WRONLY | O_CREAT | O_APPEND, mode: 0o644)
        guard fd >= 0 else { throw FileError("open", activePath, code: -fd) }
        var st = stat()
        fstat(fd, &st)
        size = Int(st.st_size)
        try options.io.fsyncDirectory(options.directory)
    }

    private func rotate() {
        guard size > 0 else { return }
        if options.durability == .write {
            let e = options.io.sync(fd)
            if e != 0 {
                fail(error: .syncFailed(errno: e), jobs: [])
                return
            }
        }
        options.io.close(fd)
        fd = -1
        let stamp = SegmentName.stamp(epochMilliseconds: segmentStart ?? now())
        do {
            let name = try rotation.close(activePath: activePath, stamp: stamp)
            logger.info("rotated", metadata: ["segment": "\(name)", "bytes": "\(size)"])
            segmentStart = nil
            try openActive()
            stats.setActiveBytes(size)
            onRotate(name)
        } catch {
            logger.error("rotation failed", metadata: ["error": "\(error)"])
            do {
                try openActive()
            } catch {
                fail(error: .syncFailed(errno: EIO), jobs: [])
            }
        }
    }
}
