extension StoredEvent {
    private static let head = Array(#"{"ts":""#.utf8)
    private static let typeKey = Array(#"","event_type":""#.utf8)
    private static let receivedKey = Array(#","received_at":""#.utf8)

    /// Reads a line in the exact canonical form this daemon writes (keys in docs/files.md order, minimal
    /// escaping) without validating the rest of the JSON: the rebuild's fast path for compressed segments,
    /// whose bytes gzip's CRC already vouches for. nil for anything else; callers then use `parse`.
    public static func parseCanonical(_ b: UnsafeBufferPointer<UInt8>) -> StoredEvent? {
        let n = b.count
        // {"ts":"<24>","event_type":"…" … ,"received_at":"<24>"}
        guard n > 7 + 24 + 16 + 1 + 42, b.starts(with: head), b[n - 1] == 0x7D, b[n - 2] == 0x22,
            b[(n - 42)..<(n - 26)].elementsEqual(receivedKey), b[31..<47].elementsEqual(typeKey),
            let ts = Timestamp.parse(UnsafeBufferPointer(rebasing: b[7..<31]))
        else { return nil }
        var i = 47
        while i < n, b[i] != 0x22 { i += 1 }
        guard i < n, i > 47 else { return nil }
        var event = StoredEvent(ts: ts, receivedAt: nil, eventType: 47..<i, user: nil, feature: nil, id: nil)
        i += 1
        let end = n - 42
        // The optional string fields, in order, until metadata or received_at.
        while i < end {
            guard b[i] == 0x2C, b[i + 1] == 0x22 else { return nil }
            let keyStart = i + 2
            var k = keyStart
            while k < end, b[k] != 0x22 { k += 1 }
            guard k + 2 < end, b[k + 1] == 0x3A else { return nil }
            let key = b[keyStart..<k]
            if key.elementsEqual("metadata".utf8) { break }
            guard b[k + 2] == 0x22 else { return nil }
            let valueStart = k + 3
            var v = valueStart
            while v < end, b[v] != 0x22 {
                v += b[v] == 0x5C ? 2 : 1
            }
            guard v < end else { return nil }
            let range = valueStart..<v
            switch key.count {
            case 2 where key.elementsEqual("id".utf8): event.id = range
            case 7 where key.elementsEqual("user_id".utf8): event.user = range.isEmpty ? nil : range
            case 7 where key.elementsEqual("feature".utf8): event.feature = range
            default: break
            }
            i = v + 1
        }
        if event.id != nil {
            guard let received = Timestamp.parse(UnsafeBufferPointer(rebasing: b[(n - 26)..<(n - 2)])) else { return nil }
            event.receivedAt = received
        }
        return event
    }
}
