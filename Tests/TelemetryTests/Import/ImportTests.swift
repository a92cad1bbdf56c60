import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import HummingbirdTesting
import Testing
@testable import Telemetry

/// `telemetryd import`: history in telemetryd's own format keeps every dimension (the imported site answers
/// exactly as the one it was exported from), EchoPilot's format is decoded as the endpoint would, a second run
/// adds nothing, and the real binary imports offline and through a running daemon.
@Suite struct ImportTests {
    static let key: HTTPFields = [.init("X-Dash-Key")!: "test-key"]

    /// Every answer the comparison looks at, as text, from one storage.
    func answers(_ storage: Storage, end: String) async throws -> [String] {
        let out = Locked<[String]>([])
        try await storage.application().test(.router) { client in
            var queries = ["usage?days=40&end=\(end)", "daily?days=40&end=\(end)", "visits?days=40&end=\(end)", "hours?days=40&end=\(end)",
                           "retention?weeks=6&end=\(end)", "funnel?steps=page_view,signup&days=40&end=\(end)"]
            for by in Dimension.names where !by.hasPrefix("prop") {
                queries.append("breakdown?by=\(by)&days=40&end=\(end)&top=1000")
            }
            queries += ["breakdown?by=prop%3Aplan&days=40&end=\(end)", "breakdown?by=page&days=40&end=\(end)&filter=device%3Amobile"]
            for q in queries {
                let r = try await client.execute(uri: "/api/analytics/" + q, method: .get, headers: Self.key)
                var json = r.json
                json["ts"] = nil
                let text = q + " " + String(decoding: try JSONSerialization.data(withJSONObject: json, options: .sortedKeys), as: UTF8.self)
                out.withLock { $0.append(text) }
            }
        }
        return out.withLock { $0 }
    }

    func importFiles(_ files: [String], into storage: Storage) async throws -> EventImporter.Summary {
        let importer = try EventImporter(storage: storage)
        var pending = EventImporter.Pending()
        for file in files {
            var lines: [[UInt8]] = []
            try SegmentReader.forEachLine(path: file, { line, _ in lines.append(Array(line)) })
            for line in lines { try await importer.add(line, to: &pending) }
        }
        try await importer.flush(&pending)
        return pending.summary
    }

