import Testing

@testable import Telemetry

/// The canonical lines are written into a buffer sized from the body beforehand: the fullest events must fit.
@Suite struct CanonicalLineBoundTests {
    static let receivedAt: Int64 = 1_767_225_600_000

    static func decode(_ body: String) throws -> DecodedBatch {
        try Array(body.utf8).withUnsafeBufferPointer { try EventDecoder().decode($0, receivedAt: receivedAt) }
    }

    @Test func everyFieldAndEscapeOfAHundredEventsFits() throws {
        let escaped = #"\u00e9\"\\\/\b\f\n\r\t\u0001\ud83d\ude00"#
        let event = """
            {"event_type":"a","ts":\(Self.receivedAt),"id":"\(escaped)","user_id":"u\(escaped)","feature":"f\(escaped)",\
            "url":"/\(escaped)","session_id":"s\(escaped)","channel":"c\(escaped)","platform":"p\(escaped)",\
            "device_id":"d\(escaped)","client_version":"v\(escaped)","metadata":{ "k" : [ 1 , "\(escaped)" ] }}
            """
        let batch = try Self.decode(#"{"events":["# + Array(repeating: event, count: 100).joined(separator: ",") + "]}")
        #expect(batch.records.count == 100)
        let line = String(decoding: batch.lines[batch.records[0].line], as: UTF8.self)
        #expect(line.contains(#""metadata":{"k":[1,""#))
        #expect(line.contains(#""client_version":"v\#u{e9}\"\\/\b\f\n\r\t\u0001\#u{1F600}""#))
    }

    @Test func theSmallestEventsFitToo() throws {
        // Almost no bytes per event: the fixed overhead per event carries the line.
        let batch = try Self.decode(#"{"events":["# + Array(repeating: #"{"event_type":"a"}"#, count: 100).joined(separator: ",") + "]}")
        #expect(batch.records.count == 100)
    }
}
