/// A user id as the log stores it: the canonical (escaped) bytes, and the `"user_id":"…"` needle that finds
/// the user's lines with a byte search before a parse confirms them.
struct UserNeedle {
    let needle: [UInt8]
    let canonical: [UInt8]

    init(_ userId: String) {
        let key = Array(#""user_id":""#.utf8)
        var needle = key
        JSONString.appendEscaped(userId.utf8, into: &needle)
        canonical = Array(needle[key.count...])
        needle.append(0x22)
        self.needle = needle
    }

    /// The parsed event when `line` is one of the user's.
    func event(in line: UnsafeBufferPointer<UInt8>) -> StoredEvent? {
        guard Self.contains(line, needle), let e = StoredEvent.parse(line), let u = e.user, line[u].elementsEqual(canonical) else {
            return nil
        }
        return e
    }

    static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count, let first = needle.first else { return false }
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first && needle.indices.allSatisfy({ haystack[i + $0] == needle[$0] }) { return true }
            i += 1
        }
        return false
    }
}

/// One user's stored raw events, oldest first (access requests).
public struct UserEvents {
    let dataDirectory: String
    let cancellation: ScanCancellation

    public init(dataDirectory: String, cancellation: ScanCancellation = ScanCancellation()) {
        self.dataDirectory = dataDirectory
        self.cancellation = cancellation
    }

    /// The user's lines as NDJSON, by `ts` (log order among equal times).
    public func lines(of userId: String) throws -> [UInt8] {
        let user = UserNeedle(userId)
        var found: [(ts: Int64, line: [UInt8])] = []
        let replay = LogReplay(directory: dataDirectory, logger: .init(label: "telemetryd"))
        for path in replay.files() {
            try SegmentReader.forEachLine(path: path) { line, _ in
                try cancellation.check()
                guard let e = user.event(in: line) else { return }
                found.append((e.ts, Array(line) + [0x0A]))
            }
        }
        return found.enumerated().sorted { ($0.element.ts, $0.offset) < ($1.element.ts, $1.offset) }.flatMap(\.element.line)
    }
}
