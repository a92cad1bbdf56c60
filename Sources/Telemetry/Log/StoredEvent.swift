/// The fields of one stored line that the index, dedup, retention and export read.
public struct StoredEvent {
    public var ts: Int64
    public var receivedAt: Int64?
    /// Byte ranges, within the parsed line, of the canonical (still escaped) string contents.
    public var eventType: Range<Int>
    public var user: Range<Int>?
    public var feature: Range<Int>?
    public var id: Range<Int>?

    /// Parses and fully validates a stored line (without its `\n`); nil when it is damaged.
    public static func parse(_ line: ArraySlice<UInt8>) -> StoredEvent? {
        line.withUnsafeBufferPointer { buffer in
            parse(buffer).map { e in
                var e = e
                let base = line.startIndex
                func shift(_ r: Range<Int>) -> Range<Int> { (r.lowerBound + base)..<(r.upperBound + base) }
                e.eventType = shift(e.eventType)
                e.user = e.user.map(shift)
                e.feature = e.feature.map(shift)
                e.id = e.id.map(shift)
                return e
            }
        }
    }

    /// Ranges in the result are relative to `buffer`.
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>) -> StoredEvent? {
        var s = JSONScanner(buffer)
        var ts: Int64?
        var received: Int64?
        var type: Range<Int>?
        var user: Range<Int>?
        var feature: Range<Int>?
        var id: Range<Int>?
        do {
            try s.expect(UInt8(ascii: "{"))
            var first = true
            while try s.nextElement(close: UInt8(ascii: "}"), first: &first) {
                let key = try s.scanString()
                try s.expect(UInt8(ascii: ":"))
                if s.peek() == UInt8(ascii: "\"") {
                    let v = try s.scanString()
                    let range = v.start..<v.end
                    if s.equals(key, "ts") {
                        ts = Timestamp.parse(UnsafeBufferPointer(rebasing: buffer[range]))
                        if ts == nil { return nil }
                    } else if s.equals(key, "event_type") {
                        type = range
                    } else if s.equals(key, "user_id") {
                        user = range
                    } else if s.equals(key, "feature") {
                        feature = range
                    } else if s.equals(key, "id") {
                        id = range
                    } else if s.equals(key, "received_at") {
                        // Only dedup reads it, and only for events with an id (written before received_at).
                        if id != nil { received = Timestamp.parse(UnsafeBufferPointer(rebasing: buffer[range])) }
                    }
                } else {
                    try s.skipValue(depth: 1)
                }
            }
            guard s.peek() == nil else { return nil }
        } catch {
            return nil
        }
        guard let ts, let type, !type.isEmpty else { return nil }
        return StoredEvent(ts: ts, receivedAt: received, eventType: type, user: user?.isEmpty == true ? nil : user,
                           feature: feature, id: id)
    }
}
