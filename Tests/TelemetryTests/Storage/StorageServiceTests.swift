import Foundation
import Synchronization
import Testing
@testable import Telemetry

@Suite struct StorageServiceTests {
    @Test func wakesAtUTCMidnightByTheInjectedClockAndRotatesAnIdleSegment() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T23:59:58Z")
        let storage = try Storage.open(testConfiguration(dir), logger: quietLogger, now: clock.now)
        _ = try await storage.ingestor.ingest(Array(#"{"events":[{"event_type":"before"}]}"#.utf8))
        let service = StorageService(storage: storage, sleep: { clock.advance(ms: Int64($0.nanoseconds / 1_000_000)) })
        // Two seconds to midnight: the next wake is just past it, not the five-second flush interval.
        let wake = service.nextWake(now: clock.now())
        #expect(wake == .milliseconds(2_001))
        try await service.sleep(wake)
        service.tick()
        storage.close()
        #expect(dir.files().contains { $0.hasPrefix("analytics_events-20251021") })
        #expect(service.nextWake(now: Timestamp.parse("2025-10-22T10:00:00Z")!) == .seconds(5))
    }

    @Test func closeIsTheOneShutdownPathAndSavesWhatARestartNeeds() async throws {
        let dir = TempDirectory()
        let clock = ManualClock()
        let storage = try Storage.open(testConfiguration(dir), logger: quietLogger, now: clock.now)
        _ = try await storage.ingestor.ingest(Array(#"{"events":[{"event_type":"a","user_id":"u","id":"x"}]}"#.utf8))
        // A second open of the same directory is refused while the first holds it.
        #expect(throws: Storage.OpenError.self) { try Storage.open(testConfiguration(dir), logger: quietLogger, now: clock.now) }
        storage.close()
        let again = try Storage.open(testConfiguration(dir), logger: quietLogger, now: clock.now)
        #expect(again.indexReport.replayedEvents == 0)
        #expect(try await again.ingestor.ingest(Array(#"{"events":[{"event_type":"a","id":"x"}]}"#.utf8)).duplicates == 1)
        again.close()
    }
}
