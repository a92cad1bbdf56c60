import Foundation
import Testing
@testable import Telemetry

/// The event table mirrors the raw log: what it answers after ingest, erasure and retention equals what a
/// table read afresh from the files answers (a restart).
@Suite struct EventTableTests {
    /// Every figure the table feeds, as one comparable text.
    static func figures(_ storage: Storage, end: String = "2025-10-21") async -> String {
        await storage.reader.scan(EventFilter()) { figures($0, end: end) }
    }

    static func figures(_ t: TableQuery, end: String = "2025-10-21") -> String {
        let end = CivilDate(iso: end)!.dayNumber
        let steps = [PathAnalysis.Step("page_view")!, PathAnalysis.Step("action:search")!, PathAnalysis.Step("conversion")!]
        var out: [String] = []
        for dimension in ["page", "entry_page", "exit_page", "referrer", "utm_campaign", "browser", "os", "device", "feature", "event_type", "prop:plan"] {
            let b = t.breakdown(Dimension(name: dimension)!, end - 40, end, top: 5, previous: (end - 130, end - 41))
            out.append("\(dimension) \(b.total) " + b.rows.map { "\($0.value ?? "null") \($0.counts) \($0.previous.map { "\($0)" } ?? "")" }.joined(separator: "; "))
        }
        let visits = t.visits(end - 40, end)
        out.append("visits \(visits.total) \(visits.days.map(\.1.visits))")
        out.append("funnel \(t.funnel(steps, end - 40, end, withinMs: 86_400_000))")
        out.append("experiment \(t.experiment("onboarding", goal: PathAnalysis.Step("conversion")!, end - 40, end).map { "\($0.name) \($0.users) \($0.converted)" })")
        out.append("features \(t.features(end - 40, end).map { "\($0.name) \($0.events) \($0.users)" })")
        out.append("usage \(t.dayIndex(end - 40, end).usage(end: CivilDate(dayNumber: end), days: 41, funnel: ["page_view"]))")
        return out.joined(separator: "\n")
    }

    /// Commits that arrive while the table loads are added once, after the log the load reads and in order: held
    /// in memory, or past the limit read back from the log, across rotations and from the active segment the
    /// writer keeps appending to.
    @Test(arguments: [Int.max, 1]) func commitsDuringTheLoadAreAddedOnceInLogOrder(pendingLimit: Int) async throws {
        let seed = testSeed()
        let dir = TempDirectory()
        let received = Timestamp.parse("2025-10-21T10:00:00Z")!
        let observer = CommitRecorder()
        let writer = try SegmentWriter(options: .init(directory: dir.path, rotateBytes: 4096), nextSeq: 1,
                                       now: ManualClock("2025-10-21T10:00:00Z").now, logger: quietLogger, observer: observer)
        let batches = try Self.batches(seed: seed, count: 80).map { text, dimensions in
            try Array(text.utf8).withUnsafeBufferPointer { try EventDecoder().decode($0, receivedAt: received, dimensions: dimensions) }
        }
        for batch in batches.prefix(40) { try await writer.append(batch) }
        let plan = EventTable.LoadPlan(directory: dir.path, nextSeq: SegmentRotation.nextSeq(in: dir.path), logger: quietLogger)
        observer.commits.withLock { $0 = [] }
        for batch in batches.dropFirst(40) { try await writer.append(batch) }
        let during = observer.commits.withLock { $0 }
        #expect(Set(during.map(\.position.seq)).count > 2, "the commits during the load span rotations, seed \(seed)")

        let hasher = SipHash(key: Array(repeating: 7, count: 16))
        let table = EventTable(hasher: hasher, pendingLimit: pendingLimit)
        table.apply(Array(during.prefix(10)))
        table.apply(Array(during.dropFirst(10)))
        table.startLoading(plan, logger: quietLogger)
        await table.waitUntilLoaded()
        writer.close()

        let whole = EventTable(hasher: hasher)
        whole.startLoading(.init(directory: dir.path, nextSeq: SegmentRotation.nextSeq(in: dir.path), logger: quietLogger), logger: quietLogger)
        await whole.waitUntilLoaded()
        #expect(table.eventCount == batches.reduce(0) { $0 + $1.records.count }, "seed \(seed)")
        #expect(table.eventCount == whole.eventCount)
        let loaded = Self.figures(TableQuery(table.snapshot, filter: EventFilter(), hasher: hasher))
        #expect(loaded == Self.figures(TableQuery(whole.snapshot, filter: EventFilter(), hasher: hasher)), "seed \(seed)")
    }

