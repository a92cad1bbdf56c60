import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Telemetry

@Suite struct ReportsEndpointTests {
    static let key: HTTPFields = [.init("X-Dash-Key")!: "test-key"]

    func seed(_ client: some TestClientProtocol) async throws {
        _ = try await client.post(#"{"events":[{"event_type":"page_view","user_id":"a","feature":"=cmd","ts":"2025-10-21T09:58:00Z"},{"event_type":"action","user_id":"b","feature":"billing","ts":"2025-10-21T09:31:00Z"},{"event_type":"page_view","user_id":"a","ts":"2025-10-14T09:00:00Z"},{"event_type":"conversion","user_id":"b","feature":"billing","ts":"2025-10-20T23:00:00Z"}]}"#)
    }

    @Test func hoursTrendsAndLive() async throws {
        try await withApp { client, _ in
            try await seed(client)
            let hours = try await client.execute(uri: "/api/analytics/hours?days=7", method: .get, headers: Self.key).json["hours"] as! [[Int]]
            #expect(hours.count == 7 && hours.allSatisfy { $0.count == 24 })
            #expect(hours[1][9] == 2)   // Tuesday 2025-10-21, 09:00–10:00
            #expect(hours[0][23] == 1)  // Monday 2025-10-20, 23:00
            let trends = try await client.execute(uri: "/api/analytics/trends?days=1", method: .get, headers: Self.key).json["days"] as! [[String: Any]]
            #expect(trends[0]["users"] as? Int == 2)
            #expect(trends[0]["events_wow"] as? Double == 1.0)  // 2 events against 1 a week earlier
            let live = try await client.execute(uri: "/api/analytics/live", method: .get, headers: Self.key).json
            #expect(live["events_5m"] as? Int == 1)
            #expect(live["users_5m"] as? Int == 1)
            #expect((live["per_minute"] as? [Int])?.reduce(0, +) == 2)
        }
    }

    @Test func csvExportsAreRFC4180WithFormulasNeutralised() async throws {
        try await withApp { client, _ in
            try await seed(client)
            let daily = String(buffer: try await client.execute(uri: "/api/analytics/export.csv?days=2", method: .get, headers: Self.key).body)
            #expect(daily == "date,users,new_users,events,page_view,action,conversion\r\n2025-10-20,1,1,1,0,0,1\r\n2025-10-21,2,0,2,1,1,0\r\n")
            let features = String(buffer: try await client.execute(uri: "/api/analytics/features.csv?days=7", method: .get, headers: Self.key).body)
            #expect(features == "feature,events,users\r\nbilling,2,1\r\n'=cmd,1,1\r\n")
        }
    }

    @Test func userEventsAreTheUsersStoredLinesOldestFirst() async throws {
        try await withApp { client, _ in
            try await seed(client)
            let r = try await client.execute(uri: "/api/analytics/users/a/events", method: .get, headers: Self.key)
            #expect(r.headers[.contentType] == "application/x-ndjson")
            let lines = String(buffer: r.body).split(separator: "\n")
            #expect(lines.count == 2)
            #expect(lines[0].hasPrefix(#"{"ts":"2025-10-14T09:00:00.000Z""#))
            #expect(String(buffer: try await client.execute(uri: "/api/analytics/users/nobody/events", method: .get, headers: Self.key).body).isEmpty)
        }
    }

    @Test func userIdsInThePathArePercentDecoded() async throws {
        try await withApp { client, _ in
            _ = try await client.post(#"{"events":[{"event_type":"a","user_id":"user 42/é"}]}"#)
            let r = try await client.execute(uri: "/api/analytics/users/user%2042%2F%C3%A9/events", method: .get, headers: Self.key)
            #expect(String(buffer: r.body).contains(#""user_id":"user 42/é""#))
            let deleted = try await client.execute(uri: "/api/analytics/users/user%2042%2F%C3%A9", method: .delete, headers: Self.key)
            #expect(String(buffer: deleted.body) == #"{"ok":true,"deleted":1}"#)
            let bad = try await client.execute(uri: "/api/analytics/users/%FF/events", method: .get, headers: Self.key)
            #expect(bad.status == .badRequest)
        }
    }
}
