import Foundation
import Synchronization
import Testing
@testable import Telemetry

#if canImport(Glibc)
import Glibc
#endif

/// A file layer that fails writes with ENOSPC once `budget` bytes are used, writing part of the batch first.
final class FullDiskIO: FileIO, Sendable {
    let posix = PosixFileIO()
    let budget: Locked<Int>
    let syncError: Locked<Int32> = Locked(0)

    init(budget: Int = .max) { self.budget = Locked(budget) }

    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        let allowed = budget.withLock { b -> Int in
            let n = min(b, bytes.count)
            b -= n
            return n
        }
        if allowed == 0 { return -Int(ENOSPC) }
        return posix.write(fd, UnsafeRawBufferPointer(rebasing: bytes[0..<allowed]))
    }

    func datasync(_ fd: Int32) -> Int32 {
        let e = syncError.withLock { $0 }
        return e != 0 ? e : posix.datasync(fd)
    }

    func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 { posix.open(path, flags: flags, mode: mode) }
    func sync(_ fd: Int32) -> Int32 { posix.sync(fd) }
    func truncate(_ fd: Int32, to length: Int) -> Int32 { posix.truncate(fd, to: length) }
    func close(_ fd: Int32) { posix.close(fd) }
    func rename(_ from: String, _ to: String) -> Int32 { posix.rename(from, to) }
    func unlink(_ path: String) -> Int32 { posix.unlink(path) }
    func makeDirectory(_ path: String) -> Int32 { posix.makeDirectory(path) }
}

func makeBatch(_ events: [String], at iso: String = "2025-10-21T10:00:00Z") -> DecodedBatch {
    try! decode(#"{"events":[\#(events.joined(separator: ","))]}"#, at: iso)
}

@Suite struct SegmentWriterTests {
    @Test func groupCommitStoresEveryConcurrentBatchOnceWithoutInterleaving() async throws {
        let dir = TempDirectory()
        let stats = WriterStats()
        let writer = try SegmentWriter(options: .init(directory: dir.path), nextSeq: 1, now: ManualClock().now,
                                       logger: quietLogger, stats: stats)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<50 {
                group.addTask {
                    for n in 0..<20 {
                        let events = (0..<10).map { #"{"event_type":"a","id":"c\#(client)-b\#(n)-e\#($0)"}"# }
                        try await writer.append(makeBatch(events))
                    }
                }
            }
            try await group.waitForAll()
        }
        writer.close()
        let lines = dir.lines()
        #expect(lines.count == 10_000)
        #expect(Set(lines).count == 10_000)
        #expect(lines.allSatisfy { StoredEvent.parse(ArraySlice($0.utf8)) != nil })
        // Group commit: fewer commits (and fsyncs) than batches.
        #expect(stats.committedBatches == 1000)
        #expect(stats.commits < 1000)
    }

    @Test func rotatesPastTheSizeLimitAndNeverSplitsALine() async throws {
        let dir = TempDirectory()
        let rotated = Locked<[SegmentName]>([])
        let writer = try SegmentWriter(options: .init(directory: dir.path, rotateBytes: 1024), nextSeq: 1,
                                       now: ManualClock().now, logger: quietLogger, onRotate: { n in rotated.withLock { $0.append(n) } })
        for i in 0..<40 {
            try await writer.append(makeBatch([#"{"event_type":"a","id":"\#(i)","feature":"0123456789012345678901234567890123456789"}"#]))
        }
        writer.close()
        let names = rotated.withLock { $0 }
        #expect(names.count >= 3)
        #expect(names.map(\.seq) == Array(1...names.count))
        var total = 0
        for name in names {
            let text = dir.read(name.fileName)
            #expect(text.hasSuffix("\n"))
            #expect(text.utf8.count >= 1024)
            total += dir.lines(name.fileName).count
        }
        total += dir.lines().count
        #expect(total == 40)
        #expect(names[0].fileName.hasPrefix("analytics_events-20251021T100000-000001"))
    }

    @Test func rotatesAtUTCMidnight() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T23:59:59Z")
        let writer = try SegmentWriter(options: .init(directory: dir.path), nextSeq: 7, now: clock.now, logger: quietLogger)
        try await writer.append(makeBatch([#"{"event_type":"before"}"#]))
        clock.set("2025-10-22T00:00:01Z")
        try await writer.append(makeBatch([#"{"event_type":"after"}"#]))
        writer.close()
        let closed = dir.files().filter { $0.hasPrefix("analytics_events-") }
        #expect(closed == ["analytics_events-20251021T235959-000007.ndjson"])
        #expect(dir.lines(closed[0]).count == 1)
        #expect(dir.lines().first?.contains("after") == true)
    }

    @Test func idleSegmentRotatesAfterMidnightWithoutNewEvents() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T23:59:59Z")
        let writer = try SegmentWriter(options: .init(directory: dir.path), nextSeq: 1, now: clock.now, logger: quietLogger)
        try await writer.append(makeBatch([#"{"event_type":"before"}"#]))
        clock.set("2025-10-22T00:00:01Z")
        // StorageService wakes at midnight by the injected clock and asks; nothing polls.
        writer.rotateIfDue()
        writer.close()
        #expect(dir.files().contains { $0.hasPrefix("analytics_events-20251021") })
    }

    @Test func diskFullMidBatchAnswersFailureLeavesNoPartialLineAndLaterBatchesSucceed() async throws {
        let dir = TempDirectory()
        let io = FullDiskIO()
        let writer = try SegmentWriter(options: .init(directory: dir.path, io: io), nextSeq: 1, now: ManualClock().now, logger: quietLogger)
        try await writer.append(makeBatch([#"{"event_type":"first"}"#]))
        let sizeBefore = FileSystem.size(writer.activePath)!
        io.budget.withLock { $0 = 30 }  // part of the next batch fits, then the disk is full
        await #expect(throws: StorageError.writeFailed(errno: ENOSPC)) {
            try await writer.append(makeBatch([#"{"event_type":"second"}"#, #"{"event_type":"third"}"#]))
        }
        #expect(FileSystem.size(writer.activePath) == sizeBefore)
        io.budget.withLock { $0 = .max }
        try await writer.append(makeBatch([#"{"event_type":"fourth"}"#]))
        writer.close()
        let types = dir.lines().map { $0.contains("first") ? "first" : $0.contains("fourth") ? "fourth" : "other" }
        #expect(types == ["first", "fourth"])
        #expect(writer.isHealthy == false)  // closed
    }

    @Test func fsyncFailureIsNotRetriedAndStopsAcknowledging() async throws {
        let dir = TempDirectory()
        let io = FullDiskIO()
        let fatal = Locked<StorageError?>(nil)
        let writer = try SegmentWriter(options: .init(directory: dir.path, io: io), nextSeq: 1, now: ManualClock().now,
                                       logger: quietLogger, onFatal: { e in fatal.withLock { $0 = e } })
        io.syncError.withLock { $0 = EIO }
        await #expect(throws: StorageError.syncFailed(errno: EIO)) { try await writer.append(makeBatch([#"{"event_type":"a"}"#])) }
        io.syncError.withLock { $0 = 0 }
        await #expect(throws: StorageError.syncFailed(errno: EIO)) { try await writer.append(makeBatch([#"{"event_type":"b"}"#])) }
        #expect(fatal.withLock { $0 } == .syncFailed(errno: EIO))
        #expect(!writer.isHealthy)
        writer.close()
    }
}
