import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Telemetry

func withApp(
    _ configure: (inout TelemetryConfiguration) -> Void = { _ in }, clock: ManualClock = ManualClock(),
    _ test: @escaping @Sendable (any TestClientProtocol, TempDirectory) async throws -> Void
) async throws {
    let dir = TempDirectory()
    var config = testConfiguration(dir)
    configure(&config)
    let app = try Storage.open(config, logger: quietLogger, now: clock.now)
    try await app.application().test(.router) { client in try await test(client, dir) }
    app.close()
}

extension TestResponse {
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))) as? [String: Any] ?? [:] }
}

extension TestClientProtocol {
    func post(_ text: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await execute(uri: "/api/analytics/event", method: .post, headers: headers, body: ByteBuffer(string: text))
    }
}

@Suite struct EventEndpointTests {
    @Test func storesABatchAndAnswersAfterItIsInTheLog() async throws {
        try await withApp { client, dir in
            let r = try await client.post(#"{"events":[{"event_type":"page_view","user_id":"u1","feature":"dashboard"}]}"#,
                                          headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(r.status == .ok)
            #expect(String(buffer: r.body) == #"{"ok":true,"logged":1}"#)
            #expect(r.headers[.accessControlAllowOrigin] == "*")
            #expect(dir.lines() == [#"{"ts":"2025-10-21T10:00:00.000Z","event_type":"page_view","user_id":"u1","feature":"dashboard","received_at":"2025-10-21T10:00:00.000Z"}"#])
        }
    }

    @Test func textPlainBodiesFromSendBeaconAreAccepted() async throws {
        try await withApp { client, dir in
            let r = try await client.post(#"{"events":[{"event_type":"a"}]}"#, headers: [.contentType: "text/plain;charset=UTF-8"])
            #expect(r.status == .ok)
            #expect(dir.lines().count == 1)
        }
    }

    @Test func partialBatchReportsLoggedIgnoredDuplicatesAndRejected() async throws {
        try await withApp { client, dir in
            let r = try await client.post(#"{"events":[{"event_type":"a","id":"x"},{"event_type":"a","id":"x"},{"event_type":"a","ts":"2020-01-01T00:00:00Z"},{"event_type":"B"}]}"#)
            #expect(r.status == .ok)
            #expect(String(buffer: r.body) == #"{"ok":true,"logged":1,"ignored":1,"duplicates":1,"rejected":[{"index":3,"error":"event_type must match ^[a-z][a-z0-9_]{0,63}$"}]}"#)
            let again = try await client.post(#"{"events":[{"event_type":"a","id":"x"}]}"#)
            #expect(again.status == .ok)
            #expect(again.json["logged"] as? Int == 0)
            #expect(again.json["duplicates"] as? Int == 1)
            #expect(dir.lines().count == 1)
        }
    }

    static let tooMany: String = "{\"events\":[" + Array(repeating: #"{"event_type":"a"}"#, count: 101).joined(separator: ",") + "]}"
    static let tooBig: String = #"{"events":[{"event_type":"a","url":""# + String(repeating: "x", count: 1 << 20) + #""}]}"#
    static let badBodies: [String: (String, HTTPResponse.Status)] = [
        "not json": ("not json", .badRequest),
        "empty": (#"{"events":[]}"#, .badRequest),
        "all invalid": (#"{"events":[{"event_type":"Nope"}]}"#, .badRequest),
        "101 events": (tooMany, .contentTooLarge),
        "over 1 MiB": (tooBig, .contentTooLarge),
    ]

    @Test(arguments: ["not json", "empty", "all invalid", "101 events", "over 1 MiB"])
    func badBodiesGetAJSONErrorAndStoreNothing(label: String) async throws {
        let (text, status) = Self.badBodies[label]!
        try await withApp { client, dir in
            let r = try await client.post(text)
            #expect(r.status == status)
            #expect(r.json["ok"] as? Bool == false)
            #expect((r.json["error"] as? String)?.isEmpty == false)
            #expect(r.headers[.accessControlAllowOrigin] == "*")
            #expect(dir.lines().isEmpty)
        }
    }

    @Test func preflightAndConfiguredOrigins() async throws {
        try await withApp({ $0.corsOrigins = ["https://app.example"] }) { client, _ in
            let pre = try await client.execute(uri: "/api/analytics/event", method: .options,
                                               headers: [.origin: "https://app.example", .accessControlRequestMethod: "POST"])
            #expect(pre.status == .noContent)
            #expect(pre.headers[.accessControlAllowOrigin] == "https://app.example")
            #expect(pre.headers[.accessControlAllowMethods]?.contains("POST") == true)
            let other = try await client.post(#"{"events":[{"event_type":"a"}]}"#, headers: [.origin: "https://evil.example"])
            #expect(other.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func rateLimitAnswers429WithRetryAfter() async throws {
        try await withApp({ $0.rateLimit = 1 }) { client, _ in
            var statuses: [HTTPResponse.Status] = []
            var retryAfter: String?
            for _ in 0..<3 {
                let r = try await client.post(#"{"events":[{"event_type":"a"}]}"#)
                statuses.append(r.status)
                if r.status == .tooManyRequests {
                    retryAfter = r.headers[.retryAfter]
                    #expect(r.json["ok"] as? Bool == false)
                }
            }
            #expect(statuses == [.ok, .ok, .tooManyRequests])
            #expect(retryAfter == "1")
        }
    }

    @Test func healthAndUnknownRoutesAnswerJSON() async throws {
        try await withApp { client, _ in
            let h = try await client.execute(uri: "/health", method: .get)
            #expect(h.status == .ok)
            #expect(h.json["ok"] as? Bool == true)
            #expect(h.json["version"] as? String == TelemetryVersion.current)
            let missing = try await client.execute(uri: "/nope", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.json["ok"] as? Bool == false)
        }
    }
}

@Suite struct ClientAddressTests {
    @Test func trustedProxyForwardedForNamesTheClient() {
        let c = ClientAddress(trustedProxies: ["127.0.0.1"])
        #expect(c.resolve(peer: "127.0.0.1", forwardedFor: "203.0.113.9, 127.0.0.1") == "203.0.113.9")
        #expect(c.resolve(peer: "198.51.100.1", forwardedFor: "203.0.113.9") == "198.51.100.1")
        #expect(c.resolve(peer: "127.0.0.1", forwardedFor: nil) == "127.0.0.1")
    }

    @Test func limiterKeepsAddressesApart() {
        let limiter = RateLimiter(perSecond: 1)
        #expect(limiter.check("a", now: 0) == nil)
        #expect(limiter.check("a", now: 0) == nil)
        #expect(limiter.check("a", now: 0) == 1)
        #expect(limiter.check("b", now: 0) == nil)
        #expect(limiter.check("a", now: 1000) == nil)
    }
}
