import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Telemetry

/// Breakdowns, visits and filters over HTTP, on small data sets worked out by hand (the DuckDB golden test
/// checks them on generated data).
@Suite struct DimensionsEndpointTests {
    static let key: HTTPFields = [.init("X-Dash-Key")!: "test-key"]
    static let chrome: HTTPFields = [.userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"]
    static let iphone: HTTPFields = [.userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"]

    /// Three visits on 2025-10-20: a (Chrome, from HN, /pricing then /docs), b (iPhone, direct, bounces on
    /// /pricing), and an anonymous visit s3 (iPhone, /blog); c has no session.
    static func seed(_ client: some TestClientProtocol) async throws {
        _ = try await client.post(#"{"events":[{"event_type":"page_view","user_id":"a","session_id":"s1","url":"/pricing?utm_campaign=launch","referrer":"https://news.ycombinator.com/","ts":"2025-10-20T10:00:00Z","metadata":{"plan":"pro"}},{"event_type":"page_view","user_id":"a","session_id":"s1","url":"/docs","ts":"2025-10-20T10:01:40Z"},{"event_type":"action","user_id":"a","session_id":"s1","feature":"search","ts":"2025-10-20T10:02:00Z"}]}"#, headers: chrome)
        _ = try await client.post(#"{"events":[{"event_type":"page_view","user_id":"b","session_id":"s2","url":"/pricing","ts":"2025-10-20T11:00:00Z","metadata":{"plan":"free"}},{"event_type":"page_view","session_id":"s3","url":"/blog","ts":"2025-10-20T12:00:00Z"},{"event_type":"page_view","session_id":"s3","url":"/pricing","ts":"2025-10-20T12:00:30Z"},{"event_type":"signup","user_id":"c","ts":"2025-10-19T09:00:00Z","metadata":{"plan":"pro","seats":3}}]}"#, headers: iphone)
    }

    func get(_ client: some TestClientProtocol, _ query: String) async throws -> TestResponse {
        try await client.execute(uri: "/api/analytics/" + query, method: .get, headers: Self.key)
    }

    func values(_ r: TestResponse) -> [[String: Any]] { r.json["values"] as? [[String: Any]] ?? [] }

    @Test func breakdownByPageCountsEventsUsersAndVisitsAndOrdersByUsers() async throws {
        try await withApp { client, _ in
            try await Self.seed(client)
            let r = try await get(client, "breakdown?by=page&days=7&end=2025-10-21")
            #expect(r.status == .ok)
            #expect(r.json["by"] as? String == "page")
            #expect(r.json["window"] as? [String: String] == ["start": "2025-10-15", "end": "2025-10-21"])
            #expect(r.json["total"] as? [String: Int] == ["events": 7, "users": 3, "visits": 3])
            let rows = values(r)
            #expect(rows.map { $0["value"] as? String } == ["/pricing", nil, "/docs", "/blog"])
            #expect(rows.map { $0["events"] as! Int } == [3, 2, 1, 1])
            #expect(rows.map { $0["users"] as! Int } == [2, 2, 1, 0])
            #expect(rows.map { $0["visits"] as! Int } == [3, 1, 1, 1])
            #expect(rows.first?["share"] as? Double == 0.6667)
        }
    }

    @Test func topFoldsTheRestIntoOtherWithDistinctUsers() async throws {
        try await withApp { client, _ in
            try await Self.seed(client)
            let rows = values(try await get(client, "breakdown?by=page&days=7&end=2025-10-21&top=1"))
            #expect(rows.map { $0["value"] as? String } == ["/pricing", "(other)"])
            // (other): null (a's action, c's signup), /blog, /docs: users a and c, visits s1 and s3.
            #expect(rows.last?["events"] as? Int == 4 && rows.last?["users"] as? Int == 2 && rows.last?["visits"] as? Int == 2)
        }
    }

    @Test func requestDimensionsPropertiesAndEntryPages() async throws {
        try await withApp { client, _ in
            try await Self.seed(client)
            let browsers = values(try await get(client, "breakdown?by=browser&days=7&end=2025-10-21"))
            #expect(browsers.map { $0["value"] as? String } == ["Safari", "Chrome"])
            let devices = values(try await get(client, "breakdown?by=device&days=7&end=2025-10-21"))
            #expect(devices.map { $0["value"] as? String } == ["mobile", "desktop"] && devices.map { $0["events"] as! Int } == [4, 3])
            let plans = values(try await get(client, "breakdown?by=prop:plan&days=7&end=2025-10-21"))
            #expect(plans.map { $0["value"] as? String } == ["pro", nil, "free"])
            let seats = values(try await get(client, "breakdown?by=prop:seats&days=7&end=2025-10-21"))
            #expect(seats.map { $0["value"] as? String } == [nil, "3"])
            let entries = values(try await get(client, "breakdown?by=entry_page&days=7&end=2025-10-21"))
            #expect(entries.map { $0["value"] as? String } == ["/pricing", nil, "/blog"])
            #expect(entries.map { $0["visits"] as! Int } == [2, 0, 1])
            let exits = values(try await get(client, "breakdown?by=exit_page&days=7&end=2025-10-21"))
            #expect(Set(exits.compactMap { $0["value"] as? String }) == ["/docs", "/pricing"])
            let referrers = values(try await get(client, "breakdown?by=referrer&days=7&end=2025-10-21"))
            #expect(referrers.map { $0["value"] as? String } == [nil, "news.ycombinator.com"])
        }
    }

    @Test func filtersApplyToEveryEndpoint() async throws {
        try await withApp { client, _ in
            try await Self.seed(client)
            let usage = try await get(client, "usage?days=7&end=2025-10-21&filter=device:mobile")
            #expect(usage.json["total_events"] as? Int == 4 && usage.json["mau"] as? Int == 2)
            let not = try await get(client, "usage?days=7&end=2025-10-21&filter=device!:mobile")
            #expect(not.json["total_events"] as? Int == 3 && not.json["mau"] as? Int == 1)
            let anyOf = try await get(client, "usage?days=7&end=2025-10-21&filter=page:%2Fblog%7C%2Fdocs")
            #expect(anyOf.json["total_events"] as? Int == 2)
            let both = try await get(client, "usage?days=7&end=2025-10-21&filter=page:/pricing&filter=browser:Safari")
            #expect(both.json["total_events"] as? Int == 2 && both.json["mau"] as? Int == 1)
            let direct = try await get(client, "usage?days=7&end=2025-10-21&filter=referrer:(none)")
            #expect(direct.json["total_events"] as? Int == 6)
            let daily = try await get(client, "daily?days=2&end=2025-10-20&filter=prop:plan:pro")
            #expect((daily.json["days"] as! [[String: Any]]).map { $0["events"] as! Int } == [1, 1])
            let hours = try await get(client, "hours?days=7&end=2025-10-21&filter=event_type:page_view")
            #expect((hours.json["hours"] as! [[Int]])[0][10] == 2)
            let funnel = try await get(client, "funnel?steps=page_view,action&days=7&end=2025-10-21&filter=browser:Chrome")
            #expect((funnel.json["steps"] as! [[String: Any]]).map { $0["users"] as! Int } == [1, 1])
            let visits = try await get(client, "visits?days=7&end=2025-10-21&filter=device:mobile")
            #expect((visits.json["total"] as! [String: Any])["visits"] as? Int == 2)
            let csv = try await client.execute(uri: "/api/analytics/features.csv?days=7&end=2025-10-21&filter=browser:Chrome", method: .get, headers: Self.key)
            #expect(String(buffer: csv.body) == "feature,events,users\r\nsearch,1,1\r\n")
            let none = try await client.execute(uri: "/api/analytics/features.csv?days=7&end=2025-10-21&filter=browser:Firefox", method: .get, headers: Self.key)
            #expect(String(buffer: none.body) == "feature,events,users\r\n")
            let retention = try await get(client, "retention?weeks=2&end=2025-10-21&filter=event_type:signup")
            #expect((retention.json["cohorts"] as! [[String: Any]]).map { $0["users"] as! Int } == [1, 0])
        }
    }

    @Test func visitsCountBouncesDurationsAndPages() async throws {
        try await withApp { client, _ in
            try await Self.seed(client)
            let r = try await get(client, "visits?days=2&end=2025-10-20")
            let total = r.json["total"] as! [String: Any]
            // s1: 120 s, 2 pages; s2: bounce, 0 s, 1 page; s3: 30 s, 2 pages.
            #expect(total["visits"] as? Int == 3)
            #expect(total["bounce_rate"] as? Double == 0.3333)
            #expect(total["duration_mean_s"] as? Double == 50.0)
            #expect(total["duration_median_s"] as? Double == 30.0)
            #expect(total["pages_per_visit"] as? Double == 1.67)
            let days = r.json["days"] as! [[String: Any]]
            #expect(days.map { $0["date"] as! String } == ["2025-10-19", "2025-10-20"])
            #expect(days.map { $0["visits"] as! Int } == [0, 3])
        }
    }

    @Test func compareAddsThePreviousPeriodAndTheChange() async throws {
        try await withApp { client, _ in
            try await Self.seed(client)
            let rows = values(try await get(client, "breakdown?by=event_type&days=1&end=2025-10-20&compare=previous"))
            let signup = rows.first { $0["value"] as? String == "page_view" }!
            #expect(signup["previous"] as? [String: Int] == ["events": 0, "users": 0, "visits": 0])
            #expect(signup["change"] is NSNull)
            let later = values(try await get(client, "breakdown?by=event_type&days=1&end=2025-10-21&compare=previous"))
            #expect(later.isEmpty)
            let onTheDay = values(try await get(client, "breakdown?by=feature&days=1&end=2025-10-20&compare=previous"))
            #expect(onTheDay.map { $0["value"] as? String } == [nil, "search"])
            let r = try await get(client, "breakdown?by=prop:plan&days=1&end=2025-10-20&compare=previous")
            let pro = values(r).first { $0["value"] as? String == "pro" }!
            #expect(pro["previous"] as? [String: Int] == ["events": 1, "users": 1, "visits": 0])
            #expect(pro["change"] as? Double == 0.0)
        }
    }

    @Test func badParametersAreClear400s() async throws {
        try await withApp { client, _ in
            for (query, reason) in [
                ("breakdown?days=7", "by is required"), ("breakdown?by=colour", "unknown dimension \"colour\""),
                ("breakdown?by=page&top=0", "top must be"), ("breakdown?by=page&top=1001", "top must be"),
                ("breakdown?by=page&compare=last", "compare must be previous"), ("usage?filter=page", "must be DIM:VALUE"),
                ("usage?filter=size:big", "unknown dimension \"size\""), ("visits?filter=page:", "empty value"),
                ("funnel?steps=a,b&filter=prop:", "must be DIM:VALUE"), ("breakdown?by=prop:", "unknown dimension"),
            ] {
                let r = try await get(client, query)
                #expect(r.status == .badRequest, "\(query)")
                #expect((r.json["error"] as? String ?? "").contains(reason), "\(query): \(r.json)")
            }
        }
    }
}
