#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Reads the lines of log segments, plain or gzip-compressed, in order.
public enum SegmentReader {
    /// Calls `line` with every `\n`-terminated line of the file (without the `\n`) and its byte offset.
    /// A last line without `\n` is passed to `torn` instead.
    public static func forEachLine(
        path: String, skipping skip: Int = 0,
        _ line: (UnsafeBufferPointer<UInt8>, Int) throws -> Void,
        torn: (Int, Int) -> Void = { _, _ in }
    ) throws {
        var splitter = LineSplitter(skip: skip)
        if path.hasSuffix(".gz") {
            try GzipPipeline.forEachChunk(path) { try splitter.feed($0, line) }
        } else {
            let bytes = try FileSystem.readAll(path)
            try bytes.withUnsafeBufferPointer { try splitter.feed($0, line) }
        }
        splitter.finish(torn)
    }

    /// The lines of the bytes `from..<to` of an open plain segment (`to` nil: through its end), read in chunks with
    /// `pread`; `from` and `to` are line boundaries (commit positions). Offsets passed to `line` count from `from`.
    static func forEachLine(fd: Int32, from: Int, to: Int?, _ line: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        var splitter = LineSplitter(skip: 0)
        var chunk = [UInt8](repeating: 0, count: 4 << 20)
        var at = from
        while to.map({ at < $0 }) ?? true {
            let want = min(chunk.count, to.map { $0 - at } ?? chunk.count)
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, want, off_t(at)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError("read", "fd \(fd)")
            }
            if n == 0 { break }
            try chunk.withUnsafeBufferPointer { try splitter.feed(UnsafeBufferPointer(rebasing: $0[0..<n]), line) }
            at += n
        }
    }

    /// The same for bytes already in memory.
    static func forEachLine(in bytes: UnsafeBufferPointer<UInt8>, _ line: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) rethrows {
        var splitter = LineSplitter(skip: 0)
        try splitter.feed(bytes, line)
    }

    /// Cuts chunks into lines; a line that spans chunks is carried over.
    struct LineSplitter {
        let skip: Int
        var carry: [UInt8] = []
        var offset = 0

        init(skip: Int) { self.skip = skip }

        mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, _ line: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) rethrows {
            var start = 0
            var i = 0
            let n = chunk.count
            while i < n {
                guard let p = SegmentReader.memchrIndex(chunk, from: i) else { break }
                let length: Int
                if carry.isEmpty {
                    length = p - start
                    if offset >= skip { try line(UnsafeBufferPointer(rebasing: chunk[start..<p]), offset) }
                } else {
                    carry.append(contentsOf: chunk[start..<p])
                    length = carry.count
                    if offset >= skip { try carry.withUnsafeBufferPointer { try line($0, offset) } }
                }
                offset += length + 1
                carry.removeAll(keepingCapacity: true)
                start = p + 1
                i = start
            }
            if start < n { carry.append(contentsOf: chunk[start..<n]) }
        }

        func finish(_ torn: (Int, Int) -> Void) {
            if !carry.isEmpty { torn(offset, carry.count) }
        }
    }

    @inline(__always)
    static func memchrIndex(_ b: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard from < b.count, let base = b.baseAddress else { return nil }
        guard let hit = memchr(base + from, 0x0A, b.count - from) else { return nil }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }
}

/// Decompresses on a thread of its own while the caller parses the previous chunks, so a rebuild
/// uses both cores: inflate and parse run at similar speeds.
enum GzipPipeline {
    /// `@unchecked Sendable`: every field is touched only under `condition`.
    final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var chunks: [[UInt8]] = []
        var done = false
        var failure: (any Error)?
    }

    static func forEachChunk(_ path: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let queue = Queue()
        let producer = Thread(named: "gzip-reader") {
            do {
                try Gzip.decompressFile(path) { chunk in
                    queue.condition.lock()
                    while queue.chunks.count >= 4 && !queue.done { queue.condition.wait() }
                    queue.chunks.append(Array(chunk))
                    queue.condition.broadcast()
                    queue.condition.unlock()
                }
            } catch {
                queue.condition.lock()
                queue.failure = error
                queue.condition.unlock()
            }
            queue.condition.lock()
            queue.done = true
            queue.condition.broadcast()
            queue.condition.unlock()
        }
        producer.start()
        var consumerError: (any Error)?
        while true {
            queue.condition.lock()
            while queue.chunks.isEmpty && !queue.done { queue.condition.wait() }
            if queue.chunks.isEmpty {
                queue.condition.unlock()
                break
            }
            let chunk = queue.chunks.removeFirst()
            queue.condition.broadcast()
            queue.condition.unlock()
            do {
                try chunk.withUnsafeBufferPointer { try body($0) }
            } catch {
                consumerError = error
                queue.condition.lock()
                queue.done = true  // the producer stops waiting; its remaining chunks are dropped
                queue.chunks = []
                queue.condition.broadcast()
                queue.condition.unlock()
                break
            }
        }
        queue.condition.lock()
        while !queue.done { queue.condition.wait() }
        let failure = queue.failure
        queue.condition.unlock()
        if let consumerError { throw consumerError }
        if let failure { throw failure }
    }
}
