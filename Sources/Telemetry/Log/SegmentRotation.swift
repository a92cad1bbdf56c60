import Foundation

/// Closing the active segment: rename to the next sequence number, then fsync the directory.
struct SegmentRotation {
    let directory: String
    private(set) var nextSeq: Int
    let io: any FileIO

    init(directory: String, nextSeq: Int, io: any FileIO) {
        self.directory = directory
        self.nextSeq = nextSeq
        self.io = io
    }

    /// The sequence number after every one in use in `directory` (compressed segments included).
    static func nextSeq(in directory: String, atLeast floor: Int = 1) -> Int {
        let used = FileSystem.list(directory).compactMap { SegmentName(fileName: $0)?.seq }
        return max(floor, (used.max() ?? 0) + 1)
    }

    mutating func close(activePath: String, stamp: String) throws -> SegmentName {
        let name = SegmentName(stamp: stamp, seq: nextSeq, compressed: false)
        try io.renameFile(activePath, directory + "/" + name.fileName)
        FaultPoint.reach("rotation.renamed")
        nextSeq += 1
        try io.fsyncDirectory(directory)
        return name
    }

    /// The `received_at` of the active segment's first line, which names the segment when it closes.
    func firstReceivedAt() -> Int64? {
        guard let handle = FileHandle(forReadingAtPath: directory + "/" + SegmentName.active) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 64 << 10) else { return nil }
        let bytes = [UInt8](data)
        guard let nl = bytes.firstIndex(of: 0x0A) else { return nil }
        return StoredEvent.parse(bytes[0..<nl])?.receivedAt
    }
}
