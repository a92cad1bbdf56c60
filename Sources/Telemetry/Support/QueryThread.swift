#if canImport(Glibc)
import Glibc
#endif
import CTelemetryShims
import Foundation

/// Runs the index's read queries (usage, daily, trends, ...) one after another on a thread of their own at a
/// lower CPU priority than ingest: a dashboard that loops 365-day queries then takes the cores ingest leaves
/// idle instead of holding Swift's two cooperative threads, which the event endpoint needs to acknowledge.
///
/// `@unchecked Sendable`: `queue` is guarded by `condition`.
final class QueryThread: @unchecked Sendable {
    /// The nice value of the query thread: ingest (nice 0) gets about ten times its share of a busy core.
    static let niceness: Int32 = 10
    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []

    init() {
        let thread = Thread { [self] in loop() }
        thread.name = "telemetry-query"
        thread.start()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (done: CheckedContinuation<T, Never>) in
            condition.lock()
            queue.append { done.resume(returning: body()) }
            if queue.count == 1 { condition.signal() }
            condition.unlock()
        }
    }

    private func loop() {
        #if os(Linux)
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(telemetry_gettid()), Self.niceness)
        #endif
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let work = queue
            queue = []
            condition.unlock()
            for item in work { item() }
        }
    }
}
