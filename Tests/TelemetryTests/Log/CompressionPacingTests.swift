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
        let pacing = CompressionPacing(busyBatchesPerSecond: 100, maxDeferral: .seconds(30), sample: .milliseconds(20))
        let waited = await pacing.waitForQuiet(queuedAt: .now, clock: ContinuousClock(), committed: { 7 })
        #expect(waited < .seconds(5))
    }

    @Test func aBusyLogDefersCompressionUntilTheLimit() async {
        let pacing = CompressionPacing(busyBatchesPerSecond: 100, maxDeferral: .milliseconds(300), sample: .milliseconds(20))
        let counter = Atomic<Int>(0)
        // Every read adds 1,000 batches: far above 100 a second whatever the sample's real length.
        let waited = await pacing.waitForQuiet(queuedAt: .now, clock: ContinuousClock(), committed: {
            counter.add(1_000, ordering: .relaxed).newValue
        })
        #expect(waited >= .milliseconds(300))
    }

    @Test func immediatePacingDoesNotWait() async {
        let waited = await CompressionPacing.immediate.waitForQuiet(queuedAt: .now, clock: ContinuousClock(), committed: { 0 })
        #expect(waited < .seconds(1))
    }
}
