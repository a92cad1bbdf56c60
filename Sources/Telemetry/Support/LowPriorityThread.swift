#if canImport(Glibc)
import Glibc
#endif
import CTelemetryShims
import Foundation

/// Runs background work (compression) on a thread of its own at the lowest CPU priority,
/// so it never takes cycles from ingest: a compression backlog waits for idle time instead.
enum LowPriorityThread {
    static func run(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                #if os(Linux)
                // Linux applies nice values per thread.
                setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(telemetry_gettid()), 19)
                #endif
                work()
                done.resume()
            }
            thread.name = "telemetry-background"
            thread.start()
        }
    }
}
