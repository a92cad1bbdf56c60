import Logging

/// Reads the stored log back: every segment, oldest first, then the active one.
public struct LogReplay {
    let directory: String
    let logger: Logger

    public init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// Closed segments by sequence number.
    public func segments() -> [SegmentName] {
        FileSystem.list(directory).compactMap(SegmentName.init(fileName:)).sorted()
    }

    public func path(_ name: SegmentName) -> String { directory + "/" + name.fileName }
    public var activePath: String { directory + "/" + SegmentName.active }

    /// Closed segments by sequence number, then the active segment.
    public func files() -> [String] {
        var files = segments().map(path)
        if FileSystem.exists(activePath) { files.append(activePath) }
        return files
    }

    /// Calls `body` with every valid stored event and its line, in log order; stops with `CancellationError`
    /// once `cancellation` is set.
    public func forEachEvent(
        in files: [String], cancellation: ScanCancellation? = nil, _ body: (StoredEvent, UnsafeBufferPointer<UInt8>) -> Void
    ) throws {
        for file in files {
            try SegmentReader.forEachLine(path: file) { line, _ in
                try cancellation?.check()
                if let e = StoredEvent.parse(line) { body(e, line) }
            }
        }
    }

    /// Remembers the ids received within the dedup window so that retries after a restart are still caught.
    func replayRecentIds(into dedup: DedupCache, now: Int64) throws {
        guard dedup.maxIds > 0 else { return }
        let cutoff = now - dedup.windowMs
        // Only segments that can hold recent events: the name's stamp is when the segment began.
        let recent = files().filter { path in
            guard let name = SegmentName(fileName: String(path.split(separator: "/").last ?? "")) else { return true }
            return (SegmentName.parseStamp(name.stamp) ?? .max) >= cutoff - 2 * Milliseconds.day
                || path.hasSuffix(SegmentName.active)
        }
        try forEachEvent(in: recent) { e, line in
            guard let id = e.id, let at = e.receivedAt, at >= cutoff else { return }
            dedup.remember(UnsafeBufferPointer(rebasing: line[id]), at: at, now: now)
        }
    }
}

extension SegmentName {
    /// Epoch milliseconds of a `yyyyMMdd'T'HHmmss` stamp.
    static func parseStamp(_ stamp: String) -> Int64? {
        let s = Array(stamp)
        guard s.count == 15 else { return nil }
        let iso = "\(String(s[0..<4]))-\(String(s[4..<6]))-\(String(s[6..<8]))T\(String(s[9..<11])):\(String(s[11..<13])):\(String(s[13..<15]))Z"
        return Timestamp.parse(iso)
    }
}
