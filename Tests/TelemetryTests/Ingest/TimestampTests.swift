import Foundation
import Testing

@testable import Telemetry

@Suite struct TimestampTests {
    /// The first, byte-by-byte parser, kept as the reference the fast one must agree with.
    static func referenceParse(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        let n = b.count
        guard n >= 20 else { return nil }
        func d(_ i: Int) -> Int? {
            let c = b[i] &- 48
            return c < 10 ? Int(c) : nil
        }
        func num(_ i: Int, _ len: Int) -> Int? {
            var v = 0
            for k in i..<(i + len) {
                guard let x = d(k) else { return nil }
                v = v * 10 + x
            }
            return v
        }
        guard let year = num(0, 4), b[4] == 45, let month = num(5, 2), b[7] == 45, let day = num(8, 2),
            b[10] == 84 || b[10] == 116 || b[10] == 32,
            let hour = num(11, 2), b[13] == 58, let minute = num(14, 2), b[16] == 58, let second = num(17, 2),
            (1...12).contains(month), day >= 1, day <= CivilDate.daysInMonth(year: year, month: month),
            hour < 24, minute < 60, second <= 60
        else { return nil }
        var i = 19
        var millis = 0
        if i < n, b[i] == 46 {
            i += 1
            var digits = 0
            while i < n, let x = d(i) {
                if digits < 3 { millis = millis * 10 + x }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
        }
        guard i < n else { return nil }
        var offsetMinutes = 0
        switch b[i] {
        case 90, 122:  // Z z
            i += 1
        case 43, 45:  // + -
            guard i + 6 == n, let oh = num(i + 1, 2), b[i + 3] == 58, let om = num(i + 4, 2), oh < 24, om < 60
            else { return nil }
            offsetMinutes = (oh * 60 + om) * (b[i] == 45 ? -1 : 1)
            i += 6
        default:
            return nil
        }
        guard i == n else { return nil }
        let days = Int64(CivilDate(year: year, month: month, day: day).dayNumber)
        let secs = days * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetMinutes * 60)
        return secs * 1000 + Int64(millis)
    }

    @Test func theParserAgreesWithTheReferenceOnValidAndMutatedTimestamps() {
        let seed = testSeed()
        var rng = SplitMix(state: seed)
        let forms = ["2026-11-25T03:44:12.345Z", "2026-11-25T03:44:12Z", "2026-11-25 03:44:12.3+05:30", "2024-02-29t23:59:60.123456z",
                     "2026-11-25T03:44:12.34-00:45", "1970-01-01T00:00:00Z", "2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z"]
        let alphabet = Array("0123456789-:T tZz+.x/".utf8) + [0x00, 0xFF, 0x2F, 0x3A]
        for _ in 0..<200_000 {
            var bytes = Array(forms.randomElement(using: &rng)!.utf8)
            for _ in 0..<Int.random(in: 0...3, using: &rng) {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[at] = alphabet.randomElement(using: &rng)!
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet.randomElement(using: &rng)!, at: at)
                }
                if bytes.isEmpty { break }
            }
            let fast = bytes.withUnsafeBufferPointer { Timestamp.parse($0) }
            let reference = bytes.withUnsafeBufferPointer { Self.referenceParse($0) }
            #expect(fast == reference, "seed \(seed): \(String(decoding: bytes, as: UTF8.self))")
        }
    }

    static func reference(_ ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    @Test func writtenTimestampsMatchFoundationAndParseBack() {
        let seed = testSeed()
        var rng = SplitMix(state: seed)
        for _ in 0..<20_000 {
            let ms = Int64.random(in: 0...4_102_444_800_000, using: &rng)  // 1970 … 2100
            let text = Timestamp.string(ms)
            #expect(text == Self.reference(ms), "seed \(seed), ms \(ms)")
            #expect(Array(text.utf8).withUnsafeBufferPointer { Timestamp.parse($0) } == ms, "seed \(seed), ms \(ms)")
        }
    }

    @Test func theDateDigitsCacheFollowsEveryChangeOfDate() {
        let seed = testSeed()
        var rng = SplitMix(state: seed)
        var day = Timestamp.DayDigits()
        let base: Int64 = 1_767_225_600_000  // 2026-01-01
        for _ in 0..<20_000 {
            // Dates that repeat, step back, cross months and years.
            let ms = base + Int64.random(in: -40 * 86_400_000...400 * 86_400_000, using: &rng)
            var cached: [UInt8] = []
            Timestamp.write(ms, into: &cached, day: &day)
            #expect(String(decoding: cached, as: UTF8.self) == Timestamp.string(ms), "seed \(seed), ms \(ms)")
        }
    }

    @Test func canonicalLinesCarryEachEventsOwnDate() throws {
        let received: Int64 = 1_767_225_600_000 + 86_400_000 * 10 + 12_345
        let stamps = [received - 1, received - 86_400_000 * 3, received - 1, received - 86_400_000 * 40, received]
        let body = #"{"events":["# + stamps.map { #"{"event_type":"a","ts":\#($0)}"# }.joined(separator: ",") + "]}"
        let batch = try Array(body.utf8).withUnsafeBufferPointer { try EventDecoder().decode($0, receivedAt: received) }
        let lines = String(decoding: batch.lines, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == stamps.count)
        for (line, ts) in zip(lines, stamps) {
            #expect(line.hasPrefix(#"{"ts":"\#(Timestamp.string(ts))""#))
        }
    }
}
