import Foundation
import Testing
@testable import Telemetry

@Suite struct RollupTests {
    func makeService(_ dir: TempDirectory, _ clock: ManualClock, retention: Int = 365) throws -> (RollupService, Storage) {
        var config = testConfiguration(dir)
        config.rollupRetentionDays = retention
        let app = try Storage.open(config, logger: quietLogger, now: clock.now)
        return (app.rollupService(), app)
    }

    func ends(_ dir: TempDirectory) -> [String] { RollupStore(dataDirectory: dir.path).read().map(\.end.description) }

    @Test func firesOnceAtTheRollupTimeAndCatchesUpAfterDowntime() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T03:14:59Z")
        let (service, app) = try makeService(dir, clock)
        defer { app.close() }
        _ = try await app.ingestor.ingest(Array(#"{"events":[{"event_type":"page_view","user_id":"a","ts":"2025-10-20T12:00:00Z"},{"event_type":"action","user_id":"b","ts":"2025-10-20T13:00:00Z"}]}"#.utf8))
        _ = await app.currentIndex()

        // Before 03:15 only the day before yesterday is due; with no line yet, only that one.
        #expect(service.runDue().map(\.description) == ["2025-10-19"])
        #expect(service.runDue().isEmpty)
        clock.set("2025-10-21T03:15:00Z")
        #expect(service.runDue().map(\.description) == ["2025-10-20"])
        #expect(service.runDue().isEmpty)
        // The wall clock steps back and forward an hour: nothing twice, nothing skipped.
        clock.set("2025-10-21T02:15:00Z")
        #expect(service.runDue().isEmpty)
        clock.set("2025-10-21T04:15:00Z")
        #expect(service.runDue().isEmpty)
        // Three days of downtime: one line per missed end.
        clock.set("2025-10-24T09:00:00Z")
        #expect(service.runDue().map(\.description) == ["2025-10-21", "2025-10-22", "2025-10-23"])
        #expect(ends(dir) == ["2025-10-19", "2025-10-20", "2025-10-21", "2025-10-22", "2025-10-23"])

        let line = RollupStore(dataDirectory: dir.path).read().first { $0.end.description == "2025-10-20" }!
        let o = try JSONSerialization.jsonObject(with: Data(line.text.utf8)) as! [String: Any]
        #expect(o["ts"] as? String == "2025-10-21T03:15:00Z")
        #expect(o["period_days"] as? Int == 30)
        #expect(o["mau"] as? Int == 2)
        #expect(o["total_events"] as? Int == 2)
        #expect((o["day"] as? [String: Any])?["users"] as? Int == 2)
        #expect((o["day"] as? [String: Any])?["date"] as? String == "2025-10-20")
        #expect(o["duration_ms"] is Int)
    }

    @Test func theServiceLoopRunsTheDueRollupOnStart() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T05:00:00Z")
        let (service, app) = try makeService(dir, clock)
        defer { app.close() }
        let task = Task { try await service.run() }
        for _ in 0..<50 where ends(dir).isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        task.cancel()
        #expect(ends(dir) == ["2025-10-20"])
    }

    @Test func manualRollupReplacesTheLineForTheSameEnd() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T05:00:00Z")
        let (service, app) = try makeService(dir, clock)
        service.runDue()
        _ = try await app.ingestor.ingest(Array(#"{"events":[{"event_type":"page_view","user_id":"late","ts":"2025-10-20T12:00:00Z"}]}"#.utf8))
        _ = await app.currentIndex()
        app.close()
        let manual = ManualRollup(configuration: testConfiguration(dir), logger: quietLogger, now: clock.now)
        let lines = try manual.run(end: CivilDate(iso: "2025-10-20"), days: 7)
        #expect(lines.count == 1)
        let stored = RollupStore(dataDirectory: dir.path).read()
        #expect(stored.map(\.end.description) == ["2025-10-20"])
        #expect(stored[0].text.contains(#""period_days":7"#))
        #expect(stored[0].text.contains(#""mau":1"#))
    }

    @Test func linesAndAggregatesPastRetentionArePruned() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T05:00:00Z")
        let (service, app) = try makeService(dir, clock, retention: 10)
        defer { app.close() }
        _ = try await app.ingestor.ingest(Array(#"{"events":[{"event_type":"a","ts":"2025-10-01T00:00:00Z"},{"event_type":"a","ts":"2025-10-20T00:00:00Z"}]}"#.utf8))
        _ = await app.currentIndex()
        service.runDue()
        #expect(app.index.dayCount == 1)  // 2025-10-01 is already past 10 days
        clock.set("2025-11-05T05:00:00Z")
        service.runDue()
        #expect(ends(dir) == ["2025-10-26", "2025-10-27", "2025-10-28", "2025-10-29", "2025-10-30", "2025-10-31", "2025-11-01", "2025-11-02", "2025-11-03", "2025-11-04"])
        #expect(app.index.dayCount == 0)
    }

    @Test func dueEndsFollowTheRule() {
        var config = TelemetryConfiguration()
        config.rollupRetentionDays = 5
        let job = RollupJob(configuration: config)
        let now = Timestamp.parse("2025-10-21T03:15:00Z")!
        #expect(job.dueEnds(now: now, newest: nil).map(\.description) == ["2025-10-20"])
        #expect(job.dueEnds(now: now, newest: CivilDate(iso: "2025-10-20")).isEmpty)
        #expect(job.dueEnds(now: now, newest: CivilDate(iso: "2025-01-01")).count == 5)
        #expect(job.untilNext(now: now) == 86_400_000)
        #expect(job.untilNext(now: now - 60_000) == 60_000)
    }
}
