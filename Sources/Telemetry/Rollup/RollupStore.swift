#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// `analytics.ndjson`: one rollup line per `end`, oldest first (docs/files.md). Every change rewrites the
/// file atomically under an exclusive `flock`, so the daemon and the `rollup` command can both write it.
public struct RollupStore: Sendable {
    public struct Line: Sendable, Equatable {
        public var end: CivilDate
        public var text: String
    }

    public let path: String
    let io: any FileIO

    public init(dataDirectory: String, io: any FileIO = PosixFileIO()) {
        path = dataDirectory + "/analytics.ndjson"
        self.io = io
    }

    /// Runs `body` holding the lock file beside the rollups.
    public func locked<T>(_ body: () throws -> T) throws -> T {
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError("open", lockPath) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw FileError("flock", lockPath) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    public func read() -> [Line] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { raw in
            guard let object = try? JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any],
                let end = (object["end"] as? String).flatMap({ CivilDate(iso: $0) })
            else { return nil }
            return Line(end: end, text: String(raw))
        }
    }

    /// Replaces the line of `line.end` (or adds it) and drops lines whose end is before `oldest`.
    public func upsert(_ line: Line?, keepingFrom oldest: CivilDate) throws {
        var lines = read().filter { $0.end != line?.end && $0.end >= oldest }
        if let line { lines.append(line) }
        lines.sort { $0.end < $1.end }
        try io.writeAtomically(path, Array(lines.map { $0.text + "\n" }.joined().utf8), faultPoint: "rollup.written")
    }
}
