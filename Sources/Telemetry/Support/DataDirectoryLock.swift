#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `<data>/.lock`: one `serve` per data directory, and offline commands
/// (`delete-user`) refuse to run beside it. Released when the process exits.
public final class DataDirectoryLock {
    let fd: Int32

    /// nil when another process holds the lock.
    public init?(directory: String) throws {
        try FileSystem.makeDirectory(directory)
        let path = directory + "/.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError("open", path) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
