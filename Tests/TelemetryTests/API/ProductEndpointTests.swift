import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Telemetry

@Suite struct ProductEndpointTests {
    static let key: HTTPFields = [.init("X-Dash-Key")!: "test-key"]

    @Test func retentionCohortsByFirstWeek() async throws {
        try await withApp { client, _ in
            // a: first seen 2025-10-06 (W41), back in W42 and W43; b: first seen W42; c: W43 only.
            _ = try await client.post(#"{"events":[{"event_type":"a","user_id":"a","ts":"2025-10-06T10:00:00Z"},{"event_type":"a","user_id":"a","ts":"2025-10-14T10:00:00Z"},{"event_type":"a","user_id":"b","ts":"2025-10-15T10:00:00Z"},{"event_type":"a","user_id":"a","ts":"2025-10-20T10:00:00Z"},{"event_type":"a","user_id":"c","ts":"2025-10-21T09:00:00Z"}]}"#)
            let r = try await client.execute(uri: "/api/analytics/retention?weeks=3", method: .get, headers: Self.key)
            let cohorts = r.json["cohorts"] as! [[String: Any]]
            #expect(cohorts.map { $0["week"] as! String } == ["2025-W41", "2025-W42", "2025-W43"])
            #expect(cohorts.map { $0["users"] as! Int } == [1, 1, 1])
            #expect(cohorts.map { $0["active"] as! [Int] } == [[1, 1, 1], [1, 0], [1]])
        }
    }

    @Test func funnelFollowsOrderAndTheWithinLimit() async throws {
        try await withApp { client, _ in
            _ = try await client.post(#"{"events":[{"event_type":"page_view","feature":"pricing","user_id":"a","ts":"2025-10-20T10:00:00Z"},{"event_type":"action","user_id":"a","ts":"2025-10-20T10:05:00Z"},{"event_type":"conversion","user_id":"a","ts":"2025-10-20T10:10:00Z"},{"event_type":"conversion","user_id":"b","ts":"2025-10-20T09:00:00Z"},{"event_type":"page_view","feature":"pricing","user_id":"b","ts":"2025-10-20T10:00:00Z"},{"event_type":"action","user_id":"b","ts":"2025-10-20T12:00:00Z"},{"event_type":"page_view","feature":"home","user_id":"c","ts":"2025-10-20T10:00:00Z"}]}"#)
            let r = try await client.execute(uri: "/api/analytics/funnel?steps=page_view:pricing,action,conversion&days=7&within=3600", method: .get, headers: Self.key)
            let steps = r.json["steps"] as! [[String: Any]]
            #expect(steps.map { $0["step"] as! String } == ["page_view:pricing", "action", "conversion"])
            #expect(steps.map { $0["users"] as! Int } == [2, 1, 1])
            #expect(steps.map { $0["conversion"] as! Double } == [1.0, 0.5, 0.5])
            let bad = try await client.execute(uri: "/api/analytics/funnel?steps=page_view", method: .get, headers: Self.key)
            #expect(bad.status == .badRequest)
            let old = try await client.execute(uri: "/api/analytics/funnel?steps=a,b&days=200", method: .get, headers: Self.key)
            #expect(old.status == .badRequest)
        }
    }

    @Test func experimentComparesVariantsAgainstTheControl() async throws {
        try await withApp { client, _ in
            var events: [String] = []
            for i in 0..<40 {
                let variant = i % 2 == 0 ? "control" : "b"
                events.append(#"{"event_type":"page_view","user_id":"u\#(i)","ts":"2025-10-20T10:00:00Z","metadata":{"experiment":"onboarding","variant":"\#(variant)"}}"#)
                if i % 4 == 1 || i % 8 == 0 {
                    events.append(#"{"event_type":"conversion","user_id":"u\#(i)","ts":"2025-10-20T11:00:00Z"}"#)
                }
            }
            for chunk in stride(from: 0, to: events.count, by: 100) {
                _ = try await client.post(#"{"events":[\#(events[chunk..<min(events.count, chunk + 100)].joined(separator: ","))]}"#)
            }
            let r = try await client.execute(uri: "/api/analytics/experiments/onboarding", method: .get, headers: Self.key)
            let variants = r.json["variants"] as! [[String: Any]]
            #expect(variants.map { $0["variant"] as! String } == ["b", "control"])
            let b = variants[0], control = variants[1]
            #expect(control["users"] as? Int == 20 && control["converted"] as? Int == 5)
            #expect(b["users"] as? Int == 20 && b["converted"] as? Int == 10)
            #expect(b["uplift"] as? Double == 0.25)
            #expect(b["relative_uplift"] as? Double == 1.0)
            let p = b["p_value"] as! Double
            #expect(p > 0.09 && p < 0.11)  // z = 1.633 for 10/20 against 5/20
            #expect(control["uplift"] == nil)
        }
    }

    @Test func deletingAUserErasesTheirEventsAndHashEverywhere() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T10:00:00Z")
        var config = testConfiguration(dir)
        config.rotateBytes = 1024
        let app = try Storage.open(config, logger: quietLogger, now: clock.now)
        for n in 0..<10 {
            _ = try await app.ingestor.ingest(Array(#"{"events":[{"event_type":"page_view","user_id":"victim","feature":"f","ts":"2025-10-\#(11 + n)T10:00:00Z"},{"event_type":"action","user_id":"keeper","ts":"2025-10-\#(11 + n)T11:00:00Z"}]}"#.utf8))
        }
        app.maintenance.compress(SegmentName(fileName: FileSystem.list(dir.path).first { $0.hasPrefix("analytics_events-") }!)!)
        _ = await app.currentIndex()
        try app.aggregates.flush(app.index)
        try await app.application().test(.router) { client in
            let r = try await client.execute(uri: "/api/analytics/users/victim", method: .delete, headers: Self.key)
            #expect(String(buffer: r.body) == #"{"ok":true,"deleted":10}"#)
            let usage = try await client.execute(uri: "/api/analytics/usage?days=30", method: .get, headers: Self.key).json
            #expect(usage["mau"] as? Int == 1)
            #expect(usage["total_events"] as? Int == 10)
            #expect(usage["feature_usage"] as? [String: Int] == [:])
            let after = try await client.post(#"{"events":[{"event_type":"a","user_id":"keeper"}]}"#)
            #expect(after.status == .ok)
        }
        app.close()
        let hash = app.index.hasher.hash("victim")
        let hashBytes = (0..<8).map { UInt8(truncatingIfNeeded: hash >> (8 * UInt64($0))) }
        var found: [String] = []
        for file in try FileManager.default.subpathsOfDirectory(atPath: dir.path) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir.path + "/" + file, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            var bytes = try FileSystem.readAll(dir.path + "/" + file)
            if file.hasSuffix(".gz") {
                var plain: [UInt8] = []
                try Gzip.decompressFile(dir.path + "/" + file) { plain += $0 }
                bytes = plain
            }
            if bytes.withUnsafeBufferPointer({ UserNeedle.contains($0, Array("victim".utf8)) }) { found.append(file) }
            if bytes.count >= 8, (0...(bytes.count - 8)).contains(where: { Array(bytes[$0..<($0 + 8)]) == hashBytes }) { found.append(file + " (hash)") }
        }
        #expect(found.isEmpty, "\(found)")
    }
}
