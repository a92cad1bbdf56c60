import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Telemetry

/// The bot list against `bots.tsv` (one real User-Agent per entry, plus HTTP clients and browsers that must
/// count), and the bot filter at the event endpoint.
@Suite struct BotTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let userAgent: String
        let verdict: String
        var testDescription: String { "\(verdict): \(userAgent)" }
    }

    static func rows() throws -> [Row] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("bots.tsv")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let cells = line.split(separator: "\t").map(String.init)
            return Row(userAgent: cells[0], verdict: cells.count > 1 ? cells[1] : "?")
        }
    }

    @Test(arguments: try rows())
    func classifiesAsTheTableSays(_ row: Row) {
        #expect(["bot", "client", "human"].contains(row.verdict))
        #expect((BotList.match(row.userAgent) != nil) == (row.verdict == "bot"))
    }

    @Test(arguments: BotList.patterns)
    func everyEntryHasARealExample(_ pattern: String) throws {
        let bots = try Self.rows().filter { $0.verdict == "bot" }.map { $0.userAgent.lowercased() }
        let found = pattern.hasPrefix("^") ? bots.contains { $0.hasPrefix(pattern.dropFirst()) } : bots.contains { $0.contains(pattern) }
        #expect(found, "no example in bots.tsv for \(pattern)")
    }

    @Test func noBrowserOfTheUserAgentTableIsABotExceptTheCrawlersAndHeadlessOnes() throws {
        for row in try UserAgentTests.rows() {
            let isBot = BotList.match(row.userAgent) != nil
            let expected = row.expected.browser == "Headless Chrome" || row.userAgent.range(of: "bot|spider|crawl|pingdom|PTST/|^WhatsApp/|externalhit", options: [.regularExpression, .caseInsensitive]) != nil
            #expect(isBot == expected, "\(row.userAgent)")
        }
    }

    static let googlebot: HTTPFields = [.userAgent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"]
    static let chrome: HTTPFields = [.userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"]

    @Test func botsAreDroppedAndCountedAndServerSideClientsCount() async throws {
        try await withApp { client, dir in
            var r = try await client.post(#"{"events":[{"event_type":"page_view","url":"/"},{"event_type":"page_view","url":"/a"}]}"#, headers: Self.googlebot)
            #expect(r.status == .ok)
            #expect(r.json["logged"] as? Int == 0)
            #expect(r.json["bots"] as? Int == 2)
            r = try await client.post(#"{"events":[{"event_type":"signup","user_id":"u1"}]}"#, headers: [.userAgent: "python-requests/2.31.0"])
            #expect(r.json["logged"] as? Int == 1)
            r = try await client.post(#"{"events":[{"event_type":"signup","user_id":"u2"}]}"#, headers: [.userAgent: "curl/8.5.0"])
            #expect(r.json["logged"] as? Int == 1)
            r = try await client.post(#"{"webdriver":true,"events":[{"event_type":"page_view"}]}"#, headers: Self.chrome)
            #expect(r.json["bots"] as? Int == 1)
            #expect(dir.lines().count == 2)
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"telemetry_events_bot_total{reason="user_agent"} 2"#))
            #expect(metrics.contains(#"telemetry_events_bot_total{reason="webdriver"} 1"#))
        }
    }

    @Test func aSessionOverTheRateIsABotForHalfAnHour() async throws {
        let clock = ManualClock()
        try await withApp({ $0.botSessionRate = 5 }, clock: clock) { client, dir in
            let burst = (0..<8).map { #"{"event_type":"action","session_id":"s1","ts":"2025-10-21T09:59:00.\#(100 + $0)Z"}"# }
            var r = try await client.post(#"{"events":[\#(burst.joined(separator: ","))]}"#, headers: Self.chrome)
            #expect(r.json["logged"] as? Int == 5)
            #expect(r.json["bots"] as? Int == 3)
            // The same session later: still a bot; another session is not.
            clock.advance(ms: 60_000)
            r = try await client.post(#"{"events":[{"event_type":"action","session_id":"s1"},{"event_type":"action","session_id":"s2"}]}"#, headers: Self.chrome)
            #expect(r.json["logged"] as? Int == 1)
            #expect(r.json["bots"] as? Int == 1)
            clock.advance(ms: 31 * 60_000)
            r = try await client.post(#"{"events":[{"event_type":"action","session_id":"s1"}]}"#, headers: Self.chrome)
            #expect(r.json["logged"] as? Int == 1)
            #expect(dir.lines().count == 7)
        }
    }

    @Test func keepBotsStoresThemWithDeviceBot() async throws {
        try await withApp({ $0.keepBots = true; $0.botSessionRate = 2 }) { client, dir in
            var r = try await client.post(#"{"events":[{"event_type":"page_view","url":"/"}]}"#, headers: Self.googlebot)
            #expect(r.json["logged"] as? Int == 1)
            r = try await client.post(#"{"webdriver":true,"events":[{"event_type":"page_view","url":"/w","metadata":{"a":1,"device":"x","country":"y"}}]}"#, headers: Self.chrome)
            #expect(r.json["logged"] as? Int == 1)
            let burst = (0..<3).map { #"{"event_type":"action","session_id":"s9","user_id":"u\#($0)","ts":"2025-10-21T09:59:00.\#(100 + $0)Z"}"# }
            r = try await client.post(#"{"events":[\#(burst.joined(separator: ","))]}"#)
            #expect(r.json["logged"] as? Int == 3)
            let lines = dir.lines().map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            #expect(lines.map { $0["device"] as? String } == ["bot", "bot", nil, nil, "bot"])
            #expect(lines[1]["browser"] as? String == "Chrome")
            let metadata = lines[1]["metadata"] as? [String: Any]
            #expect(metadata?["device"] as? String == "x" && metadata?["country"] as? String == "y" && metadata?["a"] as? Int == 1)
            #expect(lines[4]["user_id"] as? String == "u2")
            let bots = try await client.execute(uri: "/api/analytics/breakdown?by=device&days=1&filter=device:bot", method: .get, headers: [.init("X-Dash-Key")!: "test-key"])
            #expect((bots.json["total"] as? [String: Int])?["events"] == 3)
        }
    }
}
