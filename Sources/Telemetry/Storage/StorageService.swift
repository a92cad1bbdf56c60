import ServiceLifecycle

/// The storage's timed work while the daemon runs, and its close at shutdown (added first, so it stops last,
/// after the server and every other service). Every few seconds it writes the day aggregates that changed, and it
/// wakes at UTC midnight by the injected clock so an idle segment still rotates with the date.
public struct StorageService: Service {
    let storage: Storage
    let flushInterval: Duration
    let sleep: @Sendable (Duration) async throws -> Void

    public init(
        storage: Storage, flushInterval: Duration = .seconds(5),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.storage = storage
        self.flushInterval = flushInterval
        self.sleep = sleep
    }

    public func run() async throws {
        // Cancelled (a sibling service failed) as well as shut down: a cancelled sleep returns at once.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let wait = nextWake(now: storage.now())
            try? await cancelWhenGracefulShutdown { try await sleep(wait) }
            tick()
        }
        storage.close()
    }

    /// The flush interval, or less when UTC midnight comes sooner (1 ms past it, so the date has changed).
    func nextWake(now: Int64) -> Duration {
        let midnight = CivilDate(epochMilliseconds: now).adding(days: 1).startMilliseconds
        return min(flushInterval, .milliseconds(midnight - now + 1))
    }

    func tick() {
        storage.writer.rotateIfDue()
        storage.flushAggregates()
    }
}
