/// When a closed segment may be compressed: not while ingest is busy, so a burst of events keeps both cores.
///
/// Compression already runs at the idle CPU priority, but under a saturating load it still costs ingest a fifth of
/// its throughput on two cores (its cache footprint and wake-up preemption). So a segment waits while the log commits
/// more than `busyBatchesPerSecond` batches, for at most `maxDeferral`; past that it is compressed whatever the load,
/// which bounds the uncompressed backlog on disk.
public struct CompressionPacing: Sendable {
    /// Batches a second at and above which ingest counts as busy.
    public var busyBatchesPerSecond: Int
    /// The longest a segment waits for ingest to calm down.
    public var maxDeferral: Duration
    /// How long the commit rate is sampled for.
    public var sample: Duration

    public init(busyBatchesPerSecond: Int = 2_000, maxDeferral: Duration = .seconds(60), sample: Duration = .milliseconds(500)) {
        self.busyBatchesPerSecond = busyBatchesPerSecond
        self.maxDeferral = maxDeferral
        self.sample = sample
    }

    /// Compress at once.
    public static let immediate = CompressionPacing(busyBatchesPerSecond: .max, maxDeferral: .zero, sample: .zero)

    /// Whether `batches` committed over `elapsed` is a busy load.
    func isBusy(batches: Int, over elapsed: Duration) -> Bool {
        let seconds = elapsed.seconds
        guard seconds > 0 else { return false }
        return Double(batches) / seconds >= Double(busyBatchesPerSecond)
    }

    /// Waits until ingest is quiet or the segment, queued at `queuedAt`, has waited `maxDeferral`.
    /// `committed` reads the log's running count of committed batches. Returns how long it waited.
    @discardableResult
    func waitForQuiet<C: Clock>(queuedAt: C.Instant, clock: C, committed: @Sendable () -> Int) async -> Duration
    where C.Duration == Duration {
        let start = clock.now
        while queuedAt.duration(to: clock.now) < maxDeferral {
            let before = committed()
            let sampledAt = clock.now
            do { try await clock.sleep(for: sample) } catch { break }
            if !isBusy(batches: committed() - before, over: sampledAt.duration(to: clock.now)) { break }
        }
        return start.duration(to: clock.now)
    }
}
