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
            let thread = Thread {
                #if os(Linux)
                // SCHED_IDLE: the thread runs only on a core nothing else wants; nice 19 as a fallback.
                if telemetry_set_idle_priority() != 0 {
                    setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(telemetry_gettid()), 19)
                }
                #endif
                work()
                done.resume()
            }
            thread.name = "telemetry-background"
            thread.start()
        }
    }
}
