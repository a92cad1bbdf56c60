import CTelemetryShims
import Foundation

extension Thread {
    /// A thread that shows as `name` (at most 15 bytes) in top -H, perf and /proc: Foundation's `name` does not
    /// reach the kernel on Linux.
    convenience init(named name: String, _ body: @escaping @Sendable () -> Void) {
        precondition(name.utf8.count <= 15, "the kernel keeps 15 bytes of a thread's name")
        self.init {
            name.withCString { telemetry_name_thread($0) }
            body()
        }
        self.name = name
    }
}