    @Test(.enabled(if: pythonCanImport("mmdb_writer") || onCI, "needs Python's mmdb-writer: run scripts/setup"))
    func ownFormatKeepsEveryDimensionAndASecondRunAddsNothing() async throws {
        let seed = testSeed() % 10_000
        let (a, b) = (TempDirectory(), TempDirectory())
        let clock = ManualClock("2025-10-21T10:00:00Z")
        let generated = try await runPythonScript("scripts/bench/gen_events.py", [
            "--web", "--days", "40", "--dau", "40", "--users", "200", "--per-user", "3", "--end", "2025-10-21", "--batches", "30", "--seed", "\(seed)"])
        let countries = a.path + "/../import-countries-\(seed).mmdb"
        _ = try await runPythonScript("scripts/lib/make_mmdb.py", [countries, try await runPythonScript("scripts/bench/gen_events.py", ["--networks"])])
        let source = DimensionSource(enabled: true, countries: try CountryDatabase(path: countries))
        let original = try Storage.open(testConfiguration(a), logger: quietLogger, now: clock.now)
        var stored = 0
        for line in generated.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 2)
            stored += try await original.ingestor.ingest(Array(parts[2].utf8), dimensions: source.dimensions(userAgent: String(parts[0]), client: String(parts[1]))).logged
        }
        let want = try await answers(original, end: "2025-10-21")
        let files = LogReplay(directory: a.path, logger: quietLogger).files()
        original.close()

        let imported = try Storage.open(testConfiguration(b), logger: quietLogger, now: clock.now)
        let first = try await importFiles(files, into: imported)
        #expect(first == EventImporter.Summary(imported: stored), "seed \(seed)")
        let again = try await importFiles(files, into: imported)
        #expect(again == EventImporter.Summary(duplicates: stored), "seed \(seed)")
        let got = try await answers(imported, end: "2025-10-21")
        for (g, w) in zip(got, want) { #expect(g == w, "seed \(seed)") }
        // And against the independent reference, on the files the import wrote.
        if pythonCanImport("duckdb") || onCI {
            let importedFiles = LogReplay(directory: b.path, logger: quietLogger).files()
            try await imported.application().test(.router) { client in
                for (query, arguments) in [
                    ("usage?days=30&end=2025-10-21", ["usage", "--days", "30", "--end", "2025-10-21"]),
                    ("visits?days=30&end=2025-10-21", ["visits", "--days", "30", "--end", "2025-10-21"]),
                    ("breakdown?by=referrer&days=30&end=2025-10-21&top=20", ["breakdown", "--by", "referrer", "--days", "30", "--end", "2025-10-21", "--top", "20"]),
                    ("breakdown?by=country&days=30&end=2025-10-21&filter=device%3Amobile", ["breakdown", "--by", "country", "--days", "30", "--end", "2025-10-21", "--filter", "device:mobile"]),
                ] {
                    var got = try await client.execute(uri: "/api/analytics/" + query, method: .get, headers: Self.key).json
                    got["ok"] = nil
                    got["ts"] = nil
                    var want = try JSONSerialization.jsonObject(with: Data(try await runPythonScript("scripts/bench/oracle.py", arguments + importedFiles).utf8)) as! [String: Any]
                    want["ok"] = nil
                    DimensionsGoldenTests.expectSame(got, want, "imported: \(query) seed=\(seed)")
                }
            }
        }
        imported.close()
    }

    @Test func echoPilotLinesAreDecodedAsTheEndpointWouldAndCounted() async throws {
        let dir = TempDirectory()
        let file = dir.path + "/analytics_events_old.ndjson"
        try """
        {"event_type":"page_view","user_id":"user123","feature":"dashboard","metadata":{"referrer":"https://www.Example.com/a","plan":1.50},"ts":"2025-10-01T10:00:00Z","url":"/dashboard?utm_campaign=fall"}
        {"event_type":"action","user_id":"user123","feature":"export","metadata":{},"ts":"2025-10-02T11:00:00Z"}
        {"event_type":"action","user_id":"u9","ts":"2023-01-01T00:00:00Z"}

        {"event_type":"no spaces allowed"}
        [1,2]
        {"event_type":"signup","user_id":"u2","ts":1760000000000}
        {"event_type":"action","id":null,"user_id":"n1","ts":"2025-10-03T10:00:00Z"}

        """.write(toFile: file, atomically: true, encoding: .utf8)
        let data = TempDirectory()
        let storage = try Storage.open(testConfiguration(data), logger: quietLogger, now: ManualClock().now)
        let summary = try await importFiles([file], into: storage)
        #expect(summary == EventImporter.Summary(imported: 4, ignored: 1, rejected: 2))
        let lines = data.lines().map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(lines[0]["ts"] as? String == "2025-10-01T10:00:00.000Z")
        #expect(lines[0]["referrer"] as? String == "example.com")
        #expect(lines[0]["utm_campaign"] as? String == "fall")
        #expect(lines[0]["page"] as? String == "/dashboard")
        #expect(data.lines()[0].contains(#""plan":1.50"#))
        #expect((lines[1]["id"] as? String)?.hasPrefix("import-") == true)
        #expect(try await importFiles([file], into: storage) == EventImporter.Summary(duplicates: 4, ignored: 1, rejected: 2))
        storage.close()
    }

    @Test func theRealBinaryImportsOfflineAndThroughARunningDaemon() throws {
        let dir = TempDirectory()
        let file = dir.path + "/history.ndjson"
        let today = CivilDate(epochMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        let events = (0..<250).map { #"{"event_type":"page_view","user_id":"u\#($0 % 40)","url":"/p\#($0 % 7)","ts":"\#(today.adding(days: -($0 % 20)))T10:00:00Z"}"# }
        try (events.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        // Offline, twice.
        #expect(try runTelemetryd(["import", "--data-dir", dir.path + "/offline", file]) == (0, "imported 250, duplicates 0, ignored 0, rejected 0"))
        #expect(try runTelemetryd(["import", "--data-dir", dir.path + "/offline", file]) == (0, "imported 0, duplicates 250, ignored 0, rejected 0"))
        // Through a running daemon: the offline path refuses its directory; --url goes past the rate limiter.
        let daemon = try Daemon(dataDirectory: dir.path + "/live", arguments: ["--dash-key", "k", "--rate-limit", "1"])
        defer { _ = daemon.terminate() }
        #expect(try runTelemetryd(["import", "--data-dir", dir.path + "/live", file]).status == 1)
        #expect(try runTelemetryd(["import", "--url", "http://127.0.0.1:\(daemon.port)", "--dash-key", "k", file]) == (0, "imported 250, duplicates 0, ignored 0, rejected 0"))
        #expect(try runTelemetryd(["import", "--url", "http://127.0.0.1:\(daemon.port)", "--dash-key", "k", file]) == (0, "imported 0, duplicates 250, ignored 0, rejected 0"))
        #expect(try runTelemetryd(["import", "--url", "http://127.0.0.1:\(daemon.port)", "--dash-key", "wrong", file]).status == 1)
        let usage = daemon.http.get("/api/analytics/usage?days=30", headers: ["X-Dash-Key": "k"])
        #expect(usage?.body.contains(#""mau":40"#) == true)
    }
}
