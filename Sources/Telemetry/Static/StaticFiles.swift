import Crypto
import Foundation

/// The files under `static/`: embedded in the binary at build time, or read from `--static-dir`.
public struct StaticFiles: Sendable {
    public struct File: Sendable {
        public var bytes: [UInt8]
        public var gzipped: [UInt8]
        public var etag: String
        public var contentType: String
    }

    let embedded: [String: File]
    let directory: String?

    /// Decodes and gzips the embedded files once; with `directory`, files come from there on each request instead.
    public init(directory: String? = nil) {
        self.directory = directory
        var files: [String: File] = [:]
        if directory == nil {
            for (name, base64) in EmbeddedStatic.files {
                files[name] = Self.file(name, Array(Data(base64Encoded: base64) ?? Data()))
            }
        }
        embedded = files
    }

    public func file(_ name: String) -> File? {
        guard let directory else { return embedded[name] }
        guard !name.split(separator: "/").contains(".."), let bytes = try? FileSystem.readAll(directory + "/" + name) else { return nil }
        return Self.file(name, bytes)
    }

    static func file(_ name: String, _ bytes: [UInt8]) -> File {
        let digest = SHA256.hash(data: bytes).prefix(8).map { String(format: "%02x", $0) }.joined()
        return File(bytes: bytes, gzipped: (try? Gzip.compress(bytes)) ?? [], etag: "\"\(digest)\"", contentType: contentType(name))
    }

    static func contentType(_ name: String) -> String {
        switch name.split(separator: ".").last {
        case "js": "application/javascript; charset=utf-8"
        case "html": "text/html; charset=utf-8"
        case "yaml", "yml": "application/yaml; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "json": "application/json"
        case "svg": "image/svg+xml"
        default: "application/octet-stream"
        }
    }
}
