#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// An exclusive `flock` on `<data>/.lock`: one `serve` per data directory, and offline commands
/// (`delete-user`) refuse to run beside it. Released by `release()` or when the process exits.
public final class DataDirectoryLock: Sendable {
    private let fd: Locked<Int32>

    /// nil when another process (or another open `Storage`) holds the lock.
    public init?(directory: String) throws {
        try FileSystem.makeDirectory(directory)
        let path = directory + "/.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError("open", path) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        self.fd = Locked(fd)
    }

    public func release() {
        fd.withLock { fd in
            // Unlock before closing: a child forked at this moment (a test spawning a process, or an
            // exporter) holds a copy of the descriptor until its exec, and a close alone would leave the
            // lock held through that copy (the crash-state test once saw its reopen refused this way).
            if fd >= 0 {
                flock(fd, LOCK_UN)
                close(fd)
            }
            fd = -1
        }
    }

    deinit { release() }
}
