#if canImport(Glibc)
import Glibc
#endif
import CTelemetryShims

/// Where the packed columns of the dates before yesterday, and what the caches keep of them, live: an unnamed
/// file in the data directory, mapped read-only (docs/architecture.md). The kernel keeps them in its page cache
/// while there is room and reads them back from disk under memory pressure, where the heap would have held them
/// for good; the scans read them through the mapping as they read arrays. The file has no name and goes with
/// the daemon: a cache of the raw log, never read at start-up.
///
/// The whole file is mapped once, in an address range reserved for it (`reserve`); a region is a page-aligned
/// range of it, written with `pwrite` before anyone reads it, and freed (its blocks punched out, its range
/// reused) when the last value reading it goes.
final class ColumnFile: @unchecked Sendable {
    /// The address range reserved for the mapping: room for billions of events' columns.
    static let reserve = 64 << 30
    /// Free space the file leaves its file system by default: it is a cache, and the raw log must never find
    /// the disk full because of it (a region that would leave less stays on the heap).
    static let freeSpaceKept = 1 << 30
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    private let fd: Int32
    private let keepFree: Int
    /// The mapping of the whole reserve.
    private let base: UnsafeMutableRawPointer
    private let state = Locked(State())

    private struct State {
        /// The end of the highest region ever handed out.
        var end = 0
        /// Freed ranges below `end`, by start, neighbours merged.
        var free: [(start: Int, span: Int)] = []
        var live = 0
    }

    /// The file for `directory`, or nil where its file system cannot make an unnamed one or the address range
    /// cannot be reserved (the columns then stay on the heap).
    init?(directory: String, keepFree: Int = ColumnFile.freeSpaceKept) {
        let fd = telemetry_open_unnamed(directory)
        guard fd >= 0 else { return nil }
        guard let base = mmap(nil, Self.reserve, PROT_READ, MAP_SHARED | MAP_NORESERVE, fd, 0), base != MAP_FAILED else {
            close(fd)
            return nil
        }
        self.fd = fd
        self.keepFree = keepFree
        self.base = base
    }

    deinit {
        munmap(base, Self.reserve)
        close(fd)
    }

    /// Writes `bytes` into a new region; nil when there is no room or the write fails (the caller keeps its
    /// arrays).
    func store(_ bytes: UnsafeRawBufferPointer) -> ColumnRegion? {
        guard !bytes.isEmpty else { return nil }
        let span = (bytes.count + Self.pageSize - 1) / Self.pageSize * Self.pageSize
        var fs = statvfs()
        guard fstatvfs(fd, &fs) == 0, Int(fs.f_bavail) * Int(fs.f_frsize) >= span + keepFree,
              let start = allocate(span) else { return nil }
        guard Self.writeFully(fd, bytes, at: start) else {
            release(start: start, span: span)
            return nil
        }
        return ColumnRegion(file: self, base: UnsafeRawPointer(base + start), start: start, span: span)
    }

    /// Stores `parts` of 64-bit words one after the other (copied into one buffer: a date's columns are a few MB,
    /// packed once); each part starts `offsets[i]` bytes into the region.
    func store(_ parts: [[UInt64]]) -> (region: ColumnRegion, offsets: [Int])? {
        guard let region = Array(parts.joined()).withUnsafeBytes({ store($0) }) else { return nil }
        var offsets: [Int] = []
        var at = 0
        for part in parts {
            offsets.append(at)
            at += part.count * 8
        }
        return (region, offsets)
    }

    private func allocate(_ span: Int) -> Int? {
        state.withLock { s in
            if let k = s.free.firstIndex(where: { $0.span >= span }) {
                let start = s.free[k].start
                if s.free[k].span == span { s.free.remove(at: k) } else { s.free[k] = (start + span, s.free[k].span - span) }
                s.live += span
                return start
            }
            guard s.end + span <= Self.reserve else { return nil }
            defer { s.end += span }
            s.live += span
            return s.end
        }
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

    /// Frees a region's blocks and its range (the last value reading it went).
    fileprivate func release(start: Int, span: Int) {
        _ = telemetry_punch_hole(fd, start, span)
        state.withLock { s in
            s.live -= span
            var k = s.free.firstIndex { $0.start > start } ?? s.free.count
            s.free.insert((start, span), at: k)
            if k + 1 < s.free.count, s.free[k].start + s.free[k].span == s.free[k + 1].start {
                s.free[k].span += s.free.remove(at: k + 1).span
            }
            if k > 0, s.free[k - 1].start + s.free[k - 1].span == s.free[k].start {
                s.free[k - 1].span += s.free.remove(at: k).span
                k -= 1
            }
            // A free range at the top lowers the top.
            if s.free[k].start + s.free[k].span == s.end {
                s.end = s.free[k].start
                s.free.remove(at: k)
            }
        }
    }

    /// Lets go of the pages the scans mapped, leaving them to the page cache: the process's resident memory
    /// falls back to what the heap holds, and the next scan maps them again without reading the disk.
    func dropResidentPages() {
        let end = state.withLock { $0.end }
        if end > 0 { madvise(base, end, MADV_DONTNEED) }
    }

    /// Bytes in regions (page-rounded).
    var liveBytes: Int { state.withLock { $0.live } }
}

/// A region of the column file, read through the file's mapping; freed when the last value reading it goes.
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

    /// Lets go of the region's pages a scan mapped, leaving them to the page cache (`ColumnFile.dropResidentPages`
    /// for one region): a scan drops each date's once it is done with it, so a month's columns are never all
    /// resident at once. Another scan reading them meanwhile maps them again, from memory.
    func dropResidentPages() { madvise(UnsafeMutableRawPointer(mutating: base), span, MADV_DONTNEED) }
}

/// An array of plain values that does not change: on the heap, or in the column file.
struct StoredArray<Element: BitwiseCopyable>: RandomAccessCollection, @unchecked Sendable {
    private let array: [Element]
    private let region: ColumnRegion?
    private let values: UnsafePointer<Element>?
    let count: Int

    init(_ array: [Element] = []) {
        self.init(array: array, region: nil)
    }

    /// `values`, in `file` when there is one that takes them, else in an array.
    init(_ values: UnsafeBufferPointer<Element>, in file: ColumnFile?) {
        if let file, let region = file.store(UnsafeRawBufferPointer(values)) {
            self.init(array: [], region: (region, values.count))
        } else {
            self.init(array: Array(values), region: nil)
        }
    }

    private init(array: [Element], region: (ColumnRegion, count: Int)?) {
        self.array = array
        self.region = region?.0
        values = region.map { $0.0.base.assumingMemoryBound(to: Element.self) }
        count = region?.count ?? array.count
    }

    init(_ array: [Element], in file: ColumnFile?) {
        self = array.withUnsafeBufferPointer { StoredArray($0, in: file) }
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    @inline(__always)
    subscript(i: Int) -> Element {
        if let values { return values[i] }
        return array[i]
    }

    @inline(__always)
    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        if let values { return try body(UnsafeBufferPointer(start: values, count: count)) }
        return try array.withUnsafeBufferPointer(body)
    }

    /// Whether the values are in the column file.
    var isStored: Bool { region != nil }

    /// Lets go of the pages a scan mapped of the values in the column file (`ColumnRegion.dropResidentPages`).
    func dropResidentPages() { region?.dropResidentPages() }
}
