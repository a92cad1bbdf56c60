import Foundation
import Testing

@testable import Telemetry

@Suite struct TimestampTests {
    static func reference(_ ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    @Test func writtenTimestampsMatchFoundationAndParseBack() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let ms = Int64.random(in: 0...4_102_444_800_000, using: &rng)  // 1970 … 2100
            let text = Timestamp.string(ms)
            #expect(text == Self.reference(ms))
            #expect(Array(text.utf8).withUnsafeBufferPointer { Timestamp.parse($0) } == ms)
        }
    }

    @Test func theDateDigitsCacheFollowsEveryChangeOfDate() {
        var rng = SystemRandomNumberGenerator()
        var day = Timestamp.DayDigits()
        let base: Int64 = 1_767_225_600_000  // 2026-01-01
        for _ in 0..<20_000 {
            // Dates that repeat, step back, cross months and years.
            let ms = base + Int64.random(in: -40 * 86_400_000...400 * 86_400_000, using: &rng)
            var cached: [UInt8] = []
            Timestamp.write(ms, into: &cached, day: &day)
            #expect(String(decoding: cached, as: UTF8.self) == Timestamp.string(ms))
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
