import Testing

@testable import Telemetry

@Suite struct JSONScannerTests {
    /// The byte-wise rule the eight-byte scan must agree with.
    static func isSpecial(_ b: UInt8) -> Bool { b < 0x20 || b >= 0x80 || b == 0x22 || b == 0x5C }

    @Test func theLowestFlaggedByteOfAWordIsTheFirstSpecialByte() {
        let seed = testSeed()
        var rng = SplitMix(state: seed)
        // Bytes near every boundary the masks test, so borrows between bytes are exercised.
        let interesting: [UInt8] = [0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7E, 0x7F, 0x80, 0xFF, 0x41, 0x61]
        for _ in 0..<200_000 {
            var bytes = [UInt8](repeating: 0, count: 8)
            for k in 0..<8 { bytes[k] = Bool.random(using: &rng) ? interesting.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng) }
            let word = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            let mask = JSONScanner.specialBytes(word)
            let expected = bytes.firstIndex(where: Self.isSpecial)
            if let expected {
                #expect(mask.trailingZeroBitCount >> 3 == expected, "seed \(seed): \(bytes)")
            } else {
                #expect(mask == 0, "seed \(seed): \(bytes)")
            }
        }
    }

    @Test func stringsEndAtTheirClosingQuoteAtEveryAlignment() throws {
        for pad in 0..<17 {
            for length in 0..<40 {
                let content = String(repeating: "a", count: length)
                let text = String(repeating: " ", count: pad) + "\"" + content + "\\\"x\"" + ",1"
                let bytes = Array(text.utf8)
                try bytes.withUnsafeBufferPointer { b in
                    var s = JSONScanner(b)
                    s.index = pad
                    let span = try s.scanString()
                    #expect(span.start == pad + 1)
                    #expect(span.end == pad + 1 + length + 3)
                    #expect(span.hasEscapes)
                    #expect(span.scalarCount == length + 2)
                    #expect(s.peek() == UInt8(ascii: ","))
                }
            }
        }
    }
}
