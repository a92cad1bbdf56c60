import Foundation
import Testing
@testable import Telemetry

/// The applier between the commit thread and the index: what it hands over and when the commit thread waits.
@Suite struct IndexApplierTests {
    static func batch(_ events: Int, first: Int) throws -> DecodedBatch {
        let body = #"{"events":["# + (first..<(first + events)).map { #"{"event_type":"page_view","user_id":"u\#($0)","ts":"2025-10-21T10:00:00Z"}"# }
            .joined(separator: ",") + "]}"
        return try Array(body.utf8).withUnsafeBufferPointer { try EventDecoder().decode($0, receivedAt: Timestamp.parse("2025-10-21T10:00:05Z")!) }
    }

    /// While the applier is stalled and the queue holds its limit, the commit thread's next hand-over waits until
    /// the applier has caught up; a commit larger than the limit still goes through on an empty queue.
    @Test func theCommitThreadWaitsWhileTheQueueIsFull() async throws {
        let hasher = SipHash(key: Array(repeating: 7, count: 16))
        let table = EventTable(hasher: hasher)
        table.startLoading(.init(directory: TempDirectory().path, nextSeq: 1, logger: quietLogger), logger: quietLogger)
        await table.waitUntilLoaded()
        let index = DayIndex(hasher: hasher)
        let applier = IndexApplier(index: index, table: table, maxQueuedEvents: 10)
        defer { applier.close() }

        applier.committed([try Self.batch(25, first: 0)], through: LogPosition(seq: 1, offset: 1))  // over the limit, alone
        await applier.caughtUp()

        // The table's lock held elsewhere stalls the applier on its next commit.
        let stalled = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let released = Locked(false)
        Thread {
            table.state.withLock { _ in
                stalled.signal()
                release.wait()
                released.withLock { $0 = true }
            }
        }.start()
        stalled.wait()
        applier.committed([try Self.batch(6, first: 100)], through: LogPosition(seq: 1, offset: 2))
        let handedOver = Locked(false)
        let commitThread = Thread {
            applier.committed([try! Self.batch(6, first: 200)], through: LogPosition(seq: 1, offset: 3))  // 12 > 10: waits
            handedOver.withLock { $0 = true }
        }
        commitThread.start()
        try await Task.sleep(for: .milliseconds(200))
        #expect(!handedOver.withLock { $0 }, "the hand-over waits for the stalled applier")
        release.signal()
        while !(handedOver.withLock { $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(released.withLock { $0 })
        await applier.caughtUp()
        #expect(index.committedCount.lines == 37)
        #expect(index.position == LogPosition(seq: 1, offset: 3))
    }
}