    /// Seeded batches over 40 days: users, sessions, pages, referrers, properties and an experiment.
    static func batches(seed: UInt64, count: Int) -> [(String, RequestDimensions)] {
        var rng = SplitMix(state: seed)
        let agents = [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        ]
        return (0..<count).map { b in
            let events = (0..<(1 + rng.next(20))).map { _ -> String in
                let user = rng.next(10) == 0 ? "" : #""user_id":"u\#(rng.next(60))","#
                let day = 1 + rng.next(40)
                let ts = String(format: "2025-%02d-%02dT%02d:%02d:00Z", day <= 30 ? 9 : 10, day <= 30 ? day : day - 30, rng.next(24), rng.next(60))
                let type = ["page_view", "page_view", "action", "conversion"][rng.next(4)]
                let feature = type == "action" ? #""feature":"\#(["search", "export"][rng.next(2)])","# : ""
                let url = "/p\(rng.next(12))" + (rng.next(5) == 0 ? "?utm_campaign=c\(rng.next(3))" : "")
                let referrer = rng.next(3) == 0 ? #""referrer":"https://www.site\#(rng.next(4)).example/x","# : ""
                let metadata = rng.next(4) == 0 ? #","metadata":{"plan":"\#(["free", "pro"][rng.next(2)])","experiment":"onboarding","variant":"\#(["control", "b"][rng.next(2)])"}"# : ""
                return #"{"event_type":"\#(type)",\#(user)\#(feature)\#(referrer)"session_id":"s\#(rng.next(90))","url":"\#(url)","ts":"\#(ts)"\#(metadata)}"#
            }
            let agent = UserAgent(agents[b % agents.count])
            return (#"{"events":[\#(events.joined(separator: ","))]}"#, RequestDimensions(userAgent: agent, country: ["DE", "US", nil][b % 3]))
        }
    }

    func configuration(_ dir: TempDirectory) -> TelemetryConfiguration {
        var c = testConfiguration(dir)
        c.rotateBytes = 4096
        return c
    }

    @Test func restartErasureAndRetentionKeepTheTableEqualToTheRawLog() async throws {
        let seed = testSeed()
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T10:00:00Z")
        var storage = try Storage.open(configuration(dir), logger: quietLogger, now: clock.now)
        for (body, dims) in Self.batches(seed: seed, count: 60) { _ = try await storage.ingestor.ingest(Array(body.utf8), dimensions: dims) }
        let live = await Self.figures(storage)
        #expect(live.contains("Chrome") && live.contains("site1.example") && live.contains("c2"), "seed \(seed)")
        storage.close()

        storage = try Storage.open(configuration(dir), logger: quietLogger, now: clock.now)
        #expect(await Self.figures(storage) == live, "restart, seed \(seed)")

        let erased = try await storage.eraseUser("u7")
        #expect(erased > 0, "seed \(seed)")
        let afterErasure = await Self.figures(storage)
        #expect(afterErasure != live)
        storage.close()
        storage = try Storage.open(configuration(dir), logger: quietLogger, now: clock.now)
        #expect(await Self.figures(storage) == afterErasure, "erasure, seed \(seed)")

        // December events in a segment of their own (the date changes before the next commit rotates it), then
        // retention at mid-January deletes the closed segments whose newest event is older than 90 days: the
        // September and October ones.
        clock.set("2025-12-20T10:00:00Z")
        for day in 1...9 {
            _ = try await storage.ingestor.ingest(Array(#"{"events":[{"event_type":"page_view","user_id":"u\#(day)","session_id":"d\#(day)","url":"/dec\#(day % 3)","ts":"2025-12-0\#(day)T10:00:00Z","metadata":{"plan":"pro"}},{"event_type":"action","feature":"search","user_id":"u\#(day)","session_id":"d\#(day)","ts":"2025-12-0\#(day)T10:05:00Z"}]}"#.utf8))
        }
        clock.set("2025-12-21T10:00:00Z")
        _ = try await storage.ingestor.ingest(Array(#"{"events":[{"event_type":"page_view","user_id":"late","url":"/dec0"}]}"#.utf8))
        clock.set("2026-01-15T10:00:00Z")
        let beforeRetention = await Self.figures(storage, end: "2025-12-31")
        let eventsBefore = storage.table.eventCount
        let deleted = storage.maintenance.applyRetention()
        #expect(!deleted.isEmpty, "seed \(seed)")
        #expect(storage.table.eventCount < eventsBefore, "seed \(seed)")
        let afterRetention = await Self.figures(storage, end: "2025-12-31")
        #expect(afterRetention != beforeRetention && afterRetention.contains("/dec1"), "seed \(seed)")
        storage.close()
        storage = try Storage.open(configuration(dir), logger: quietLogger, now: clock.now)
        #expect(await Self.figures(storage, end: "2025-12-31") == afterRetention, "retention, seed \(seed)")
        storage.close()
    }

    /// Every unfiltered breakdown and the visits, from what is kept of each date and from the rows, as one
    /// comparable text.
    static func breakdowns(_ storage: Storage, end: Int) async -> (grouped: String, rows: String) {
        await storage.reader.scan(EventFilter()) { t in
            func text(_ t: TableQuery) -> String {
                let visits = t.visits(end - 20, end)
                return ["page", "referrer", "utm_campaign", "browser", "device", "country", "feature", "event_type", "prop:plan"].map { name in
                    let b = t.breakdown(Dimension(name: name)!, end - 20, end, top: 3, previous: (end - 41, end - 21))
                    return "\(name) \(b.total) " + b.rows.map { "\($0.value ?? "null") \($0.counts) \($0.previous.map { "\($0)" } ?? "")" }.joined(separator: "; ")
                }.joined(separator: "\n") + "\nvisits \(visits.total) \(visits.days.map { "\($0.1)" })"
            }
            return (text(t), text(TableQuery(t.s, filter: EventFilter(), hasher: t.hasher)))
        }
    }

    /// A breakdown counts users only for the values that can rank among the shown rows (by events, the most
    /// first, until one has fewer than the `top`-th most users); its rows and `(other)` equal those of counting
    /// every value, ties at the cut included, for every dimension, filter and `top`.
    @Test func aBreakdownThatCountsOnlyTheValuesThatCanRankAnswersAsCountingAll() async throws {
        let seed = testSeed()
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T10:00:00Z")
        let storage = try Storage.open(configuration(dir), logger: quietLogger, now: clock.now)
        defer { storage.close() }
        for (body, dims) in Self.batches(seed: seed, count: 120) { _ = try await storage.ingestor.ingest(Array(body.utf8), dimensions: dims) }
        // A long tail: values with an event or two, which only `(other)` needs.
        let tail = (0..<40).map { k in
            #"{"event_type":"page_view","user_id":"r\#(k % 7)","session_id":"t\#(k)","url":"/rare\#(k % 25)?utm_campaign=rare\#(k % 30)","referrer":"https://r\#(k % 20).example/","ts":"2025-10-\#(10 + k % 10)T12:00:00Z","metadata":{"plan":"p\#(k % 15)"}}"#
        }
        _ = try await storage.ingestor.ingest(Array(#"{"events":[\#(tail.joined(separator: ","))]}"#.utf8), dimensions: .none)
        let end = CivilDate(iso: "2025-10-21")!.dayNumber
        for filter in [[], ["device:desktop"], ["page!:/p1|/p2"]] {
            let parsed = try EventFilter(filter)
            await storage.reader.scan(parsed) { t in
                for name in ["page", "entry_page", "referrer", "utm_campaign", "browser", "country", "feature", "event_type", "prop:plan"] {
                    let dimension = Dimension(name: name)!
                    for top in [1, 2, 3, 5, 8, 13] {
                        let got = t.breakdown(dimension, end - 30, end, top: top, previous: nil)
                        // Counting every value, then ranking them all.
                        let g = t.grouped(dimension, end - 30, end)
                        let value = t.reader(for: dimension, visits: nil)
                        var all = t.counts(g, (0..<g.codes).filter { g.events($0) > 0 }).map { (code: $0.code, value: $0.code == 0 ? nil : value.name(UInt32($0.code)), counts: $0.counts) }
                        all.sort { Breakdown.ranksBefore(($0.value, $0.counts), ($1.value, $1.counts)) }
                        var want = all.prefix(top).map { "\($0.value ?? "null") \($0.counts)" }
                        if all.count > top { want.append("(other) \(t.union(g, all.dropFirst(top).map(\.code)))") }
                        #expect(got.rows.map { "\($0.value ?? "null") \($0.counts)" } == want, "\(name) top \(top) filter \(filter) seed \(seed)")
                    }
                }
            }
        }
    }

    /// A visit whose events fall on both sides of where a scan splits its dates (one half per core) is one
    /// visit, on the date of its first event, from what is kept of each date and from the rows alike.
    @Test func aVisitAcrossTheScansSplitIsOneVisit() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T10:00:00Z")
        let storage = try Storage.open(configuration(dir), logger: quietLogger, now: clock.now)
        defer { storage.close() }
        func event(_ session: String, _ ts: String) -> String {
            #"{"event_type":"page_view","user_id":"u-\#(session)","session_id":"\#(session)","url":"/a","ts":"\#(ts)"}"#
        }
        // Four rows on the first date and two on the second: the split falls between them.
        let events = [event("s1", "2025-10-20T23:50:00Z"), event("s2", "2025-10-20T10:00:00Z"), event("s2", "2025-10-20T10:05:00Z"),
                      event("s3", "2025-10-20T12:00:00Z"), event("s1", "2025-10-21T00:10:00Z"), event("s4", "2025-10-21T09:00:00Z")]
        _ = try await storage.ingestor.ingest(Array(#"{"events":[\#(events.joined(separator: ","))]}"#.utf8), dimensions: .none)
        let end = CivilDate(iso: "2025-10-21")!.dayNumber
        let answers = await storage.reader.scan(EventFilter()) { t in
            [t.visits(end - 1, end), TableQuery(t.s, filter: EventFilter(), hasher: t.hasher).visits(end - 1, end)]
        }
        for (total, days) in answers {
            #expect(total.visits == 4)
            #expect(total.bounceRate == 0.5)
            #expect(total.durationMeanSeconds == 375)
            #expect(total.durationMedianSeconds == 150)
            #expect(total.pagesPerVisit == 1.5)
            #expect(days.map(\.1.visits) == [3, 1])
        }
    }

    @Test func whatIsKeptOfEachDateAnswersAsTheRowsDoAsLateEventsArrive() async throws {
        let seed = testSeed()
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T10:00:00Z")
        var storage = try Storage.open(configuration(dir), logger: quietLogger, now: clock.now)
        defer { storage.close() }
        let end = CivilDate(iso: "2025-10-21")!.dayNumber
        let batches = Self.batches(seed: seed, count: 80)
        for (body, dims) in batches[..<40] { _ = try await storage.ingestor.ingest(Array(body.utf8), dimensions: dims) }
        // A restart: the load packs every date, which the late events below then reopen.
        storage.close()
        storage = try Storage.open(configuration(dir), logger: quietLogger, now: clock.now)
        let first = await Self.breakdowns(storage, end: end)
        #expect(first.grouped == first.rows, "seed \(seed)")
        #expect(storage.table.caches.groups.memoryBytes > 0 && storage.table.caches.members.memoryBytes > 0 && storage.table.caches.visits.memoryBytes > 0, "kept")
        // Late events land on dates whose groups are kept: the next answer counts them.
        for (body, dims) in batches[40...] { _ = try await storage.ingestor.ingest(Array(body.utf8), dimensions: dims) }
        let second = await Self.breakdowns(storage, end: end)
        #expect(second.grouped == second.rows, "seed \(seed)")
        #expect(second.grouped != first.grouped, "seed \(seed)")
        // Asked again, from the kept groups only.
        #expect(await Self.breakdowns(storage, end: end).grouped == second.rows, "seed \(seed)")
        // Once no late rows have come for a while, the dates they reopened are packed again, answering the same.
        func reopened() async -> Bool {
            await storage.reader.scan(EventFilter()) { t in
                let newest = t.s.days.keys.max() ?? end
                return t.s.days.contains { day, d in day < newest - 1 && !d.isCompact }
            }
        }
        #expect(await reopened(), "seed \(seed): late rows reopened a date")
        // Commits for the newest date the batches have (October 10) only: each apply counts towards the quiet
        // spell of the dates before yesterday.
        let quiet = #"{"events":[{"event_type":"page_view","user_id":"u1","session_id":"s1","url":"/p1","ts":"2025-10-10T09:00:00Z"}]}"#
        var ingests = 0
        while await reopened(), ingests < 20 * EventTable.idleAppliesBeforePacking {
            _ = try await storage.ingestor.ingest(Array(quiet.utf8), dimensions: RequestDimensions(userAgent: nil, country: nil))
            ingests += 1
        }
        let stillOpen = await reopened()
        #expect((1...EventTable.idleAppliesBeforePacking).contains(ingests) && !stillOpen, "seed \(seed): \(ingests) commits")
        let packed = await Self.breakdowns(storage, end: end)
        #expect(packed.grouped == packed.rows, "seed \(seed)")
    }

    /// A stored line the fast path gives up on midway (a number where it expects a string) is read in full; the
    /// run of request dimensions it had begun must not leak into the next line.
    @Test func aLineTheFastPathGivesUpOnLeavesNothingForTheNext() throws {
        var s = EventTable.State()
        var parser = LineParser()
        let hasher = SipHash(key: Array(repeating: 7, count: 16))
        let lines = [
            #"{"ts":"2025-10-20T10:00:00.000Z","event_type":"a","browser":"Chrome","os":"Windows","n":5}"#,
            #"{"ts":"2025-10-20T10:00:01.000Z","event_type":"b"}"#,
            #"{"ts":"2025-10-20T10:00:02.000Z","event_type":"c","browser":"Firefox","os":"Linux"}"#,
        ]
        for line in lines { Array(line.utf8).withUnsafeBufferPointer { parser.add($0, seq: 1, to: &s, hasher: hasher) } }
        let d = try #require(s.days[CivilDate(iso: "2025-10-20")!.dayNumber])
        let browsers = d.client.map { id -> String in
            let code = s.contexts[Dimension.ContextSlot.Part.client.rawValue].value(Int(id), .browser)
            return code == 0 ? "-" : String(decoding: s.contextValues[Dimension.ContextSlot.browser.rawValue].bytes(Int(code) - 1), as: UTF8.self)
        }
        #expect(browsers == ["Chrome", "-", "Firefox"])
    }
}

/// Keeps every commit the writer reports.
final class CommitRecorder: CommitObserver {
    let commits = Locked<[IndexApplier.Commit]>([])

    func committed(_ batches: [DecodedBatch], through position: LogPosition) {
        commits.withLock { $0.append(IndexApplier.Commit(batches: batches, position: position)) }
    }
}
