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
        let thread = Thread(named: "query") { [self] in loop() }
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
    /// both answers: how one table query uses both cores. Helpers wait parked between calls (a query makes a
    /// dozen such calls); a call made while every helper is busy, from a helper too, starts one more.
    static func both<A, B>(_ first: () -> A, _ second: () -> B) -> (A, B) {
        withoutActuallyEscaping(second) { second in
            let helper = helpers.withLock { $0.popLast() } ?? Helper()
            var b: B?
            helper.start { b = second() }
            let a = first()
            helper.wait()
            helpers.withLock { idle in if idle.count < Self.idleHelpers { idle.append(helper) } else { helper.stop() } }
            return (a, b!)
        }
    }

    /// The helpers kept parked: one per core beyond the query thread's, and one for a nested call.
    private static let idleHelpers = 2
    private static let helpers = Locked<[Helper]>([])

    /// A parked thread that runs one piece of work at a time; `done` orders the work's writes before the
    /// caller's reads, and the work is let go before `done`: the closure must not outlive the call.
    private final class Helper: @unchecked Sendable {
        private var work: (() -> Void)?
        private let ready = DispatchSemaphore(value: 0)
        private let done = DispatchSemaphore(value: 0)

        init() {
            Thread(named: "query-helper") { [self] in
                QueryThread.lowerCurrentThread()
                while true {
                    ready.wait()
                    guard runWork() else { return }
                    done.signal()
                }
            }.start()
        }

        /// Runs the work given and lets it go (before `done`: `both` checks that its closure did not escape);
        /// false when there was none (`stop`).
        private func runWork() -> Bool {
            guard let work else { return false }
            self.work = nil
            work()
            return true
        }

        func start(_ work: @escaping () -> Void) {
            self.work = work
            ready.signal()
        }

        func wait() { done.wait() }

        /// Ends the thread (it is not kept parked).
        func stop() { ready.signal() }
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
