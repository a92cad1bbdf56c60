import Foundation
import Synchronization
import Testing
@testable import Telemetry

/// The ClickHouse sink against an in-memory ClickHouse (`FakeClickHouse`): what it ships, through outages, restarts,
/// erasure and retention. scripts/clickhouse/test runs the same daemon against real servers.
@Suite(.timeLimit(.minutes(5))) struct ClickHouseSinkTests {
    static func configuration(_ dir: TempDirectory, url: String) -> TelemetryConfiguration {
        var c = testConfiguration(dir)
        c.clickhouse.url = url
        c.rotateBytes = 4096
        return c
    }

    /// A batch of `count` events numbered from `first`; even ones carry an id, odd ones none.
    static func batch(_ first: Int, _ count: Int, user: (Int) -> String = { "u\($0 % 7)" }) -> [UInt8] {
        let events = (first..<(first + count)).map { n in
            let id = n % 2 == 0 ? #""id":"e\#(n)","# : ""
            return #"{\#(id)"event_type":"page_view","user_id":"\#(user(n))","session_id":"s\#(n / 5)","url":"/p/\#(n % 3)?utm_source=x","metadata":{"n":\#(n),"plan":"pro \"q\""}}"#
        }
        return Array(#"{"events":[\#(events.joined(separator: ","))]}"#.utf8)
    }

    /// Waits until `condition` holds (60 s at most: under a full parallel test run the in-memory server shares the
    /// cooperative pool with every other suite).
    static func eventually(_ what: Comment, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out: \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Every stored line of `dir`'s log.
    static func storedLines(_ dir: TempDirectory) throws -> Set<String> {
        var lines = Set<String>()
        for file in LogReplay(directory: dir.path, logger: quietLogger).files() {
            try SegmentReader.forEachLine(path: file) { line, _ in lines.insert(String(decoding: line, as: UTF8.self)) }
        }
        return lines
    }

    func sink(_ storage: Storage) -> ClickHouseSink {
        ClickHouseSink(site: "default", storage: storage, client: ClickHouseClient(settings: storage.configuration.clickhouse),
                       cursor: storage.clickhouseCursor!, logger: quietLogger, maxBackoff: .milliseconds(500))
    }

    @Test func everyCommittedEventArrivesOnceThroughAnOutageAndAResendFromAnOldCursor() async throws {
        let clickhouse = FakeClickHouse()
        try await clickhouse.serve { url in
            let dir = TempDirectory()
            let storage = try Storage.open(Self.configuration(dir, url: url), logger: quietLogger)
            defer { storage.close() }
            let first = sink(storage)
            let running = Task { try await first.run() }
            for n in stride(from: 0, to: 200, by: 20) { _ = try await storage.ingestor.ingest(Self.batch(n, 20)) }
            try await Self.eventually("the first 200 events in ClickHouse") { clickhouse.finalRows.count == 200 }

            // ClickHouse refuses: the log keeps taking events, the lag shows them, nothing is lost.
            clickhouse.refusing.store(true, ordering: .relaxed)
            for n in stride(from: 200, to: 300, by: 20) { _ = try await storage.ingestor.ingest(Self.batch(n, 20)) }
            try await Self.eventually("the lag to count the 100 waiting events") { first.currentLag.events == 100 }
            #expect(first.currentLag.bytes > 0)
            #expect(clickhouse.finalRows.count == 200)
            clickhouse.refusing.store(false, ordering: .relaxed)
            try await Self.eventually("the sink to catch up") { clickhouse.finalRows.count == 300 && first.currentLag.events == 0 }
            running.cancel()
            _ = try? await running.value

            // A crash after ClickHouse took blocks but before the cursor moved: everything is sent again from an
            // old position. Rows keep their identity (id, or instance/segment/offset), so the table keeps one of each.
            let before = clickhouse.state.withLock { $0.rows.count }
            try storage.clickhouseCursor!.reset(to: LogPosition(seq: 1, offset: 0))
            let second = sink(storage)
            let again = Task { try await second.run() }
            try await Self.eventually("the resend to finish") { storage.clickhouseCursor!.current.position == storage.index.position }
            again.cancel()
            _ = try? await again.value
            let rows = clickhouse.finalRows
            #expect(rows.count == 300)
            #expect(Set(rows.values.map { $0["line"] as! String }) == (try Self.storedLines(dir)))
            #expect(rows.keys.filter { $0.hasPrefix("id:") }.count == 150)
            let resent = clickhouse.state.withLock { $0.rows.count } - before
            #expect(resent <= 300, "blocks whose token ClickHouse knows are dropped")
            // Columns: the dimensions, properties and the canonical line itself.
            let row = try #require(rows["id:e42"])
            #expect(row["page"] as? String == "/p/0" && row["utm_source"] as? String == "x" && row["user_id"] as? String == "u0")
            #expect(row["prop_keys"] as? [String] == ["n", "plan"] && row["prop_values"] as? [String] == ["42", #"pro "q""#])
            #expect((row["line"] as? String)?.hasPrefix(#"{"ts":""#) == true && row["site"] as? String == "default")
        }
    }

    /// The lag's count of waiting lines races the writer: the committed position it was given may name a segment
    /// the writer has closed since, while the active file already holds the next one's lines.
    @Test func theLagCountsAJustClosedSegmentAsClosed() {
        let dir = TempDirectory()
        let lines = (0..<3).map { #"{"n":\#($0)}"# + "\n" }.joined()
        FileManager.default.createFile(atPath: dir.path + "/analytics_events-20251001T000000-000002.ndjson", contents: Data(lines.utf8))
        FileManager.default.createFile(atPath: dir.path + "/" + SegmentName.active, contents: Data(String(repeating: #"{"next":true}"# + "\n", count: 5).utf8))
        let committed = LogPosition(seq: 2, offset: lines.utf8.count)
        #expect(ClickHouseSink.countLines(from: LogPosition(seq: 2, offset: 0), to: committed, directory: dir.path) == 3)
        #expect(ClickHouseSink.countLines(from: LogPosition(seq: 1, offset: 0), to: LogPosition(seq: 3, offset: 28), directory: dir.path) == 5)
    }

    @Test func erasureMovesTheCursorWithTheLinesAndDeletesTheUsersRows() async throws {
        let clickhouse = FakeClickHouse(version: "18.16.1")
        try await clickhouse.serve { url in
            let dir = TempDirectory()
            var configuration = Self.configuration(dir, url: url)
            configuration.rotateBytes = 1 << 20  // one segment: the erasure rewrites the segment the cursor is in
            let storage = try Storage.open(configuration, logger: quietLogger)
            defer { storage.close() }
            let sink = sink(storage)
            let running = Task { try await sink.run() }
            _ = try await storage.ingestor.ingest(Self.batch(0, 30) { $0 % 3 == 0 ? "gone" : "kept\($0)" })
            try await Self.eventually("30 rows") { clickhouse.finalRows.count == 30 }
            clickhouse.refusing.store(true, ordering: .relaxed)
            // Lines the sink has not shipped yet, after the erased user's: their offsets move with the rewrite.
            _ = try await storage.ingestor.ingest(Self.batch(30, 12) { "late\($0)" })
            try await Task.sleep(for: .milliseconds(300))
            let erased = try await storage.eraseUser("gone")
            #expect(erased == 10)
            #expect(storage.clickhouseCursor!.current.erasures == ["gone"])
            clickhouse.refusing.store(false, ordering: .relaxed)
            try await Self.eventually("the delete and the late rows") { clickhouse.finalRows.count == 32 && sink.currentLag.events == 0 }
            running.cancel()
            _ = try? await running.value
            #expect(storage.clickhouseCursor!.current.erasures.isEmpty)
            #expect(clickhouse.state.withLock { $0.deletes }.count == 1)
            #expect(clickhouse.state.withLock { $0.deletes.first ?? "" }.hasPrefix("ALTER TABLE telemetry.events DELETE WHERE site = 'default' AND user_id = 'gone'"))
            #expect(Set(clickhouse.finalRows.values.map { $0["line"] as! String }) == (try Self.storedLines(dir)))
            #expect(!clickhouse.finalRows.values.contains { $0["user_id"] as? String == "gone" })
        }
    }

    @Test func retentionKeepsWhatWasNotShippedUntilTheLagLimit() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-01T12:00:00Z")
        var configuration = Self.configuration(dir, url: "http://127.0.0.1:9")
        configuration.rawRetentionDays = 30
        configuration.clickhouse.lagLimitDays = 7
        let storage = try Storage.open(configuration, logger: quietLogger, now: clock.now)
        defer { storage.close() }
        _ = ClickHouseSink(site: "default", storage: storage, client: ClickHouseClient(settings: configuration.clickhouse),
                           cursor: storage.clickhouseCursor!, logger: quietLogger)
        for n in stride(from: 0, to: 100, by: 20) {
            let text = String(decoding: Self.batch(n, 20), as: UTF8.self)
                .replacingOccurrences(of: #""event_type""#, with: #""ts":"2025-10-01T10:00:00Z","event_type""#)
            _ = try await storage.ingestor.ingest(Array(text.utf8))
        }
        await storage.table.waitUntilLoaded()
        #expect(!LogReplay(directory: dir.path, logger: quietLogger).segments().isEmpty, "4 KiB segments: some are closed")
        clock.set("2025-11-05T12:00:00Z")  // past the 30 days of retention, within the 7 more days of the lag limit
        #expect(storage.maintenance.applyRetention().isEmpty, "unshipped segments are kept for the sink")
        clock.set("2025-11-09T12:00:00Z")  // past both
        #expect(!storage.maintenance.applyRetention().isEmpty)
        #expect(String(decoding: storage.metrics.render(), as: UTF8.self)
            .contains(#"telemetry_clickhouse_unshipped_segments_deleted_total{site="default"}"#))
    }

    @Test func theStatementFilesAreWhatTheDaemonRuns() throws {
        let root = URL(fileURLWithPath: packageRoot)
        let events = try String(contentsOf: root.appendingPathComponent("scripts/clickhouse/events.sql"), encoding: .utf8)
        let queries = try String(contentsOf: root.appendingPathComponent("scripts/clickhouse/queries.sql"), encoding: .utf8)
        let settings = TelemetryConfiguration().clickhouse
        #expect(events == ClickHouseStatements.schema(settings, major: 26) + ";\n", "run: telemetryd clickhouse schema > scripts/clickhouse/events.sql")
        #expect(queries == ClickHouseStatements.listing(settings), "run: telemetryd clickhouse sql > scripts/clickhouse/queries.sql")
        #expect(!queries.contains("uniq(") && queries.contains("uniqExactIf(user_id"), "distinct counts are exact")
        let old = ClickHouseStatements.schema(settings, major: 18)
        #expect(!old.contains("LowCardinality") && !old.contains("deduplication_window"))
    }

    @Test func filtersBecomeConditionsOnTheColumns() throws {
        let sql = ClickHouseSQL(table: "t.e", site: "blog")
        let scope = sql.scope(20_000, 20_006, try EventFilter(["country:GB|SE", "referrer!:(none)", "prop:plan:pro", "utm_source:(none)|x'y"]))
        let text = sql.source(scope)
        #expect(text.contains("site = 'blog'") && text.contains("date >= toDate('2024-10-04')") && text.contains("date <= toDate('2024-10-10')"))
        #expect(text.contains("((country != '' AND country IN ('GB', 'SE')))"))
        #expect(text.contains("NOT (NOT (referrer != ''))"))
        #expect(text.contains("prop_values[indexOf(prop_keys, 'plan')], '') IN ('pro')"))
        #expect(text.contains(#"utm_source IN ('x\'y')) OR NOT (utm_source != '')"#))
    }
}
