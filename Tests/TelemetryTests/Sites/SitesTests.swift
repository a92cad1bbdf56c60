import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
@testable import Telemetry

/// Opens the sites of `sites` (none: the single `default` site) under one data directory and serves them.
func withSites(
    _ sites: [SiteDefinition], clock: ManualClock = ManualClock(), directory: TempDirectory = TempDirectory(),
    _ test: @escaping @Sendable (any TestClientProtocol, Sites) async throws -> Void
) async throws {
    var config = testConfiguration(directory)
    config.sites = sites
    config.dashKeys = ["admin-key"]
    let opened = try Sites.open(config, logger: quietLogger, now: clock.now)
    try await buildApplication(sites: opened, logger: quietLogger).test(.router) { client in try await test(client, opened) }
    opened.close()
}

@Suite struct SitesTests {
    static let blogKey: HTTPFields = [.init("X-Dash-Key")!: "blog-key"]
    static let admin: HTTPFields = [.init("X-Dash-Key")!: "admin-key"]
    static let sites = [
        SiteDefinition(id: "blog", origins: ["https://blog.example.com"], dashKeys: ["blog-key"], rawRetentionDays: 30),
        SiteDefinition(id: "shop", dashKeys: ["shop-key"]),
    ]

    func usage(_ client: some TestClientProtocol, _ query: String, _ headers: HTTPFields) async throws -> TestResponse {
        try await client.execute(uri: "/api/analytics/usage?days=7&end=2025-10-21" + query, method: .get, headers: headers)
    }

