import Foundation
import Synchronization

/// Share tokens (docs/sites.md): each opens the read-only endpoints and the dashboard of one site. Only the
/// SHA-256 digest of a token is kept, in `<data-dir>/share-tokens.json`; the token itself is shown once, when
/// it is created. The file is re-read when it changes, so `telemetryd share` works beside a running daemon.
public final class ShareTokenStore: Sendable {
    public struct Entry: Sendable, Equatable {
        /// Hex SHA-256 of the token.
        public var digest: String
        public var site: String
        /// Epoch seconds.
        public var created: Int64
        /// The first 12 hex digits of the digest: how `list` names a token without revealing it.
        public var id: String { String(digest.prefix(12)) }
    }

    let path: String
    private struct Cache {
        var stamp: FileSystem.Stamp?
        var entries: [Entry] = []
        var digests: [[UInt8]] = []
    }
    private let cache = Locked(Cache())

    public init(dataDirectory: String) {
        path = (dataDirectory as NSString).appendingPathComponent("share-tokens.json")
    }

    static func digest(_ token: String) -> [UInt8] { DashKeyAuth.digest(token) }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// The site `token` opens, or nil. Compares against every stored digest in constant time.
    func site(for token: String) -> String? {
        let presented = Self.digest(token)
        return cache.withLock { c in
            refresh(&c)
            return DashKeyAuth.match(presented, in: c.digests).map { c.entries[$0].site }
        }
    }

    public var entries: [Entry] { cache.withLock { c in refresh(&c); return c.entries } }

    /// Creates a token for `site` and returns it; it is not stored anywhere in the clear.
    public func create(site: String, now: Int64) throws -> String {
        var bytes = [UInt8](repeating: 0, count: 24)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        let token = "tdshare_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        try cache.withLock { c in
            refresh(&c)
            var entries = c.entries
            entries.append(Entry(digest: Self.hex(Self.digest(token)), site: site, created: now / 1000))
            try write(entries)
            c.stamp = nil
        }
        return token
    }

    /// Revokes by the token itself or by the id `list` shows; returns how many were removed.
    public func revoke(_ tokenOrID: String) throws -> Int {
        let digest = Self.hex(Self.digest(tokenOrID))
        return try cache.withLock { c in
            refresh(&c)
            let kept = c.entries.filter { $0.digest != digest && !(tokenOrID.count == 12 && $0.id == tokenOrID) }
            let removed = c.entries.count - kept.count
            if removed > 0 {
                try write(kept)
                c.stamp = nil
            }
            return removed
        }
    }

    private func refresh(_ c: inout Cache) {
        let stamp = FileSystem.stamp(path)
        guard stamp != c.stamp || stamp == nil && !c.entries.isEmpty else { return }
        c.stamp = stamp
        c.entries = Self.read(path)
        c.digests = c.entries.map { e in
            var bytes: [UInt8] = []
            var chars = Array(e.digest.utf8)[...]
            while chars.count >= 2, let b = UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(b)
                chars = chars.dropFirst(2)
            }
            return bytes.count == 32 ? bytes : [UInt8](repeating: 0, count: 32)
        }
    }

    static func read(_ path: String) -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = object["tokens"] as? [[String: Any]]
        else { return [] }
        return list.compactMap { item in
            guard let digest = item["sha256"] as? String, digest.count == 64, let site = item["site"] as? String else { return nil }
            return Entry(digest: digest, site: site, created: (item["created"] as? Int).map(Int64.init) ?? 0)
        }
    }

    /// Replaces the file atomically (temporary file, fsync, rename, directory fsync).
    private func write(_ entries: [Entry]) throws {
        let text = JSONWriter.build { w in
            w.key("tokens")
            w.array { w in
                for e in entries {
                    w.object { w in
                        w.field("sha256", e.digest)
                        w.field("site", e.site)
                        w.field("created", Int(e.created))
                    }
                }
            }
        }
        try FileSystem.writeAtomically(path, Array((text + "\n").utf8))
    }
}
