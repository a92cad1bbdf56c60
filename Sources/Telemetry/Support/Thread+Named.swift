import CTelemetryShims
import Foundation

extension Thread {
    /// A thread that shows as `name` (at most 15 bytes, what the kernel keeps) in top -H, perf and /proc, named
    /// from inside the thread itself: a thread Foundation cannot name keeps its creator's name (the longer
    /// names this daemon used showed every thread as `root.default-qos`).
    convenience init(named name: String, _ body: @escaping @Sendable () -> Void) {
        precondition(name.utf8.count <= 15, "the kernel keeps 15 bytes of a thread's name")
        self.init {
            name.withCString { telemetry_name_thread($0) }
            body()
        }
        self.name = name
    }
}
