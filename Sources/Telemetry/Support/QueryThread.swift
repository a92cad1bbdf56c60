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

    /// Runs `first` on the calling thread and `second` on a helper thread at the query priority, and returns
    /// both answers: how one table query uses both cores. The helper lives only as long as the call.
    static func both<A, B>(_ first: () -> A, _ second: () -> B) -> (A, B) {
        withoutActuallyEscaping(second) { second in
            let helper = Helper(second)
            let thread = Thread { [helper] in
                lowerCurrentThread()
                helper.run()
            }
            thread.name = "telemetry-query-helper"
            thread.start()
            let a = first()
            return (a, helper.wait())
        }
    }

    /// A helper's work and its answer; `done` orders the write of `result` before the caller's read. The
    /// work is let go before `done`: the thread may outlive the call, its closure must not.
    private final class Helper<B>: @unchecked Sendable {
        var work: (() -> B)?
        var result: B?
        let done = DispatchSemaphore(value: 0)

        init(_ work: @escaping () -> B) { self.work = work }

        func run() {
            result = work!()
            work = nil
            done.signal()
        }

        func wait() -> B {
            done.wait()
            return result!
        }
    }

    private static func lowerCurrentThread() {
        #if os(Linux)
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(telemetry_gettid()), Self.niceness)
        #endif
    }

    /// How long the thread waits idle before giving the heap's free memory back to the system.
    static let trimAfterIdle: TimeInterval = 5

    private func loop() {
        Self.lowerCurrentThread()
        // A scan's temporaries (tens of MB) stay in the free lists of the threads that made them, ready for the
        // next question of a dashboard's burst; once no question came for a while, they go back to the system.
        var trimmed = true
        while true {
            condition.lock()
            while queue.isEmpty {
                if trimmed {
                    condition.wait()
                } else if !condition.wait(until: Date(timeIntervalSinceNow: Self.trimAfterIdle)), queue.isEmpty {
                    condition.unlock()
                    telemetry_release_free_heap()
                    trimmed = true
                    condition.lock()
                }
            }
            let work = queue
            queue = []
            condition.unlock()
            for item in work { item() }
            trimmed = false
        }
    }
}
