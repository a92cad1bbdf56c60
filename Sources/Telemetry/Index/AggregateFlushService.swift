import Logging
import ServiceLifecycle

/// Writes changed day aggregates every few seconds, and once more after the log has closed.
public struct AggregateFlushService: Service {
    let index: DayIndex
    let store: AggregateStore
    let interval: Duration
    let logger: Logger

    public init(index: DayIndex, store: AggregateStore, interval: Duration = .seconds(5), logger: Logger) {
        self.index = index
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            flush()
        }
        flush()
    }

    func flush() {
        do {
            try store.flush(index)
        } catch {
            logger.error("writing day aggregates failed", metadata: ["error": "\(error)"])
        }
    }
}

