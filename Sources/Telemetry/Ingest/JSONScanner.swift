#if canImport(Glibc)
import Glibc
#endif

/// A validating, allocation-free JSON scanner over raw bytes: the ingest hot path's tokenizer.
///
/// It checks what a strict parser checks (UTF-8, escapes, surrogate pairs, number grammar,
/// nesting) but builds no value tree: callers get byte spans and decide what to keep.
struct JSONScanner {
    struct Failure: Error, Equatable {
        var reason: String
        var offset: Int
    }

    /// A string's content between its quotes.
    struct StringSpan {
        var start: Int
        var end: Int
        var hasEscapes: Bool
        var scalarCount: Int
        var isEmpty: Bool { start == end }
    }

    static let maxDepth = 64

    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }

    func fail(_ reason: String) -> Failure { Failure(reason: reason, offset: index) }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    @inline(__always)
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    mutating func expect(_ byte: UInt8) throws(Failure) {
        guard peek() == byte else {
            throw fail(atEnd ? "unexpected end of JSON" : "expected '\(Character(Unicode.Scalar(byte)))'")
        }
        index += 1
    }

    /// After `[` or `{` and each element: true when another element follows, false at the closing byte.
    mutating func nextElement(close: UInt8, first: inout Bool) throws(Failure) -> Bool {
        guard let c = peek() else { throw fail("unexpected end of JSON") }
        if c == close {
            index += 1
            return false
        }
        if first {
            first = false
            return true
        }
        guard c == UInt8(ascii: ",") else { throw fail("expected ',' or '\(Character(Unicode.Scalar(close)))'") }
        index += 1
        return true
    }

    /// Scans a string whose opening quote is at `index`, validating escapes and UTF-8.
    mutating func scanString() throws(Failure) -> StringSpan {
        guard peek() == UInt8(ascii: "\"") else { throw fail(atEnd ? "unexpected end of JSON" : "expected a string") }
        index += 1
        let start = index
        var escapes = false
        var scalars = 0
        let n = bytes.count
        while index < n {
            // Fast path: a run of plain printable ASCII, eight bytes at a time; the lowest flagged byte of the
            // first word that is not plain is the exact stop. Byte by byte only in the body's last seven bytes.
            var i = index
            if let base = bytes.baseAddress {
                let raw = UnsafeRawPointer(base)
                while i + 8 <= n {
                    let special = Self.specialBytes(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                    if special != 0 {
                        i += special.trailingZeroBitCount >> 3
                        break
                    }
                    i += 8
                }
            }
            while i < n {
                let b = bytes[i]
                guard b >= 0x20, b < 0x80, b != 0x22, b != 0x5C else { break }
                i += 1
            }
            scalars += i - index
            index = i
            guard index < n else { break }
            let c = bytes[index]
            if c == 0x22 {
                let span = StringSpan(start: start, end: index, hasEscapes: escapes, scalarCount: scalars)
                index += 1
                return span
            }
            scalars += 1
            if c == 0x5C {
                escapes = true
                index += 1
                guard index < n else { break }
                switch bytes[index] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: index += 1
                case 0x75:
                    let unit = try hex4(at: index + 1)
                    index += 5
                    if unit >= 0xD800 && unit < 0xDC00 {
                        guard index + 1 < n, bytes[index] == 0x5C, bytes[index + 1] == 0x75 else {
                            throw fail("unpaired surrogate escape")
                        }
                        let low = try hex4(at: index + 2)
                        guard low >= 0xDC00 && low < 0xE000 else { throw fail("unpaired surrogate escape") }
                        index += 6
                    } else if unit >= 0xDC00 && unit < 0xE000 {
                        throw fail("unpaired surrogate escape")
                    }
                default: throw fail("invalid escape")
                }
            } else if c < 0x20 {
                throw fail("control character in string")
            } else if c < 0x80 {
                index += 1
            } else {
                try scanUTF8Sequence(lead: c)
            }
        }
        throw fail("unterminated string")
    }

    /// The high bit of every byte (little-endian) that is a control character, non-ASCII, `"` or `\\`. A borrow
    /// can flag a plain byte only above a flagged one, so the lowest flagged byte is always exact.
    @inline(__always)
    static func specialBytes(_ x: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZero(_ v: UInt64) -> UInt64 { (v &- ones) & ~v & highs }
        let control = (x &- ones &* 0x20) & ~x & highs
        let quote = hasZero(x ^ (ones &* 0x22))
        let backslash = hasZero(x ^ (ones &* 0x5C))
        return control | quote | backslash | (x & highs)
    }

    private func hex4(at i: Int) throws(Failure) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("invalid \\u escape") }
        var v: UInt32 = 0
        for k in i..<(i + 4) {
            let c = bytes[k]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    @inline(__always)
    private mutating func scanUTF8Sequence(lead c: UInt8) throws(Failure) {
        let n = bytes.count
        @inline(__always) func cont(_ k: Int) -> Bool { k < n && bytes[k] & 0xC0 == 0x80 }
        switch c {
        case 0xC2...0xDF:
            guard cont(index + 1) else { throw fail("invalid UTF-8") }
            index += 2
        case 0xE0...0xEF:
            guard cont(index + 1), cont(index + 2) else { throw fail("invalid UTF-8") }
            let b1 = bytes[index + 1]
            if c == 0xE0 && b1 < 0xA0 { throw fail("invalid UTF-8") }
            if c == 0xED && b1 >= 0xA0 { throw fail("invalid UTF-8") }
            index += 3
        case 0xF0...0xF4:
            guard cont(index + 1), cont(index + 2), cont(index + 3) else { throw fail("invalid UTF-8") }
            let b1 = bytes[index + 1]
            if c == 0xF0 && b1 < 0x90 { throw fail("invalid UTF-8") }
            if c == 0xF4 && b1 >= 0x90 { throw fail("invalid UTF-8") }
            index += 4
        default:
            throw fail("invalid UTF-8")
        }
    }

    /// Scans a number; returns its span and whether it is a plain integer (no fraction, no exponent).
    mutating func scanNumber() throws(Failure) -> (start: Int, end: Int, isInteger: Bool) {
        skipWhitespace()
        let start = index
        let n = bytes.count
        var integer = true
        if index < n, bytes[index] == 0x2D { index += 1 }
        guard index < n else { throw fail("invalid number") }
        if bytes[index] == 0x30 {
            index += 1
        } else if bytes[index] >= 0x31 && bytes[index] <= 0x39 {
            while index < n, bytes[index] &- 0x30 < 10 { index += 1 }
        } else {
            throw fail("invalid number")
        }
        if index < n, bytes[index] == 0x2E {
            integer = false
            index += 1
            let digits = index
            while index < n, bytes[index] &- 0x30 < 10 { index += 1 }
            guard index > digits else { throw fail("invalid number") }
        }
        if index < n, bytes[index] | 0x20 == 0x65 {
            integer = false
            index += 1
            if index < n, bytes[index] == 0x2B || bytes[index] == 0x2D { index += 1 }
            let digits = index
            while index < n, bytes[index] &- 0x30 < 10 { index += 1 }
            guard index > digits else { throw fail("invalid number") }
        }
        return (start, index, integer)
    }

    mutating func scanLiteral(_ word: StaticString) throws(Failure) {
        let len = word.utf8CodeUnitCount
        guard index + len <= bytes.count else { throw fail("invalid literal") }
        let w = word.utf8Start
        for k in 0..<len where bytes[index + k] != w[k] { throw fail("invalid literal") }
        index += len
    }

    /// Validates and skips any value; `depth` counts the containers already open around it.
    /// Returns the deepest container level reached inside the value (0 for a scalar).
    @discardableResult
    mutating func skipValue(depth: Int) throws(Failure) -> Int {
        guard let c = peek() else { throw fail("unexpected end of JSON") }
        switch c {
        case 0x22:
            _ = try scanString()
            return 0
        case 0x7B, 0x5B:
            guard depth < Self.maxDepth else { throw fail("nesting too deep") }
            index += 1
            let close: UInt8 = c == 0x7B ? 0x7D : 0x5D
            var first = true
            var deepest = 1
            while try nextElement(close: close, first: &first) {
                if c == 0x7B {
                    _ = try scanString()
                    try expect(0x3A)
                }
                deepest = max(deepest, 1 + (try skipValue(depth: depth + 1)))
            }
            return deepest
        case 0x74: try scanLiteral("true"); return 0
        case 0x66: try scanLiteral("false"); return 0
        case 0x6E: try scanLiteral("null"); return 0
        default:
            _ = try scanNumber()
            return 0
        }
    }

    /// True when the bytes at `span` equal `name` exactly (keys with escapes never match; callers decode those).
    @inline(__always)
    func equals(_ span: StringSpan, _ name: StaticString) -> Bool {
        let len = name.utf8CodeUnitCount
        guard span.end - span.start == len, let base = bytes.baseAddress else { return false }
        return memcmp(base + span.start, name.utf8Start, len) == 0
    }
}
