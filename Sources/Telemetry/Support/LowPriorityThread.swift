#if canImport(Glibc)
import Glibc
#endif
import CTelemetryShims
import Foundation

/// Runs background work (compression) on a thread of its own at the idle CPU priority,
/// so it never takes cycles from ingest: a compression backlog waits for idle time instead.
enum LowPriorityThread {
    static func run(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread(named: "background") {
                lowerCurrentThread()
                work()
                done.resume()
            }
            thread.start()
        }
    }

    /// Moves the calling thread to SCHED_IDLE: it runs only on a core nothing else wants; nice 19 as a fallback.
    /// Threads it starts (a scan's inflate thread) inherit it.
    static func lowerCurrentThread() {
        #if os(Linux)
        if telemetry_set_idle_priority() != 0 {
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(telemetry_gettid()), 19)
        }
        #endif
    }
}
