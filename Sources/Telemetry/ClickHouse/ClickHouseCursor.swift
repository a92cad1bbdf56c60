import Foundation
import Synchronization

/// How far a site's log has been shipped to ClickHouse, kept in `<site-dir>/clickhouse-cursor` (docs/files.md):
/// the log position up to which ClickHouse has acknowledged every line, this instance's name (it names the rows
/// of events without an id), and the erasures ClickHouse has yet to carry out. Written with fsync after every
/// acknowledged block, so a crash resends at most the block in flight.
///
/// Erasure rewrites segments, which moves the lines after the erased ones: `prepareErasure` moves the cursor
/// with them before the rewrite and bumps `generation`, so a block read before it is not acknowledged at its
/// old offsets.
public final class ClickHouseCursor: Sendable {
    struct State: Sendable, Equatable {
        var instance: String
        var position: LogPosition
        /// Users erased here whose rows ClickHouse may still hold.
        var erasures: [String]
        /// Bumped by every erasure; a block read under another generation is read again.
        var generation = 0
    }

    static let fileName = "clickhouse-cursor"
    let path: String
    let io: any FileIO
    /// This instance's name (it never changes once the file exists).
    let instance: String
    private let state: Locked<State>

    /// Reads the cursor of `directory`, or starts one at `start` (where a new sink begins: the end of the log).
    public init(directory: String, io: any FileIO = PosixFileIO(), start: @autoclosure () -> LogPosition) throws {
        path = directory + "/" + Self.fileName
        self.io = io
        if FileSystem.exists(path) {
            let bytes = try FileSystem.readAll(path)
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
                let instance = object["instance"] as? String, let seq = object["seq"] as? Int, let offset = object["offset"] as? Int
            else { throw ClickHouseClient.Failure(status: nil, message: "\(path) is not a ClickHouse cursor; delete it to start shipping from the end of the log") }
            self.instance = instance
            state = Locked(State(instance: instance, position: LogPosition(seq: seq, offset: offset), erasures: object["erasures"] as? [String] ?? []))
        } else {
            let instance = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            self.instance = instance
            state = Locked(State(instance: instance, position: start(), erasures: []))
            try save(state.withLock { $0 })
        }
    }

    var current: State { state.withLock { $0 } }
    var generation: Int { state.withLock { $0.generation } }

    /// Moves the cursor to `position` after ClickHouse acknowledged the lines before it, unless an erasure
    /// happened since the block was read (`generation`); false then.
    func advance(to position: LogPosition, readAt generation: Int) throws -> Bool {
        try state.withLock { s in
            guard s.generation == generation else { return false }
            var next = s
            next.position = position
            try save(next)
            s = next
            return true
        }
    }

    /// Sets the cursor (backfill starts over from the first segment).
    func reset(to position: LogPosition) throws {
        try state.withLock { s in
            var next = s
            next.position = position
            next.generation += 1
            try save(next)
            s = next
        }
    }

    /// Before `userId` is erased from the log in `directory` (writer paused): moves the cursor back by the bytes of
    /// that user's lines before it in its segment, and records the erasure for ClickHouse. The segment is read
    /// without holding the cursor (the sink may move it meanwhile: then it is read again).
    public func prepareErasure(of userId: String, directory: String, activeSeq: Int) throws {
        let user = UserNeedle(userId)
        while true {
            let seen = current.position
            var removed = 0
            if seen.offset > 0, let path = Self.segmentPath(seq: seen.seq, directory: directory, activeSeq: -1)
                ?? (seen.seq == activeSeq ? directory + "/" + SegmentName.active : nil)
            {
                try SegmentReader.forEachLine(path: path) { line, offset in
                    if offset < seen.offset, user.event(in: line) != nil { removed += line.count + 1 }
                }
            }
            let done = try state.withLock { s -> Bool in
                guard s.position == seen else { return false }
                var next = s
                next.generation += 1
                if !next.erasures.contains(userId) { next.erasures.append(userId) }
                next.position.offset -= removed
                try save(next)
                s = next
                return true
            }
            if done { return }
        }
    }

    /// ClickHouse has carried out the erasure of `userId`.
    func erased(_ userId: String) throws {
        try state.withLock { s in
            var next = s
            next.erasures.removeAll { $0 == userId }
            try save(next)
            s = next
        }
    }

    /// The file holding segment `seq`: the active segment, a closed one (plain or compressed), or nil.
    static func segmentPath(seq: Int, directory: String, activeSeq: Int) -> String? {
        if seq == activeSeq { return directory + "/" + SegmentName.active }
        for file in FileSystem.list(directory) {
            if let name = SegmentName(fileName: file), name.seq == seq { return directory + "/" + file }
        }
        return nil
    }

    private func save(_ s: State) throws {
        let text = JSONWriter.build { w in
            w.field("instance", s.instance)
            w.field("seq", s.position.seq)
            w.field("offset", s.position.offset)
            w.key("erasures")
            w.array { w in for user in s.erasures { w.string(user) } }
        }
        try io.writeAtomically(path, Array((text + "\n").utf8))
    }
}
