#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system calls the segment writer makes on the active segment; tests swap in one that fails.
public protocol SegmentIO: Sendable {
    /// Bytes written, or `-errno`.
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int
    /// 0, or the errno of a failed `fdatasync`.
    func datasync(_ fd: Int32) -> Int32
}

/// The real thing.
public struct PosixSegmentIO: SegmentIO {
    public init() {}

    public func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        while true {
            let n = Glibc.write(fd, bytes.baseAddress, bytes.count)
            if n >= 0 { return n }
            if errno != EINTR { return -Int(errno) }
        }
    }

    public func datasync(_ fd: Int32) -> Int32 {
        fdatasync(fd) == 0 ? 0 : errno
    }
}