    @Test func batchesGoToTheSiteTheyNameEachInItsOwnDirectory() async throws {
        let dir = TempDirectory()
        try await withSites(Self.sites, directory: dir) { client, sites in
            var r = try await client.post(#"{"site":"blog","events":[{"event_type":"page_view","user_id":"a"},{"event_type":"page_view","user_id":"b"}]}"#)
            #expect(r.status == .ok)
            r = try await client.post(#"{"site":"shop","events":[{"event_type":"purchase","user_id":"a"}]}"#)
            #expect(r.status == .ok)
            r = try await client.post(#"{"site":"nope","events":[{"event_type":"a"}]}"#)
            #expect(r.status == .badRequest)
            #expect(r.json["error"] as? String == #"unknown site "nope""#)
            // No default site in this sites file: a batch that names none has nowhere to go.
            r = try await client.post(#"{"events":[{"event_type":"a"}]}"#)
            #expect(r.status == .badRequest)
            r = try await client.post(#"{"site":"Blog!","events":[{"event_type":"a"}]}"#)
            #expect(r.status == .badRequest)
            #expect(try await usage(client, "&site=blog", Self.admin).json["mau"] as? Int == 2)
            #expect(try await usage(client, "&site=shop", Self.admin).json["mau"] as? Int == 1)
            #expect(FileSystem.exists(dir.path + "/sites/blog/" + SegmentName.active))
            #expect(FileSystem.exists(dir.path + "/sites/shop/" + SegmentName.active))
            #expect(!FileSystem.exists(dir.path + "/" + SegmentName.active))
            _ = sites
        }
    }

    @Test func anOriginTheSiteDoesNotAllowIsRefused() async throws {
        try await withSites(Self.sites) { client, _ in
            var r = try await client.post(#"{"site":"blog","events":[{"event_type":"a"}]}"#, headers: [.origin: "https://evil.example"])
            #expect(r.status == .forbidden)
            r = try await client.post(#"{"site":"blog","events":[{"event_type":"a"}]}"#, headers: [.origin: "https://blog.example.com"])
            #expect(r.status == .ok)
            // Before the body names the site, the headers allow what any site allows (shop: any origin).
            #expect(r.headers[.accessControlAllowOrigin] == "*")
            // shop declares no origins: the daemon's --cors-origins (default *) apply.
            r = try await client.post(#"{"site":"shop","events":[{"event_type":"a"}]}"#, headers: [.origin: "https://evil.example"])
            #expect(r.status == .ok)
        }
    }

    @Test func aSiteKeyReadsItsSiteOnly() async throws {
        try await withSites(Self.sites) { client, _ in
            _ = try await client.post(#"{"site":"blog","events":[{"event_type":"page_view","user_id":"a"}]}"#)
            #expect(try await usage(client, "", Self.blogKey).json["mau"] as? Int == 1)
            #expect(try await usage(client, "&site=blog", Self.blogKey).status == .ok)
            #expect(try await usage(client, "&site=shop", Self.blogKey).status == .forbidden)
            #expect(try await usage(client, "&site=none", Self.blogKey).status == .notFound)
            #expect(try await usage(client, "", [.init("X-Dash-Key")!: "wrong"]).status == .unauthorized)
            // An admin key reads both, so without default it must say which.
            #expect(try await usage(client, "", Self.admin).status == .badRequest)
            #expect(try await usage(client, "&site=shop", Self.admin).status == .ok)
            let list = try await client.execute(uri: "/api/analytics/sites", method: .get, headers: Self.blogKey)
            #expect(list.json["sites"] as? [[String: String]] == [["id": "blog"]])
            let all = try await client.execute(uri: "/api/analytics/sites", method: .get, headers: Self.admin)
            #expect(all.json["sites"] as? [[String: String]] == [["id": "blog"], ["id": "shop"]])
        }
    }

    @Test func erasureInOneSiteLeavesTheOthersByteIdentical() async throws {
        let dir = TempDirectory()
        try await withSites(Self.sites + [SiteDefinition(id: "default")], directory: dir) { client, sites in
            for site in ["blog", "shop", "default"] {
                _ = try await client.post(#"{"site":"\#(site)","events":[{"event_type":"page_view","user_id":"u1","id":"\#(site)-1"},{"event_type":"page_view","user_id":"u2","id":"\#(site)-2"}]}"#)
            }
            for site in sites.all { site.storage.flushAggregates() }
            func snapshot(_ path: String) -> [String: [UInt8]] {
                var files: [String: [UInt8]] = [:]
                let enumerator = FileManager.default.enumerator(atPath: path)
                while let name = enumerator?.nextObject() as? String {
                    if name.hasPrefix("sites/") || name.hasSuffix(".lock") { continue }
                    if let bytes = try? FileSystem.readAll(path + "/" + name) { files[name] = bytes }
                }
                return files
            }
            let shop = snapshot(dir.path + "/sites/shop")
            let top = snapshot(dir.path)
            let r = try await client.execute(uri: "/api/analytics/users/u1?site=blog", method: .delete, headers: Self.admin)
            #expect(r.json["deleted"] as? Int == 1)
            #expect(snapshot(dir.path + "/sites/shop") == shop)
            #expect(snapshot(dir.path) == top)
            #expect(try await usage(client, "&site=blog", Self.admin).json["mau"] as? Int == 1)
            #expect(try await usage(client, "&site=shop", Self.admin).json["mau"] as? Int == 2)
            #expect(try await usage(client, "", Self.admin).json["mau"] as? Int == 2)
        }
    }

    @Test func anExistingSingleSiteDirectoryBecomesTheDefaultSiteInPlace() async throws {
        let dir = TempDirectory()
        let clock = ManualClock()
        // Written as a daemon without a sites file does.
        let single = try Storage.open(testConfiguration(dir), logger: quietLogger, now: clock.now)
        _ = try await single.ingestor.ingest(body(#"{"events":[{"event_type":"page_view","user_id":"a","ts":"2025-10-20T10:00:00Z"},{"event_type":"page_view","user_id":"b"}]}"#))
        let before = await single.currentIndex().usage(end: CivilDate(iso: "2025-10-21")!, days: 7, top: 50, funnel: [])
        single.close()
        try await withSites([SiteDefinition(id: "default"), SiteDefinition(id: "blog")], clock: clock, directory: dir) { client, _ in
            let r = try await usage(client, "", Self.admin)
            #expect(r.status == .ok)
            #expect(r.json["mau"] as? Int == before.mau)
            #expect(r.json["mau"] as? Int == 2)
            #expect(try await usage(client, "&site=blog", Self.admin).json["mau"] as? Int == 0)
        }
    }

    @Test func aShareTokenOpensTheReadEndpointsOfItsSiteOnly() async throws {
        try await withSites(Self.sites) { client, _ in
            _ = try await client.post(#"{"site":"blog","events":[{"event_type":"page_view","user_id":"a"}]}"#)
            let created = try await client.execute(uri: "/api/analytics/share?site=blog", method: .post, headers: Self.blogKey)
            #expect(created.status == .created)
            let token = try #require(created.json["token"] as? String)
            let share: HTTPFields = [.init("X-Share-Token")!: token]
            #expect(try await usage(client, "", share).json["mau"] as? Int == 1)
            #expect(try await client.execute(uri: "/api/analytics/usage?days=7&end=2025-10-21&share=\(token)", method: .get).status == .ok)
            #expect(try await usage(client, "&site=shop", share).status == .forbidden)
            for (uri, method) in [("users/a/events", HTTPRequest.Method.get), ("users/a", .delete), ("share", .get), ("alerts", .get)] {
                #expect(try await client.execute(uri: "/api/analytics/" + uri, method: method, headers: share).status == .forbidden, "\(uri)")
            }
            // Only the digest is kept.
            let listed = try await client.execute(uri: "/api/analytics/share?site=blog", method: .get, headers: Self.admin)
            let id = try #require((listed.json["tokens"] as? [[String: String]])?.first?["id"])
            #expect(!String(buffer: listed.body).contains(token))
            #expect(try await client.execute(uri: "/api/analytics/share/\(id)?site=shop", method: .delete, headers: Self.admin).status == .notFound)
            #expect(try await client.execute(uri: "/api/analytics/share/\(id)?site=blog", method: .delete, headers: Self.admin).status == .ok)
            #expect(try await usage(client, "", share).status == .unauthorized)
        }
    }

    @Test func theSitesFileIsValidated() throws {
        let dir = TempDirectory()
        func check(_ text: String) -> String? {
            let path = dir.path + "/sites.json"
            try? text.write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try TelemetryConfiguration.resolve(flags: ["sites-file": [path]], environment: [:])
                return nil
            } catch {
                return error.description
            }
        }
        #expect(check(#"{"sites":[{"id":"blog"},{"id":"shop","dash_keys":["k"],"raw_retention_days":7}]}"#) == nil)
        #expect(check(#"{"sites":[{"id":"Blog"}]}"#)?.contains("sites[0].id must match") == true)
        #expect(check(#"{"sites":[{"id":"a"},{"id":"a"}]}"#)?.contains("declared twice") == true)
        #expect(check(#"{"sites":[]}"#)?.contains("must not be empty") == true)
        #expect(check(#"{"sites":[{"id":"a","raw_retention_days":0}]}"#)?.contains("raw_retention_days") == true)
        #expect(check(#"[1]"#)?.contains("\"sites\" array") == true)
        #expect(check(#"{"sites":[{"id":"a","colour":"red"}]}"#)?.contains("unknown key") == true)
    }
}

/// Sites share a process but not files: kill -9 while one site rotates its segment every kilobyte leaves every
/// site with each acknowledged event exactly once and no damaged line.
@Suite struct SiteCrashTests {
    @Test func aKillDuringOneSitesRotationLeavesEverySiteWhole() throws {
        let dir = TempDirectory()
        let sitesFile = dir.path + "/sites.json"
        try #"{"sites":[{"id":"blog"},{"id":"shop"}]}"#.write(toFile: sitesFile, atomically: true, encoding: .utf8)
        let data = dir.path + "/data"
        let arguments = ["--sites-file", sitesFile, "--rotate-bytes", "1024", "--dash-key", "k"]
        let daemon = try Daemon(dataDirectory: data, arguments: arguments)
        let acknowledged = Locked<[String: [String]]>(["blog": [], "shop": []])
        let running = Atomic<Bool>(true)
        let port = daemon.port
        let threads = ["blog", "shop"].map { site in
            let thread = Thread {
                var n = 0
                while running.load(ordering: .relaxed) {
                    let ids = (0..<5).map { "\(site)-\(n)-\($0)" }
                    n += 1
                    let events = ids.map { #"{"event_type":"action","id":"\#($0)","user_id":"u\#(n % 7)"}"# }
                    let reply = RawHTTP(port: port).post("/api/analytics/event", #"{"site":"\#(site)","events":[\#(events.joined(separator: ","))]}"#)
                    if let reply, reply.status == 200 { acknowledged.withLock { $0[site]! += ids } } else { Thread.sleep(forTimeInterval: 0.005) }
                }
            }
            thread.start()
            return thread
        }
        Thread.sleep(forTimeInterval: 1.5)
        daemon.kill9()
        running.store(false, ordering: .relaxed)
        Thread.sleep(forTimeInterval: 0.2)
        _ = threads
        // Recovery runs at the next start; then every site's files are checked.
        let restarted = try Daemon(dataDirectory: data, arguments: arguments)
        #expect(restarted.terminate() == 0)
        for site in ["blog", "shop"] {
            let (ids, malformed) = try storedIds(data + "/sites/" + site)
            let acked = acknowledged.withLock { $0[site]! }
            #expect(acked.count > 50, "\(site): the load ran")
            #expect(malformed == 0, "\(site): damaged lines")
            #expect(acked.allSatisfy { ids[$0] == 1 }, "\(site): \(acked.filter { ids[$0] != 1 }.prefix(5))")
            #expect(ids.keys.allSatisfy { $0.hasPrefix(site + "-") }, "\(site): another site's events")
        }
    }
}
