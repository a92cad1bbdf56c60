import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Telemetry

@Suite struct StaticEndpointTests {
    @Test func telemetryJSIsServedFromTheBinaryWithETagCacheControlAndGzip() async throws {
        try await withApp { client, _ in
            let plain = try await client.execute(uri: "/static/js/telemetry.js", method: .get)
            #expect(plain.status == .ok)
            #expect(plain.headers[.contentType] == "application/javascript; charset=utf-8")
            #expect(plain.headers[.cacheControl] == "public, max-age=3600")
            #expect(String(buffer: plain.body).contains("EchoPilot"))
            let etag = try #require(plain.headers[.eTag])
            let gz = try await client.execute(uri: "/static/js/telemetry.js", method: .get, headers: [.acceptEncoding: "gzip, br"])
            #expect(gz.headers[.contentEncoding] == "gzip")
            #expect(gz.body.readableBytes <= 3072)
            #expect(gz.body.readableBytes < plain.body.readableBytes)
            let cached = try await client.execute(uri: "/static/js/telemetry.js", method: .get, headers: [.ifNoneMatch: etag])
            #expect(cached.status == .notModified)
        }
    }

    @Test func dashboardIsNeverCachedStale() async throws {
        try await withApp { client, _ in
            let r = try await client.execute(uri: "/dashboard", method: .get)
            #expect(r.status == .ok)
            #expect(r.headers[.cacheControl] == "no-cache")
            #expect(r.headers[.contentType] == "text/html; charset=utf-8")
        }
    }

    @Test func staticDirOverridesTheEmbeddedFilesAndRefusesEscapes() async throws {
        let site = TempDirectory()
        try FileSystem.makeDirectory(site.path + "/js")
        try FileSystem.writeAtomically(site.path + "/js/telemetry.js", Array("// dev copy".utf8))
        try await withApp({ $0.staticDirectory = site.path }) { client, _ in
            let r = try await client.execute(uri: "/static/js/telemetry.js", method: .get)
            #expect(String(buffer: r.body) == "// dev copy")
            let escape = try await client.execute(uri: "/static/../../etc/passwd", method: .get)
            #expect(escape.status == .notFound)
        }
    }
}
