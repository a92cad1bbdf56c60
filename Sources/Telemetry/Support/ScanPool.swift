import Foundation
import Synchronization

/// Runs the heavy questions (scans of the raw log: per-user export, users per feature, funnels, experiments)
/// on threads of their own, never on Swift's cooperative pool, at the idle CPU priority (they take only the time
/// ingest leaves; measured at nice 10 they still cost a saturating ingest a third of its rate), and only a
/// few at a time: over `limit`, `run` throws `ScanPool.Busy` at once instead of queueing work without bound.
/// A cancelled task (the client went away) stops its scan at the next `ScanCancellation.check()`.
public final class ScanPool: Sendable {
    /// Thrown when `limit` scans are already running.
    public struct Busy: Error, Sendable {}

    /// Scans running at once.
    public let limit: Int
    private let running = Atomic<Int>(0)

    public init(limit: Int = 2) { self.limit = limit }

    public var active: Int { running.load(ordering: .relaxed) }

    public func run<T: Sendable>(_ work: @escaping @Sendable (ScanCancellation) throws -> T) async throws -> T {
        guard running.wrappingAdd(1, ordering: .relaxed).newValue <= limit else {
            running.wrappingSubtract(1, ordering: .relaxed)
            throw Busy()
        }
        defer { running.wrappingSubtract(1, ordering: .relaxed) }
        let cancellation = ScanCancellation()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, any Error>) in
                let thread = Thread(named: "raw-scan") {
                    LowPriorityThread.lowerCurrentThread()
                    done.resume(with: Result { try work(cancellation) })
                }
                thread.start()
            }
        } onCancel: {
            cancellation.set()
        }
    }
}

/// Set when the request that started a scan is cancelled; scans call `check()` as they go.
public typealias ScanCancellation = AtomicFlag

extension AtomicFlag {
    /// Throws `CancellationError` once the flag is set.
    public func check() throws {
        if isSet { throw CancellationError() }
    }
}
