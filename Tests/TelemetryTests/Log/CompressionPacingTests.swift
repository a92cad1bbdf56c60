import Foundation
import Synchronization
import Testing

@testable import Telemetry

@Suite struct CompressionPacingTests {
    @Test func aBusyLoadIsTheCommitRateAtOrAboveTheThreshold() {
        let pacing = CompressionPacing(busyBatchesPerSecond: 2_000)
        #expect(pacing.isBusy(batches: 1_000, over: .milliseconds(500)))
        #expect(!pacing.isBusy(batches: 999, over: .milliseconds(500)))
        #expect(!pacing.isBusy(batches: 5, over: .zero))
        #expect(!CompressionPacing.immediate.isBusy(batches: 1 << 40, over: .seconds(1)))
    }

    @Test func aQuietLogIsCompressedAfterOneSample() async {
        let clock = SteppingClock()
        let pacing = CompressionPacing(busyBatchesPerSecond: 100, maxDeferral: .seconds(60), sample: .milliseconds(500))
        let reads = Atomic<Int>(0)
        let waited = await pacing.waitForQuiet(queuedAt: clock.now, clock: clock, committed: {
            reads.add(1, ordering: .relaxed)
            return 7
        })
        #expect(waited == .milliseconds(500))
        #expect(reads.load(ordering: .relaxed) == 2)
    }

    @Test func aBusyLogDefersCompressionUntilTheLimit() async {
        let clock = SteppingClock()
        let pacing = CompressionPacing(busyBatchesPerSecond: 100, maxDeferral: .seconds(60), sample: .milliseconds(500))
        let counter = Atomic<Int>(0)
        // 60 batches per half-second sample: 120 a second, busy.
        let waited = await pacing.waitForQuiet(queuedAt: clock.now, clock: clock, committed: {
            counter.add(60, ordering: .relaxed).newValue
        })
        #expect(waited == .seconds(60))
    }

    @Test func aSegmentQueuedLongAgoIsNotDeferredAgain() async {
        let clock = SteppingClock()
        let queuedAt = clock.now
        try? await clock.sleep(for: .seconds(90))
        let pacing = CompressionPacing(busyBatchesPerSecond: 1, maxDeferral: .seconds(60))
        let waited = await pacing.waitForQuiet(queuedAt: queuedAt, clock: clock, committed: { Int(Date().timeIntervalSince1970 * 1e6) })
        #expect(waited == .zero)
    }

    @Test func immediatePacingDoesNotWait() async {
        let clock = SteppingClock()
        let waited = await CompressionPacing.immediate.waitForQuiet(queuedAt: clock.now, clock: clock, committed: { 0 })
        #expect(waited == .zero)
    }
}

/// A clock whose sleeps return at once, having moved its time on by the sleep's length.
final class SteppingClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private let current = Locked(Instant(offset: .zero))
    var now: Instant { current.withLock { $0 } }
    var minimumResolution: Duration { .nanoseconds(1) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        current.withLock { $0 = max($0, deadline) }
    }
}
