#if canImport(Glibc)
import Glibc
#endif
import CTelemetryShims

/// gzip files through the system zlib.
public enum Gzip {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Compresses `source` into `destination` (level 6) and fsyncs it.
    public static func compressFile(_ source: String, to destination: String, io: any FileIO = PosixFileIO()) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw FileError("open", source) }
        defer { close(input) }
        let output = io.open(destination, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        guard output >= 0 else { throw FileError("open", destination, code: -output) }
        defer { io.close(output) }
        var stream = z_stream()
        guard deflateInit2_(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { throw Failure(description: "deflateInit failed") }
        defer { deflateEnd(&stream) }
        var inBuf = [UInt8](repeating: 0, count: 256 << 10)
        var outBuf = [UInt8](repeating: 0, count: 256 << 10)
        var flush = Z_NO_FLUSH
        repeat {
            let n = inBuf.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            guard n >= 0 else { throw FileError("read", source) }
            flush = n == 0 ? Z_FINISH : Z_NO_FLUSH
            try inBuf.withUnsafeMutableBufferPointer { inPtr in
                stream.next_in = inPtr.baseAddress
                stream.avail_in = UInt32(n)
                repeat {
                    let produced = try outBuf.withUnsafeMutableBufferPointer { outPtr -> Int in
                        stream.next_out = outPtr.baseAddress
                        stream.avail_out = UInt32(outPtr.count)
                        let rc = deflate(&stream, flush)
                        guard rc != Z_STREAM_ERROR else { throw Failure(description: "deflate failed") }
                        return outPtr.count - Int(stream.avail_out)
                    }
                    try outBuf[0..<produced].withUnsafeBytes { try io.writeAll(output, $0, path: destination) }
                } while stream.avail_out == 0
            }
        } while flush != Z_FINISH
        let e = io.sync(output)
        guard e == 0 else { throw FileError("fsync", destination, code: e) }
    }

    /// Streams the decompressed bytes of a gzip file in chunks.
    public static func decompressFile(_ path: String, chunk: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw FileError("open", path) }
        defer { close(input) }
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { throw Failure(description: "inflateInit failed") }
        defer { inflateEnd(&stream) }
        var inBuf = [UInt8](repeating: 0, count: 256 << 10)
        var outBuf = [UInt8](repeating: 0, count: 1 << 20)
        var ended = false
        while !ended {
            let n = inBuf.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            guard n >= 0 else { throw FileError("read", path) }
            if n == 0 { throw Failure(description: "\(path): truncated gzip stream") }
            try inBuf.withUnsafeMutableBufferPointer { inPtr in
                stream.next_in = inPtr.baseAddress
                stream.avail_in = UInt32(n)
                while stream.avail_in > 0 || stream.avail_out == 0 {
                    var rc: Int32 = 0
                    let produced = outBuf.withUnsafeMutableBufferPointer { outPtr -> Int in
                        stream.next_out = outPtr.baseAddress
                        stream.avail_out = UInt32(outPtr.count)
                        rc = inflate(&stream, Z_NO_FLUSH)
                        return outPtr.count - Int(stream.avail_out)
                    }
                    if produced > 0 { try outBuf.withUnsafeBufferPointer { try chunk(UnsafeBufferPointer(rebasing: $0[0..<produced])) } }
                    if rc == Z_STREAM_END {
                        if stream.avail_in > 0 {
                            inflateReset(&stream)  // a further gzip member follows
                            continue
                        }
                        ended = true
                        break
                    }
                    guard rc == Z_OK || rc == Z_BUF_ERROR else { throw Failure(description: "\(path): damaged gzip stream") }
                    if rc == Z_BUF_ERROR { break }
                }
            }
        }
    }
}

extension Gzip {
    /// gzip of an in-memory buffer at the best compression (static files are compressed once).
    public static func compress(_ input: [UInt8], level: Int32 = 9) throws -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { throw Failure(description: "deflateInit failed") }
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        var input = input
        let produced = input.withUnsafeMutableBufferPointer { inPtr in
            out.withUnsafeMutableBufferPointer { outPtr -> Int in
                stream.next_in = inPtr.baseAddress
                stream.avail_in = UInt32(inPtr.count)
                stream.next_out = outPtr.baseAddress
                stream.avail_out = UInt32(outPtr.count)
                guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { return -1 }
                return outPtr.count - Int(stream.avail_out)
            }
        }
        guard produced >= 0 else { throw Failure(description: "deflate failed") }
        return Array(out[0..<produced])
    }
}
