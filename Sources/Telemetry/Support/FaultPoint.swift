#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// Named steps of the file work where a debug build kills itself with SIGKILL when `TELEMETRY_FAULT_POINT`
/// names the step (`rotation.renamed`, or `rotation.renamed@3` for its third time), so a test can crash the
/// real binary exactly between two system calls (docs/architecture.md). Release builds compile every call away.
public enum FaultPoint {
    /// Every step a test may name.
    public static let all: [String] = [
        "rotation.renamed", "compression.written", "compression.renamed", "retention.deleted",
        "aggregates.days-written", "erasure.file-rewritten", "rollup.written", "dedup.written", "clickhouse.acknowledged",
    ]

    #if DEBUG
    private static let chosen: (name: String, at: Int)? = {
        guard let text = ProcessInfo.processInfo.environment["TELEMETRY_FAULT_POINT"], !text.isEmpty else { return nil }
        let parts = text.split(separator: "@", maxSplits: 1)
        return (String(parts[0]), parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
    }()
    private static let hits = Atomic<Int>(0)
    #endif

    /// Dies here when this step is the chosen one (and this is its chosen occurrence).
    @inline(__always)
    public static func reach(_ name: String) {
        #if DEBUG
        guard let chosen, chosen.name == name else { return }
        if hits.add(1, ordering: .relaxed).newValue >= chosen.at {
            kill(getpid(), SIGKILL)
            while true { pause() }
        }
        #endif
    }
}
