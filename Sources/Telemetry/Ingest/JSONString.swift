/// Decoding and canonical encoding of JSON string contents.
enum JSONString {
    /// Decodes the content of a validated string span (escapes resolved) to UTF-8 bytes.
    static func unescape(_ b: UnsafeBufferPointer<UInt8>, _ span: JSONScanner.StringSpan) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(span.end - span.start)
        var i = span.start
        func hex(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in at..<(at + 4) {
                let c = b[k]
                v = v << 4 | UInt32(c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10)
            }
            return v
        }
        while i < span.end {
            let c = b[i]
            guard c == 0x5C else {
                out.append(c)
                i += 1
                continue
            }
            let e = b[i + 1]
            i += 2
            switch e {
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = hex(i)
                i += 4
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (hex(i + 2) - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar)!)!)
            default: out.append(e)
            }
        }
        return out
    }

    /// The same for bytes in memory, copying the runs between characters that need escaping whole.
    static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        var start = 0
        for i in 0..<bytes.count {
            let c = bytes[i]
            guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
            if start < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i])) }
            appendEscaped(c, into: &out)
            start = i + 1
        }
        if start < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...])) }
    }

    /// Appends `bytes` (valid UTF-8) escaped minimally: `"`, `\` and control characters.
    static func appendEscaped(_ bytes: some Sequence<UInt8>, into out: inout [UInt8]) {
        // Arrays and buffers take the run-copying path above.
        if bytes.withContiguousStorageIfAvailable({ appendEscaped($0, into: &out) }) != nil { return }
        for c in bytes {
            if c < 0x20 || c == 0x22 || c == 0x5C { appendEscaped(c, into: &out) } else { out.append(c) }
        }
    }

    /// Appends the escape of one byte that needs it.
    private static func appendEscaped(_ c: UInt8, into out: inout [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        switch c {
        case 0x22: out.append(0x5C); out.append(0x22)
        case 0x5C: out.append(0x5C); out.append(0x5C)
        case 0x0A: out.append(0x5C); out.append(0x6E)
        case 0x0D: out.append(0x5C); out.append(0x72)
        case 0x09: out.append(0x5C); out.append(0x74)
        case 0x08: out.append(0x5C); out.append(0x62)
        case 0x0C: out.append(0x5C); out.append(0x66)
        default:
            out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex.utf8Start[Int(c >> 4)], hex.utf8Start[Int(c & 15)]])
        }
    }

    /// A Swift string as a quoted JSON string.
    static func quoted(_ s: String) -> String {
        var out: [UInt8] = [0x22]
        appendEscaped(s.utf8, into: &out)
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }

    /// The Swift string for canonical escaped bytes, as stored in the log.
    static func decode(canonical bytes: [UInt8]) -> String {
        guard bytes.contains(0x5C) else { return String(decoding: bytes, as: UTF8.self) }
        return bytes.withUnsafeBufferPointer { b in
            String(decoding: unescape(b, .init(start: 0, end: b.count, hasEscapes: true, scalarCount: 0)), as: UTF8.self)
        }
    }
}
