import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Telemetry

@Suite struct AlertTests {
    @Test func ingestFailuresOverOnePercentFireOncePerEpisode() {
        let clock = ManualClock()
        let monitor = AlertMonitor(now: clock.now, logger: quietLogger)
        for _ in 0..<200 { monitor.ingest(failed: false) }
        #expect(monitor.active.isEmpty)
        for _ in 0..<3 { monitor.ingest(failed: true) }
        #expect(monitor.active.map(\.kind) == ["ingest_failures"])
        let since = monitor.active[0].since
        clock.advance(ms: 60_000)
        monitor.ingest(failed: true)
        #expect(monitor.active[0].since == since)
        clock.advance(ms: 6 * 60_000)
        monitor.ingest(failed: false)
        #expect(monitor.active.isEmpty)
    }

    @Test func slowQueriesByP95() {
        let clock = ManualClock()
        let monitor = AlertMonitor(now: clock.now, logger: quietLogger)
        for _ in 0..<94 { monitor.query(milliseconds: 5) }
        for _ in 0..<6 { monitor.query(milliseconds: 900) }
        #expect(monitor.active.map(\.kind) == ["slow_queries"])
    }

    @Test func aTrafficDropIsCheckedInTheBackgroundAndServedByTheEndpoint() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T10:00:00Z")
        let storage = try Storage.open(testConfiguration(dir), logger: quietLogger, now: clock.now)
        var events: [String] = []
        for day in 13...19 { for i in 0..<100 { events.append(#"{"event_type":"a","ts":"2025-10-\#(day)T10:00:00Z","id":"\#(day)-\#(i)"}"#) } }
        events.append(#"{"event_type":"a","ts":"2025-10-20T10:00:00Z"}"#)
        for chunk in stride(from: 0, to: events.count, by: 100) {
            _ = try await storage.ingestor.ingest(Array(#"{"events":[\#(events[chunk..<min(events.count, chunk + 100)].joined(separator: ","))]}"#.utf8))
        }
        let monitor = AlertMonitor(now: clock.now, logger: quietLogger)
        let service = AlertService(monitor: monitor, site: nil, index: await storage.currentIndex(), rollups: storage.rollupService().stats,
                                   funnel: storage.configuration.funnel, now: clock.now)
        service.check()
        #expect(monitor.active.map(\.kind) == ["traffic_drop"])
        try await Application(router: buildRouter(sites: Sites(storage: storage, logger: quietLogger), alerts: monitor)).test(.router) { client in
            let r = try await client.execute(uri: "/api/analytics/alerts", method: .get, headers: [.init("X-Dash-Key")!: "test-key"])
            #expect(r.status == .ok)
            #expect(String(buffer: r.body).contains(#""kind":"traffic_drop""#))
        }
        // Yesterday's events catch up with the baseline: the alert ends at the next check.
        let more = (0..<99).map { #"{"event_type":"a","ts":"2025-10-20T11:00:00Z","id":"late-\#($0)"}"# }
        _ = try await storage.ingestor.ingest(Array(#"{"events":[\#(more.joined(separator: ","))]}"#.utf8))
        _ = await storage.currentIndex()
        service.check()
        #expect(monitor.active.isEmpty)
        storage.close()
    }
}
