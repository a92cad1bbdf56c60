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

/// Small POSIX helpers for reading and for the files outside the storage (those go through `FileIO`).
public enum FileSystem {
    public static func fsyncDirectory(_ path: String) throws { try PosixFileIO().fsyncDirectory(path) }

    public static func rename(_ from: String, _ to: String) throws { try PosixFileIO().renameFile(from, to) }

    public static func unlink(_ path: String) throws { try PosixFileIO().unlinkFile(path) }

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
    public static func makeDirectory(_ path: String) throws { try PosixFileIO().makeDirectories(path) }

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

    /// Writes `bytes` to `path` crash-safely (`FileIO.writeAtomically` on the real file system), for files
    /// outside the storage's seam: the outbox, the report state, share tokens.
    public static func writeAtomically(_ path: String, _ bytes: some Collection<UInt8>) throws {
        try PosixFileIO().writeAtomically(path, bytes)
    }
}
