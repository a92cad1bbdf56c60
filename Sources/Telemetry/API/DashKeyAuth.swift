import Crypto

/// Checks a presented key by comparing SHA-256 digests in constant time against every configured key.
public struct DashKeyAuth: Sendable {
    let digests: [[UInt8]]

    public init(keys: [String]) {
        digests = keys.map(Self.digest)
    }

    public var isEnabled: Bool { !digests.isEmpty }

    /// True when `presented` matches a key; the time taken does not depend on where a near-miss differs.
    public func accepts(_ presented: String) -> Bool {
        Self.match(Self.digest(presented), in: digests) != nil
    }

    static func digest(_ text: String) -> [UInt8] { Array(SHA256.hash(data: Array(text.utf8))) }

    /// The index of `digest` in `digests` (the last, if several), comparing every byte of every entry whatever
    /// matches: the time taken tells nothing of which entry or byte differed. Share tokens use it too.
    static func match(_ digest: [UInt8], in digests: [[UInt8]]) -> Int? {
        var found: Int?
        for (i, candidate) in digests.enumerated() where candidate.count == digest.count {
            var diff: UInt8 = 0
            for j in 0..<candidate.count { diff |= candidate[j] ^ digest[j] }
            if diff == 0 { found = i }
        }
        return found
    }
}
