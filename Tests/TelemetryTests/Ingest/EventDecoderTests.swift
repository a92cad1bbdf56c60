import Testing
@testable import Telemetry

@Suite struct EventDecoderTests {
    @Test func writesTheCanonicalLineWithKeysInContractOrder() throws {
        let batch = try decode("""
            { "events": [ {"url":"/dashboard","metadata": { "referrer" : "https://example.com", "n": [1, 2.5e3] },
              "feature":"dashboard","user_id":"user123","event_type":"page_view","ts":"2025-10-21T10:00:00Z",
              "client_version":"1.2","device_id":"d","platform":"ios","channel":"web","session_id":"s","id":"e1","extra":1} ] }
            """, at: "2025-10-21T10:00:05.123Z")
        #expect(batch.lineStrings == [
            #"{"ts":"2025-10-21T10:00:00.000Z","event_type":"page_view","id":"e1","user_id":"user123","feature":"dashboard","url":"/dashboard","session_id":"s","channel":"web","platform":"ios","device_id":"d","client_version":"1.2","page":"/dashboard","referrer":"example.com","metadata":{"referrer":"https://example.com","n":[1,2.5e3]},"received_at":"2025-10-21T10:00:05.123Z"}"#
        ])
    }

    @Test(arguments: [
        ("2025-10-21T12:00:00+02:00", "2025-10-21T10:00:00.000Z"),
        ("2025-10-21T05:30:00.5-04:30", "2025-10-21T10:00:00.500Z"),
        ("2025-10-21 10:00:00.123456Z", "2025-10-21T10:00:00.123Z"),
        ("1761040800000", "2025-10-21T10:00:00.000Z"),
    ])
    func acceptsRFC3339WithOffsetsAndEpochMilliseconds(ts: String, stored: String) throws {
        let value = ts.allSatisfy(\.isNumber) ? ts : "\"\(ts)\""
        let batch = try decode(#"{"events":[{"event_type":"a","ts":\#(value)}]}"#)
        #expect(batch.lineStrings.first?.hasPrefix(#"{"ts":"\#(stored)""#) == true)
    }

    @Test func absentTsIsTheReceiveTime() throws {
        let batch = try decode(#"{"events":[{"event_type":"a"}]}"#, at: "2025-10-21T10:00:05.123Z")
        #expect(batch.lineStrings[0].hasPrefix(#"{"ts":"2025-10-21T10:00:05.123Z""#))
    }

    @Test func futureTimestampsAreClampedToTheReceiveTime() throws {
        let batch = try decode(#"{"events":[{"event_type":"a","ts":"2025-10-21T10:06:00Z"},{"event_type":"b","ts":"2025-10-21T10:04:00Z"}]}"#)
        #expect(batch.lineStrings[0].hasPrefix(#"{"ts":"2025-10-21T10:00:00.000Z""#))
        #expect(batch.lineStrings[1].hasPrefix(#"{"ts":"2025-10-21T10:04:00.000Z""#))
    }

    @Test func eventsOlderThan365DaysAreIgnored() throws {
        let batch = try decode(#"{"events":[{"event_type":"a","ts":"2024-10-21T09:59:59Z"},{"event_type":"b","ts":"2024-10-21T10:00:01Z"}]}"#)
        #expect(batch.ignored == 1)
        #expect(batch.records.count == 1)
    }

    @Test func sentAtCorrectsClientClockSkew() throws {
        // The client's clock is 1 h behind: its ts and sent_at are both shifted by +1 h.
        let batch = try decode(#"{"sent_at":"2025-10-21T09:00:05Z","events":[{"event_type":"a","ts":"2025-10-21T09:00:00Z"}]}"#,
                               at: "2025-10-21T10:00:05Z")
        #expect(batch.lineStrings[0].hasPrefix(#"{"ts":"2025-10-21T10:00:00.000Z""#))
    }

    @Test func invalidEventsAreRejectedWithIndexAndReasonWhileValidOnesAreKept() throws {
        let long = String(repeating: "x", count: 129)
        let batch = try decode("""
            {"events":[{"event_type":"ok"},{"event_type":"Bad"},{"user_id":"u"},{"event_type":"a","user_id":"\(long)"},
            {"event_type":"a","ts":"yesterday"},{"event_type":"a","metadata":[1]},{"event_type":"a","feature":5},7,
            {"event_type":"a","metadata":{"a":{"b":{"c":{"d":{"e":1}}}}}},{"event_type":"a","id":"1","id":"2"}]}
            """)
        #expect(batch.records.count == 1)
        #expect(batch.rejected.map(\.index) == [1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(batch.rejected[0].error.contains("event_type"))
        #expect(batch.rejected[1].error == "event_type is required")
        #expect(batch.rejected[2].error.contains("user_id"))
        #expect(batch.rejected[7].error.contains("metadata nesting"))
        #expect(batch.rejected[8].error.contains("duplicate key"))
    }

    @Test func metadataAtFourLevelsAndAt4096BytesIsAccepted() throws {
        let payload = String(repeating: "y", count: 4096 - #"{"k":""}"#.count)
        let batch = try decode(#"{"events":[{"event_type":"a","metadata":{"a":{"b":{"c":1}}}},{"event_type":"a","metadata":{"k":"\#(payload)"}},{"event_type":"a","metadata":{"k":"\#(payload)x"}}]}"#)
        #expect(batch.records.count == 2)
        #expect(batch.rejected.map(\.error) == ["metadata exceeds 4096 bytes"])
    }

    @Test func emptyOrNullUserIdIsAnonymous() throws {
        let batch = try decode(#"{"events":[{"event_type":"a","user_id":""},{"event_type":"a","user_id":null}]}"#)
        #expect(batch.records.allSatisfy { $0.user == nil })
        #expect(!batch.lineStrings.contains { $0.contains("user_id") })
    }

    @Test func escapesAreStoredCanonically() throws {
        let batch = try decode(#"{"events":[{"event_type":"a","user_id":"\u0075\u00e9\ud83d\ude00\"\n\/"}]}"#)
        #expect(batch.lineStrings[0].contains(#""user_id":"ué😀\"\n/""#))
    }

    @Test(arguments: [
        ("", "body must be a JSON object"),
        ("[]", "body must be a JSON object"),
        (#"{"events":{}}"#, "must be an array"),
        (#"{"events":[]}"#, "must not be empty"),
        (#"{"nothing":1}"#, "body must be a JSON object"),
        (#"{"events":[{"event_type":"a"}]"#, "invalid JSON"),
        (#"{"events":[{"event_type":"a\#u{01}"}]}"#, "invalid JSON"),
        (#"{"events":[{"event_type":"a","x":"\ud800"}]}"#, "invalid JSON"),
        (#"{"events":[{"event_type":"a","x":01}]}"#, "invalid JSON"),
        (#"{"events":[{"event_type":"a"}]} x"#, "invalid JSON"),
        (#"{"events":[{"event_type":"a"}],"events":[]}"#, "duplicate key"),
        (#"{"sent_at":"never","events":[{"event_type":"a"}]}"#, "sent_at"),
    ])
    func refusesMalformedBodiesWith400(text: String, message: String) {
        #expect {
            _ = try decode(text)
        } throws: { error in
            let e = error as! BatchError
            return e.kind == .badRequest && e.message.contains(message)
        }
    }

    @Test func invalidUTF8IsRefused() {
        var bytes = Array(#"{"events":[{"event_type":"a","user_id":"x"}]}"#.utf8)
        bytes[bytes.count - 5] = 0xFF
        #expect(throws: BatchError.self) {
            try bytes.withUnsafeBufferPointer { b throws(BatchError) in _ = try EventDecoder().decode(b, receivedAt: 0) }
        }
    }

    @Test func moreThan100EventsIs413() throws {
        let events = Array(repeating: #"{"event_type":"a"}"#, count: 101).joined(separator: ",")
        #expect { _ = try decode(#"{"events":[\#(events)]}"#) } throws: { ($0 as! BatchError).kind == .tooLarge }
        let hundred = Array(repeating: #"{"event_type":"a"}"#, count: 100).joined(separator: ",")
        let accepted = try decode(#"{"events":[\#(hundred)]}"#)
        #expect(accepted.records.count == 100)
    }

    @Test func deepNestingIsRefusedWithoutCrashing() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: BatchError.self) { _ = try decode(#"{"x":\#(deep)"#) }
    }

    @Test func allInvalidIs400WithTheRejectedList() {
        #expect {
            _ = try decode(#"{"events":[{"event_type":"A"}]}"#)
        } throws: { error in
            let e = error as! BatchError
            return e.kind == .badRequest && e.rejected.count == 1
        }
    }
}
