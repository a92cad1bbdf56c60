/// The names of the files a log directory holds (docs/files.md).
public struct SegmentName: Comparable, Sendable, CustomStringConvertible {
    public static let active = "analytics_events.ndjson"

    public var stamp: String
    public var seq: Int
    public var compressed: Bool

    public init(stamp: String, seq: Int, compressed: Bool) {
        self.stamp = stamp
        self.seq = seq
        self.compressed = compressed
    }

    /// `analytics_events-<yyyyMMdd'T'HHmmss>-<seq>.ndjson[.gz]`
    public init?(fileName: String) {
        let prefix = "analytics_events-"
        guard fileName.hasPrefix(prefix) else { return nil }
        var rest = fileName.dropFirst(prefix.count)
        if rest.hasSuffix(".ndjson.gz") {
            compressed = true
            rest = rest.dropLast(".ndjson.gz".count)
        } else if rest.hasSuffix(".ndjson") {
            compressed = false
            rest = rest.dropLast(".ndjson".count)
        } else {
            return nil
        }
        let parts = rest.split(separator: "-")
        guard parts.count == 2, parts[0].count == 15, let seq = Int(parts[1]), seq > 0 else { return nil }
        self.stamp = String(parts[0])
        self.seq = seq
    }

    public var fileName: String {
        let digits = String(seq)
        let padded = String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        return "analytics_events-\(stamp)-\(padded).ndjson" + (compressed ? ".gz" : "")
    }

    public var description: String { fileName }

    public var uncompressed: SegmentName { SegmentName(stamp: stamp, seq: seq, compressed: false) }
    public var gzipped: SegmentName { SegmentName(stamp: stamp, seq: seq, compressed: true) }

    /// `yyyyMMdd'T'HHmmss` in UTC.
    public static func stamp(epochMilliseconds ms: Int64) -> String {
        let full = Timestamp.string(ms)  // 2025-10-21T10:00:00.000Z
        let b = Array(full.utf8)
        let keep: [Int] = [0, 1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 14, 15, 17, 18]
        return String(decoding: keep.map { b[$0] }, as: UTF8.self)
    }

    public static func < (a: SegmentName, b: SegmentName) -> Bool { a.seq < b.seq }
}
