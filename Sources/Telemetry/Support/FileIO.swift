#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Every system call that changes a file the storage keeps: the active segment, rotation, compression,
/// retention, the aggregates and their manifest, the dedup snapshot, the rollups, erasure and the ClickHouse
/// cursor. Production uses `PosixFileIO`; tests swap in one that fails (disk full, fsync errors) or one that
/// records the calls to explore the states a power cut can leave.
public protocol FileIO: Sendable {
    /// A file descriptor, or `-errno`.
    func open(_ path: String, flags: Int32, mode: mode_t) -> Int32
    /// Bytes written, or `-errno`.
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int
    /// 0, or the errno of a failed `fdatasync`.
    func datasync(_ fd: Int32) -> Int32
    /// 0, or the errno of a failed `fsync` (of a file or, opened with `O_DIRECTORY`, a directory).
    func sync(_ fd: Int32) -> Int32
    /// 0, or the errno of a failed `ftruncate`.
    func truncate(_ fd: Int32, to length: Int) -> Int32
    func close(_ fd: Int32)
    /// 0, or the errno.
    func rename(_ from: String, _ to: String) -> Int32
    /// 0, or the errno (`ENOENT` included: callers decide whether a missing file matters).
    func unlink(_ path: String) -> Int32
    /// 0, or the errno (`EEXIST` included).
    func makeDirectory(_ path: String) -> Int32
}

/// The real thing.
public struct PosixFileIO: FileIO {
    public init() {}

    public func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
        return fd >= 0 ? fd : -errno
    }

    public func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        while true {
            let n = Glibc.write(fd, bytes.baseAddress, bytes.count)
            if n >= 0 { return n }
            if errno != EINTR { return -Int(errno) }
        }
    }

    public func datasync(_ fd: Int32) -> Int32 { fdatasync(fd) == 0 ? 0 : errno }

    public func sync(_ fd: Int32) -> Int32 { fsync(fd) == 0 ? 0 : errno }

    public func truncate(_ fd: Int32, to length: Int) -> Int32 { ftruncate(fd, off_t(length)) == 0 ? 0 : errno }

    public func close(_ fd: Int32) { _ = Glibc.close(fd) }

    public func rename(_ from: String, _ to: String) -> Int32 { Glibc.rename(from, to) == 0 ? 0 : errno }

    public func unlink(_ path: String) -> Int32 { Glibc.unlink(path) == 0 ? 0 : errno }

    public func makeDirectory(_ path: String) -> Int32 { mkdir(path, 0o755) == 0 ? 0 : errno }
}

/// The crash-safe steps built from those calls.
extension FileIO {
    public func fsyncDirectory(_ path: String) throws {
        let fd = open(path, flags: O_RDONLY | O_DIRECTORY, mode: 0)
        guard fd >= 0 else { throw FileError("open", path, code: -fd) }
        defer { close(fd) }
        let e = sync(fd)
        guard e == 0 else { throw FileError("fsync", path, code: e) }
    }

    public func renameFile(_ from: String, _ to: String) throws {
        let e = rename(from, to)
        guard e == 0 else { throw FileError("rename", from, code: e) }
    }

    /// Removes `path`; a file already gone is not an error.
    public func unlinkFile(_ path: String) throws {
        let e = unlink(path)
        guard e == 0 || e == ENOENT else { throw FileError("unlink", path, code: e) }
    }

    /// Creates `path` and any missing parent (a site's `<data-dir>/sites/<id>`).
    public func makeDirectories(_ path: String) throws {
        var e = makeDirectory(path)
        if e == 0 || e == EEXIST { return }
        let parent = (path as NSString).deletingLastPathComponent
        guard e == ENOENT, !parent.isEmpty, parent != path else { throw FileError("mkdir", path, code: e) }
        try makeDirectories(parent)
        e = makeDirectory(path)
        guard e == 0 || e == EEXIST else { throw FileError("mkdir", path, code: e) }
    }

    /// Writes all of `bytes` at the file's offset.
    public func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = write(fd, UnsafeRawBufferPointer(rebasing: bytes[done...]))
            guard n > 0 else { throw FileError("write", path, code: n < 0 ? Int32(-n) : EIO) }
            done += n
        }
    }

    /// Cuts `path` to `length` bytes and fsyncs it.
    public func truncateFile(_ path: String, to length: Int) throws {
        let fd = open(path, flags: O_WRONLY, mode: 0)
        guard fd >= 0 else { throw FileError("open", path, code: -fd) }
        defer { close(fd) }
        var e = truncate(fd, to: length)
        guard e == 0 else { throw FileError("truncate", path, code: e) }
        e = sync(fd)
        guard e == 0 else { throw FileError("fsync", path, code: e) }
    }

    /// Writes `bytes` to `path` crash-safely: a `.tmp` sibling, fsync, rename, fsync of the directory
    /// (leave that to the caller with `syncDirectory: false` when it renames many files at once).
    public func writeAtomically(
        _ path: String, _ bytes: some Collection<UInt8>, syncDirectory: Bool = true, faultPoint: String? = nil
    ) throws {
        let tmp = path + ".tmp"
        let fd = open(tmp, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        guard fd >= 0 else { throw FileError("open", tmp, code: -fd) }
        do {
            try Array(bytes).withUnsafeBytes { try writeAll(fd, $0, path: tmp) }
            let e = sync(fd)
            guard e == 0 else { throw FileError("fsync", tmp, code: e) }
        } catch {
            close(fd)
            _ = unlink(tmp)
            throw error
        }
        close(fd)
        if let faultPoint { FaultPoint.reach(faultPoint) }
        try renameFile(tmp, path)
        if syncDirectory {
            let directory = (path as NSString).deletingLastPathComponent
            try fsyncDirectory(directory.isEmpty ? "." : directory)
        }
    }
}
