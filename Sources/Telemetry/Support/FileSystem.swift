#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A failed file operation: what was tried, on which path, and the system's reason.
public struct FileError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    public var code: Int32

    public init(_ operation: String, _ path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}

/// Small POSIX helpers for crash-safe file handling.
public enum FileSystem {
    public static func fsyncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileError("fsync", path) }
    }

    public static func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw FileError("rename", from) }
    }

    public static func unlink(_ path: String) throws {
        guard Glibc.unlink(path) == 0 || errno == ENOENT else { throw FileError("unlink", path) }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func size(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    /// What changes when a file is replaced or rewritten: inode, size and modification time.
    struct Stamp: Equatable, Sendable {
        var inode: UInt64
        var size: Int64
        var modified: Int64
    }

    static func stamp(_ path: String) -> Stamp? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Stamp(inode: UInt64(st.st_ino), size: Int64(st.st_size), modified: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }

    public static func list(_ directory: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    }

    /// Creates `path` and any missing parent (a site's `<data-dir>/sites/<id>`).
    public static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) == 0 || errno == EEXIST { return }
        let parent = (path as NSString).deletingLastPathComponent
        guard errno == ENOENT, !parent.isEmpty, parent != path else { throw FileError("mkdir", path) }
        try makeDirectory(parent)
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw FileError("mkdir", path) }
    }

    /// The first `limit` bytes of an open file (fewer when it is shorter).
    static func readPrefix(_ fd: Int32, upTo limit: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: limit)
        var done = 0
        while done < limit {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, limit - done, off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError("read", "fd \(fd)")
            }
            if n == 0 { break }
            done += n
        }
        out.removeLast(limit - done)
        return out
    }

    public static func readAll(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", path) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError("read", path)
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    /// Writes `bytes` to `path` crash-safely: a `.tmp` sibling, fsync, rename, fsync of the directory
    /// (leave that to the caller with `syncDirectory: false` when it renames many files at once).
    public static func writeAtomically(
        _ path: String, _ bytes: some Collection<UInt8>, syncDirectory: Bool = true, faultPoint: String? = nil
    ) throws {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError("open", tmp) }
        let data = Array(bytes)
        var done = 0
        while done < data.count {
            let n = data.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = FileError("write", tmp)
                close(fd)
                try? unlink(tmp)
                throw e
            }
            done += n
        }
        guard fsync(fd) == 0 else {
            let e = FileError("fsync", tmp)
            close(fd)
            try? unlink(tmp)
            throw e
        }
        close(fd)
        if let faultPoint { FaultPoint.reach(faultPoint) }
        try rename(tmp, path)
        if syncDirectory {
            try fsyncDirectory((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
        }
    }
}
