#if canImport(Glibc)
import Glibc
#endif
import CTelemetryShims

/// Where the packed columns of the dates before yesterday live: an unnamed file in the data directory, mapped
/// read-only (docs/architecture.md). The kernel keeps those columns in its page cache while there is room and
/// reads them back from disk under memory pressure, where the heap would have held them for good; the scans read
/// them through the mapping as they read arrays. The file has no name and goes with the daemon: a cache of the
/// raw log, never read at start-up. A region's blocks are freed when no snapshot of the table holds it any more.
final class ColumnFile: Sendable {
    private let fd: Int32
    /// Where the next region starts, and the mapped regions by offset.
    private let state = Locked(State())
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    private struct State {
        var end = 0
        var mapped: [Int: (address: UInt, length: Int)] = [:]
    }

    /// The file for `directory`, or nil where its file system cannot make an unnamed one (the columns then stay
    /// on the heap).
    init?(directory: String) {
        let fd = telemetry_open_unnamed(directory)
        guard fd >= 0 else { return nil }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Writes `parts` one after the other into a new region and maps it; nil when writing or mapping fails (the
    /// caller keeps its arrays). Each part's words start at `offsets[i]` bytes into the region.
    func store(_ parts: [[UInt64]]) -> (region: ColumnRegion, offsets: [Int])? {
        var offsets: [Int] = []
        var length = 0
        for part in parts {
            offsets.append(length)
            length += part.count * 8
        }
        guard length > 0 else { return nil }
        let span = (length + Self.pageSize - 1) / Self.pageSize * Self.pageSize
        let start = state.withLock { s in
            defer { s.end += span }
            return s.end
        }
        for (part, at) in zip(parts, offsets) {
            let written = part.withUnsafeBytes { bytes in Self.writeFully(fd, bytes, at: start + at) }
            guard written else {
                _ = telemetry_punch_hole(fd, start, span)
                return nil
            }
        }
        guard let base = mmap(nil, length, PROT_READ, MAP_SHARED, fd, off_t(start)), base != MAP_FAILED else {
            _ = telemetry_punch_hole(fd, start, span)
            return nil
        }
        state.withLock { $0.mapped[start] = (UInt(bitPattern: base), length) }
        return (ColumnRegion(file: self, base: UnsafeRawPointer(base), start: start, span: span), offsets)
    }

    private static func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    /// Unmaps a region and frees its blocks (the last snapshot holding it went).
    fileprivate func release(start: Int, span: Int) {
        state.withLock { s in
            if let r = s.mapped.removeValue(forKey: start) { munmap(UnsafeMutableRawPointer(bitPattern: r.address), r.length) }
        }
        _ = telemetry_punch_hole(fd, start, span)
    }

    /// Lets go of the pages the scans mapped, leaving them to the page cache: the process's resident memory
    /// falls back to what the heap holds, and the next scan maps them again without reading the disk.
    func dropResidentPages() {
        state.withLock { s in
            for r in s.mapped.values { madvise(UnsafeMutableRawPointer(bitPattern: r.address), r.length, MADV_DONTNEED) }
        }
    }

    /// Bytes in mapped regions.
    var mappedBytes: Int { state.withLock { $0.mapped.values.reduce(0) { $0 + $1.length } } }
}

/// A mapped region of the column file; unmapped and freed when the last column reading it goes.
final class ColumnRegion: @unchecked Sendable {
    private let file: ColumnFile
    let base: UnsafeRawPointer
    private let start: Int
    private let span: Int

    fileprivate init(file: ColumnFile, base: UnsafeRawPointer, start: Int, span: Int) {
        self.file = file
        self.base = base
        self.start = start
        self.span = span
    }

    deinit { file.release(start: start, span: span) }
}
