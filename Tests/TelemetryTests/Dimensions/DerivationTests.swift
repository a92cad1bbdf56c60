import Foundation
import Testing
@testable import Telemetry

/// The dimensions derived from an event's url and referrer, and where they land in the stored line.
@Suite struct DerivationTests {
    /// The stored line of one event posted with `event` (a JSON object's members) and the request dimensions.
    func stored(_ members: String, dimensions: RequestDimensions = .none) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(try line(members, dimensions: dimensions).utf8)) as! [String: Any]
    }

    func line(_ members: String, dimensions: RequestDimensions = .none) throws -> String {
        try Array(#"{"events":[{"event_type":"page_view",\#(members)}]}"#.utf8).withUnsafeBufferPointer { b in
            String(decoding: try EventDecoder().decode(b, receivedAt: 1_761_040_800_000, dimensions: dimensions).lines, as: UTF8.self)
        }
    }

    static let pages: [(url: String, page: String?)] = [
        ("/pricing", "/pricing"), ("/pricing?plan=pro#faq", "/pricing"), ("https://x.org/a/b?q=1#top", "/a/b"),
        ("https://x.org", "/"), ("https://x.org?utm_source=a", "/"), ("//cdn.x.org/p", "/p"), ("?q=1", nil), ("", nil),
        ("/caf%C3%A9", "/caf%C3%A9"), (#"/a\"b"#, #"/a"b"#), ("/p/\\u00e9t\\u00e9", "/p/été"),
    ]

    @Test(arguments: pages)
    func pageIsThePathOfTheURL(url: String, page: String?) throws {
        let e = try stored(#""url":"\#(url)""#)
        #expect(e["page"] as? String == page)
    }

    static let referrers: [(referrer: String, host: String?)] = [
        ("https://www.News.ycombinator.com/item?id=1", "news.ycombinator.com"), ("http://user:pw@blog.example.org:8080/x", "blog.example.org"),
        ("android-app://com.google.android.gm/", "com.google.android.gm"), ("google.com/search?q=x", "google.com"),
        ("https://www.google.com", "google.com"), ("not a url", nil), ("", nil), ("https://[2001:db8::1]:443/x", "[2001:db8::1]"),
    ]

    @Test(arguments: referrers)
    func referrerIsTheHostLowerCaseWithoutWww(referrer: String, host: String?) throws {
        #expect(try stored(#""referrer":"\#(referrer)""#)["referrer"] as? String == host)
    }

    @Test func metadataReferrerStandsInForTheFieldAndSelfReferralsAreDropped() throws {
        #expect(try stored(#""metadata":{"n":1,"referrer":"https://t.co/abc"}"#)["referrer"] as? String == "t.co")
        #expect(try stored(#""referrer":"https://duckduckgo.com/","metadata":{"referrer":"https://t.co/abc"}"#)["referrer"] as? String == "duckduckgo.com")
        #expect(try stored(#""referrer":"","metadata":{"referrer":"https://t.co/abc"}"#)["referrer"] as? String == "t.co", "an empty field names nothing")
        #expect(try stored(#""url":"https://www.x.org/b","referrer":"https://x.org/a""#)["referrer"] == nil)
        // The referrer field is stored as its host only: the full referring URL never reaches the log.
        #expect(try !line(#""referrer":"https://news.example/item?id=42""#).contains("id=42"))
    }

    @Test func campaignParametersArePercentDecodedAndRefStandsForTheSource() throws {
        let e = try stored(#""url":"/?utm_source=news%20letter&utm_medium=email&utm_campaign=spring+sale&utm_term=caf%C3%A9&utm_content=a%26b""#)
        #expect(e["utm_source"] as? String == "news letter")
        #expect(e["utm_medium"] as? String == "email")
        #expect(e["utm_campaign"] as? String == "spring sale")
        #expect(e["utm_term"] as? String == "café")
        #expect(e["utm_content"] as? String == "a&b")
        #expect(try stored(#""url":"/?ref=producthunt""#)["utm_source"] as? String == "producthunt")
        #expect(try stored(#""url":"/?source=hn&utm_source=twitter""#)["utm_source"] as? String == "twitter")
        #expect(try stored(#""url":"/?utm_source=&utm_medium=cpc&utm_medium=other""#)["utm_source"] == nil)
        #expect(try stored(#""url":"/?utm_medium=cpc&utm_medium=other""#)["utm_medium"] as? String == "cpc")
        // Bytes that are not UTF-8 after decoding are left out rather than stored broken.
        #expect(try stored(#""url":"/?utm_source=%FF%FE""#)["utm_source"] == nil)
        #expect(try stored(#""url":"/?utm_source=%41%2""#)["utm_source"] as? String == "A%2")
        #expect(try line(#""url":"/?utm_campaign=a%22b%5Cc%0A""#).contains(#""utm_campaign":"a\"b\\c\n""#))
    }

    @Test func dimensionsSitBetweenClientVersionAndMetadataInTheDocumentedOrder() throws {
        let dims = RequestDimensions(
            userAgent: UserAgent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"),
            country: "DE")
        let text = try line(#""user_id":"u","client_version":"1.2","url":"/p?utm_source=a&utm_medium=b&utm_campaign=c&utm_term=d&utm_content=e","referrer":"https://r.example/","metadata":{"k":1}"#, dimensions: dims)
        let keys = ["\"ts\"", "\"event_type\"", "\"user_id\"", "\"url\"", "\"client_version\"", "\"page\"", "\"referrer\"", "\"utm_source\"", "\"utm_medium\"",
                    "\"utm_campaign\"", "\"utm_term\"", "\"utm_content\"", "\"browser\"", "\"browser_version\"", "\"os\"", "\"os_version\"",
                    "\"device\"", "\"country\"", "\"metadata\"", "\"received_at\""]
        let offsets = keys.map { text.range(of: $0 + ":")!.lowerBound }
        #expect(offsets == offsets.sorted())
        #expect(text.contains(#""browser":"Safari","browser_version":"17","os":"iOS","os_version":"17","device":"mobile","country":"DE""#))
    }

    @Test func offStoresEventsAsSent() throws {
        let e = try stored(#""url":"/p?utm_source=a","referrer":"https://r.example/""#, dimensions: .off)
        #expect(e["page"] == nil && e["utm_source"] == nil && e["referrer"] == nil)
    }

    @Test func aReferrerOverTheLimitRejectsTheEventAlone() throws {
        let long = String(repeating: "a", count: 2049)
        let batch = try Array(#"{"events":[{"event_type":"a","referrer":"https://\#(long)"},{"event_type":"b"}]}"#.utf8).withUnsafeBufferPointer {
            try EventDecoder().decode($0, receivedAt: 1_761_040_800_000)
        }
        #expect(batch.records.count == 1 && batch.rejected.map(\.index) == [0])
        #expect(batch.rejected.first?.error == "referrer must be at most 2048 characters")
    }
}
