import Testing
@testable import Telemetry

/// What a request's User-Agent is (its classification, whether it is a bot) is worked out once per distinct
/// User-Agent while the cache holds it, and the answer is the same as working it out again.
@Suite struct RecentCacheTests {
    @Test func aKeyIsWorkedOutOnceUntilTheFullCacheForgetsEverything() {
        let cache = RecentCache<Int>(capacity: 3)
        var computed: [String] = []
        func value(_ key: String) -> Int {
            cache.value(for: key) { key in
                computed.append(key)
                return key.count
            }
        }
        #expect([value("a"), value("bb"), value("a"), value("ccc"), value("bb")] == [1, 2, 1, 3, 2])
        #expect(computed == ["a", "bb", "ccc"])
        // A fourth key finds the cache full: it forgets the three, so each is worked out again when asked.
        #expect(value("dddd") == 4)
        #expect(value("a") == 1)
        #expect(computed == ["a", "bb", "ccc", "dddd", "a"])
    }

    @Test func aBotUserAgentIsABotEveryTimeItComes() {
        let bots = BotFilter(keep: false, maxPerSecond: 0, metrics: TelemetryMetrics())
        let crawler = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        let browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
        for _ in 0..<3 {
            #expect(bots.requestReason(userAgent: crawler) == .userAgent)
            #expect(bots.requestReason(userAgent: browser) == nil)
            #expect(bots.requestReason(userAgent: "curl/8.5.0") == nil)
        }
    }
}
