import Foundation
import Logging

/// Erases one user from the data directory (docs/api.md): every raw segment (compressed ones included),
/// quarantined lines, and the day aggregates. Each rewritten file goes through `.tmp` + fsync + rename,
/// so a crash leaves either the old or the new file, and recovery removes the `.tmp`.
public struct UserEraser: Sendable {
    let directory: String
    let index: DayIndex
    /// The running daemon's event table, which forgets the user's events too.
    let table: EventTable?
    let store: AggregateStore
    /// Present while the daemon runs: erasure then waits for any compression in progress.
    let maintenance: LogMaintenanceService?
    let io: any FileIO
    let logger: Logger

    public init(directory: String, index: DayIndex, table: EventTable? = nil, store: AggregateStore, maintenance: LogMaintenanceService?, io: any FileIO = PosixFileIO(), logger: Logger) {
        self.directory = directory
        self.index = index
        self.table = table
        self.store = store
        self.maintenance = maintenance
        self.io = io
        self.logger = logger
    }

    /// Erases `userId`; returns how many raw events were removed. Run it with the writer paused.
    public func erase(_ userId: String) throws -> Int {
        guard let maintenance else { return try eraseLocked(userId) }
        return try maintenance.withSegmentsLocked { try eraseLocked(userId) }
    }

    /// Present while an erasure rewrites segments (`aggregates/erasing`): a start that finds it rebuilds the
    /// dates the raw log holds instead of trusting the aggregates' position.
    static func markerPath(_ directory: String) -> String { directory + "/aggregates/erasing" }

    private func eraseLocked(_ userId: String) throws -> Int {
        let user = UserNeedle(userId)
        var deleted = 0
        try io.writeAtomically(Self.markerPath(directory), [UInt8]())
        for path in LogReplay(directory: directory, logger: logger).files() {
            let dropped = try rewrite(path) { line in
                guard let e = user.event(in: line) else { return false }
                index.subtract(e, line: line)
                return true
            }
            if dropped > 0 { FaultPoint.reach("erasure.file-rewritten") }
            deleted += dropped
        }
        let quarantine = directory + "/quarantine"
        for file in FileSystem.list(quarantine) where !file.hasSuffix(".tmp") {
            _ = try rewrite(quarantine + "/" + file) { UserNeedle.contains($0, user.needle) }
        }
        index.removeUser(canonical: user.canonical)
        _ = table?.erase(userHash: user.canonical.withUnsafeBufferPointer { index.hasher.hash($0) })
        let activeSize = FileSystem.size(directory + "/" + SegmentName.active) ?? 0
        index.setPosition(LogPosition(seq: index.position.seq, offset: activeSize))
        try store.flush(index)
        try io.unlinkFile(Self.markerPath(directory))
        try io.fsyncDirectory(directory + "/aggregates")
        logger.info("user erased", metadata: ["events": "\(deleted)"])
        return deleted
    }

    /// Rewrites `path` without the lines `drop` picks; returns how many it dropped (no rewrite when none).
    func rewrite(_ path: String, drop: (UnsafeBufferPointer<UInt8>) -> Bool) throws -> Int {
        var kept: [UInt8] = []
        var dropped = 0
        try SegmentReader.forEachLine(path: path, { line, _ in
            if drop(line) {
                dropped += 1
            } else {
                kept.append(contentsOf: line)
                kept.append(0x0A)
            }
        }, torn: { _, _ in })
        guard dropped > 0 else { return 0 }
        if path.hasSuffix(".gz") {
            let plain = path + ".plain.tmp"
            try io.writeAtomically(plain, kept)
            try Gzip.compressFile(plain, to: path + ".tmp", io: io)
            try io.unlinkFile(plain)
            try io.renameFile(path + ".tmp", path)
            try io.fsyncDirectory((path as NSString).deletingLastPathComponent)
        } else {
            try io.writeAtomically(path, kept)
        }
        return dropped
    }
}
