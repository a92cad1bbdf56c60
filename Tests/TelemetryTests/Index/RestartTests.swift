import Foundation
import Testing
@testable import Telemetry

@Suite struct RestartTests {
    static let funnel = ["page_view", "action", "conversion"]

    static func fill(_ app: Storage, batches: Int, seed: UInt64, now: Int64) async throws {
        var random = RandomEvents(rng: SplitMix(state: seed), now: now)
        for _ in 0..<batches { _ = try await app.ingestor.ingest(Array(random.batch(100).utf8)) }
    }

    static func answers(_ index: DayIndex, today: CivilDate) -> [UsageReport] {
        [1, 7, 30, 90, 200, 365].map { index.usage(end: today, days: $0, funnel: funnel) }
            + [index.usage(end: today.adding(days: -120), days: 30, funnel: funnel)]
    }

    @Test func answersAreIdenticalAfterRestartCrashRetentionAndDamage() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T10:00:00Z")
        var config = testConfiguration(dir)
        config.rotateBytes = 64 << 10
        let today = CivilDate(iso: "2025-10-21")!

        let first = try Storage.open(config, logger: quietLogger, now: clock.now)
        try await Self.fill(first, batches: 30, seed: 11, now: clock.now())
        let expected = Self.answers(await first.currentIndex(), today: today)
        #expect(expected[5].totalEvents > 2000)
        first.close()

        // A clean restart loads the aggregates and replays nothing.
        let second = try Storage.open(config, logger: quietLogger, now: clock.now)
        #expect(!second.indexReport.rebuilt)
        #expect(second.indexReport.replayedEvents == 0)
        #expect(Self.answers(await second.currentIndex(), today: today) == expected)

        // A crash after more events (no final flush): the log past the stored position is replayed.
        try await Self.fill(second, batches: 10, seed: 12, now: clock.now())
        let afterMore = Self.answers(await second.currentIndex(), today: today)
        second.crash()
        let third = try Storage.open(config, logger: quietLogger, now: clock.now)
        #expect(third.indexReport.replayedEvents > 0)
        #expect(Self.answers(await third.currentIndex(), today: today) == afterMore)
        third.close()

        // Raw segments gone (retention): the aggregates still answer exactly.
        for file in dir.files() where file.hasPrefix("analytics_events") { try FileSystem.unlink(dir.path + "/" + file) }
        let fourth = try Storage.open(config, logger: quietLogger, now: clock.now)
        #expect(Self.answers(await fourth.currentIndex(), today: today) == afterMore)
        fourth.close()
    }

    @Test func damagedAggregatesAreRebuiltFromTheRawLog() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T10:00:00Z")
        let config = testConfiguration(dir)
        let today = CivilDate(iso: "2025-10-21")!
        let first = try Storage.open(config, logger: quietLogger, now: clock.now)
        try await Self.fill(first, batches: 10, seed: 5, now: clock.now())
        let expected = Self.answers(await first.currentIndex(), today: today)
        first.close()

        // One day file flipped: that date comes back from the raw log.
        let aggregates = dir.path + "/aggregates"
        let dayFile = FileSystem.list(aggregates).first { $0.hasPrefix("day-") }!
        var bytes = try FileSystem.readAll(aggregates + "/" + dayFile)
        bytes[bytes.count / 2] ^= 0xFF
        try FileSystem.writeAtomically(aggregates + "/" + dayFile, bytes)
        let second = try Storage.open(config, logger: quietLogger, now: clock.now)
        #expect(Self.answers(await second.currentIndex(), today: today) == expected)
        second.close()

        // The manifest gone: everything is rebuilt.
        try FileSystem.unlink(aggregates + "/manifest")
        let third = try Storage.open(config, logger: quietLogger, now: clock.now)
        #expect(third.indexReport.rebuilt)
        #expect(Self.answers(await third.currentIndex(), today: today) == expected)
        third.close()
    }
}

@Suite struct DedupRestartTests {
    @Test func retriedIdsStayDuplicatesAfterACleanRestartAndAfterACrash() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T10:00:00Z")
        let config = testConfiguration(dir)
        let body = Array(#"{"events":[{"event_type":"a","id":"retry-me"}]}"#.utf8)
        let first = try Storage.open(config, logger: quietLogger, now: clock.now)
        #expect(try await first.ingestor.ingest(body).logged == 1)
        first.close()
        // Clean restart: the window comes from the shutdown snapshot.
        let second = try Storage.open(config, logger: quietLogger, now: clock.now)
        #expect(try await second.ingestor.ingest(body).duplicates == 1)
        #expect(try await second.ingestor.ingest(Array(#"{"events":[{"event_type":"a","id":"second"}]}"#.utf8)).logged == 1)
        second.crash()  // a crash: no snapshot for this position
        let third = try Storage.open(config, logger: quietLogger, now: clock.now)
        #expect(try await third.ingestor.ingest(body).duplicates == 1)
        #expect(try await third.ingestor.ingest(Array(#"{"events":[{"event_type":"a","id":"second"}]}"#.utf8)).duplicates == 1)
        third.close()
    }
}
