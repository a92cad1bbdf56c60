/// Why the log could not take a batch; the HTTP layer answers 503 with Retry-After for each.
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The write failed (disk full, I/O error); the segment was cut back, nothing of the batch is stored.
    case writeFailed(errno: Int32)
    /// fdatasync failed: the log no longer takes writes until the process restarts and recovers.
    case syncFailed(errno: Int32)
    /// The writer is shutting down or has failed.
    case unavailable

    public var description: String {
        switch self {
        case .writeFailed(let e): "storage write failed (errno \(e))"
        case .syncFailed(let e): "storage sync failed (errno \(e))"
        case .unavailable: "storage unavailable"
        }
    }
}

/// How long a request waits for durability.
public enum Durability: String, Sendable, CaseIterable {
    case fsync, write
}

/// Where the log has been written up to: the sequence number the active segment will get when it
/// is closed, and the byte offset in it. The day index records it with every snapshot.
public struct LogPosition: Sendable, Equatable, Comparable {
    public var seq: Int
    public var offset: Int

    public init(seq: Int, offset: Int) {
        self.seq = seq
        self.offset = offset
    }

    public static func < (a: LogPosition, b: LogPosition) -> Bool { (a.seq, a.offset) < (b.seq, b.offset) }
}

/// Told about every durable commit, in commit order, before its requests are answered.
public protocol CommitObserver: Sendable {
    func committed(_ batches: [DecodedBatch], through position: LogPosition)
}
