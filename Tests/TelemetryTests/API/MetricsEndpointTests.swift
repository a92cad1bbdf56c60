import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Telemetry

@Suite struct MetricsEndpointTests {
    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test func countersMoveAsRequestsAreMade() async throws {
        try await withApp { client, _ in
            _ = try await client.post(#"{"events":[{"event_type":"a","id":"1"},{"event_type":"a","id":"1"},{"event_type":"B"},{"event_type":"a","ts":"2001-01-01T00:00:00Z"}]}"#)
            _ = try await client.post("garbage")
            let r = try await client.execute(uri: "/metrics", method: .get)
            #expect(r.status == .ok)
            let text = String(buffer: r.body)
            #expect(Self.value(text, "telemetry_events_accepted_total") == 1)
            #expect(Self.value(text, "telemetry_events_duplicates_total") == 1)
            #expect(Self.value(text, "telemetry_events_ignored_total") == 1)
            #expect(Self.value(text, "telemetry_events_rejected_total") == 2)
            #expect(Self.value(text, "telemetry_fsync_seconds_count") == 1)
            #expect(Self.value(text, #"telemetry_request_duration_seconds_count{route="/api/analytics/event",method="POST",status="400"}"#) == 1)
            #expect(Self.value(text, "telemetry_index_users") == 0)
            #expect(Self.value(text, "telemetry_active_segment_bytes")! > 0)
        }
    }
}
