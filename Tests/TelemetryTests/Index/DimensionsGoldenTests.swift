import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Telemetry

/// Every dimension endpoint, with and without filters, against scripts/bench/oracle.py (DuckDB) on the files the
/// daemon wrote from generated web traffic: thousands of pages, hundreds of referrers and campaigns, several
/// countries, long-tailed properties, sessions across midnight, anonymous, late and out-of-order events.
@Suite struct DimensionsGoldenTests {
    static let key: HTTPFields = [.init("X-Dash-Key")!: "test-key"]
    static let end = "2025-10-21"

    @Test(.enabled(if: pythonCanImport("duckdb") && pythonCanImport("mmdb_writer") || onCI,
                   "needs Python's duckdb and mmdb-writer modules: run scripts/setup"))
    func everyDimensionAnswerMatchesTheDuckDBOracle() async throws {
        let seed = testSeed() % 10_000
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T10:00:00Z")
        let generated = try await runPythonScript("scripts/bench/gen_events.py", [
            "--web", "--days", "40", "--dau", "60", "--users", "300", "--per-user", "3", "--end", Self.end, "--batches", "50", "--seed", "\(seed)"])
        let countries = dir.path + "/../countries-\(seed).mmdb"
        _ = try await runPythonScript("scripts/lib/make_mmdb.py", [countries, try await runPythonScript("scripts/bench/gen_events.py", ["--networks"])])
        let source = DimensionSource(enabled: true, countries: try CountryDatabase(path: countries))
        let storage = try Storage.open(testConfiguration(dir), logger: quietLogger, now: clock.now)
        for line in generated.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 2)
            let dimensions = source.dimensions(userAgent: String(parts[0]), client: String(parts[1]))
            _ = try await storage.ingestor.ingest(Array(parts[2].utf8), dimensions: dimensions)
        }
        // Late, out-of-order and offset events, one without a session, and a metadata referrer.
        _ = try await storage.ingestor.ingest(Array(#"{"events":[{"event_type":"page_view","user_id":"late","session_id":"late1","url":"/pricing?utm_source=late","ts":"2025-09-20T23:30:00-02:00"},{"event_type":"action","ts":"2025-10-01T00:30:00+01:00","feature":"billing","metadata":{"referrer":"https://www.Example.org/x","plan":"pro"}}]}"#.utf8))
        let files = dir.files().filter { $0.hasPrefix("analytics_events") }.map { dir.path + "/" + $0 }

        try await storage.application().test(.router) { client in
            func api(_ query: String) async throws -> [String: Any] {
                let r = try await client.execute(uri: "/api/analytics/" + query, method: .get, headers: Self.key)
                #expect(r.status == .ok, "\(query): \(String(buffer: r.body))")
                var json = r.json
                json["ok"] = nil
                json["ts"] = nil
                return json
            }
            func oracle(_ arguments: [String]) async throws -> [String: Any] {
                let text = try await runPythonScript("scripts/bench/oracle.py", arguments + files)
                var json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
                json["ok"] = nil
                return json
            }
            func filterQuery(_ filters: [String]) -> String {
                filters.map { "&filter=" + $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }.joined()
            }
            func filterArguments(_ filters: [String]) -> [String] { filters.flatMap { ["--filter", $0] } }

            // Filter values the data has: the top page, referrer and experiment.
            let topPage = (try await api("breakdown?by=page&days=40&end=\(Self.end)")["values"] as! [[String: Any]]).compactMap { $0["value"] as? String }.first!
            let topReferrer = (try await api("breakdown?by=referrer&days=40&end=\(Self.end)")["values"] as! [[String: Any]]).compactMap { $0["value"] as? String }.first!
            let experiment = (try await api("breakdown?by=prop:experiment&days=40&end=\(Self.end)")["values"] as! [[String: Any]]).compactMap { $0["value"] as? String }.first!
            let filterSets: [[String]] = [
                [], ["device:mobile"], ["country!:US|GB"], ["page:\(topPage)|/pricing", "browser!:Safari"],
                ["referrer:(none)"], ["referrer:\(topReferrer)"], ["prop:plan:pro"], ["entry_page:\(topPage)"], ["utm_source!:(none)"],
            ]
            let dimensions = ["page", "entry_page", "exit_page", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                              "browser", "browser_version", "os", "os_version", "device", "country", "channel", "platform", "client_version",
                              "feature", "event_type", "prop:plan", "prop:variant", "prop:seats"]
            for (k, dimension) in dimensions.enumerated() {
                let filters = filterSets[k % filterSets.count]
                let days = [30, 7, 40, 1][k % 4]
                let compare = k % 3 == 0
                let top = [10, 50, 3][k % 3]
                let got = try await api("breakdown?by=\(dimension.replacingOccurrences(of: ":", with: "%3A"))&days=\(days)&end=\(Self.end)&top=\(top)\(compare ? "&compare=previous" : "")" + filterQuery(filters))
                let want = try await oracle(["breakdown", "--by", dimension, "--days", "\(days)", "--end", Self.end, "--top", "\(top)"] + (compare ? ["--compare"] : []) + filterArguments(filters))
                Self.expectSame(got, want, "breakdown by \(dimension) days=\(days) top=\(top) compare=\(compare) filters=\(filters) seed=\(seed)")
            }
            for filters in filterSets {
                let q = "days=30&end=\(Self.end)" + filterQuery(filters)
                let args = ["--days", "30", "--end", Self.end] + filterArguments(filters)
                Self.expectSame(try await api("visits?" + q), try await oracle(["visits"] + args), "visits \(filters) seed=\(seed)")
                Self.expectSame(try await api("usage?" + q), try await oracle(["usage"] + args), "usage \(filters) seed=\(seed)")
                Self.expectSame(try await api("hours?" + q), try await oracle(["hours"] + args), "hours \(filters) seed=\(seed)")
            }
            for filters in filterSets.prefix(4) {
                let q = "days=30&end=\(Self.end)" + filterQuery(filters)
                let args = ["--days", "30", "--end", Self.end] + filterArguments(filters)
                Self.expectSame(try await api("daily?" + q), try await oracle(["daily"] + args), "daily \(filters) seed=\(seed)")
                Self.expectSame(try await api("funnel?steps=page_view,action,conversion&within=3600&" + q),
                                try await oracle(["funnel", "--steps", "page_view,action,conversion", "--within", "3600"] + args), "funnel \(filters) seed=\(seed)")
                Self.expectSame(try await api("experiments/\(experiment)?goal=conversion&" + q),
                                try await oracle(["experiment", experiment, "--goal", "conversion"] + args), "experiment \(filters) seed=\(seed)")
                Self.expectSame(try await api("retention?weeks=6&end=\(Self.end)" + filterQuery(filters)),
                                try await oracle(["retention", "--weeks", "6", "--end", Self.end] + filterArguments(filters)), "retention \(filters) seed=\(seed)")
                let csv = try await client.execute(uri: "/api/analytics/features.csv?" + q, method: .get, headers: Self.key)
                let wantCSV = try await runPythonScript("scripts/bench/oracle.py", ["features", "--csv"] + args + files)
                #expect(String(buffer: csv.body) == wantCSV,
                        "features.csv \(filters) seed=\(seed)")
            }
        }
        storage.close()
    }

    /// The oracle's JSON values in the daemon's answer; numbers equal to the 4 places the answers round to.
    static func expectSame(_ got: Any, _ want: Any, _ context: String, path: String = "") {
        switch (got, want) {
        case let (g as [String: Any], w as [String: Any]):
            // The oracle answers every key it computes (daily: users and events only).
            #expect(Set(w.keys).isSubset(of: g.keys), "\(context) \(path): keys \(g.keys.sorted()) vs \(w.keys.sorted())")
            for (k, v) in w { if let gv = g[k] { expectSame(gv, v, context, path: path + "." + k) } }
        case let (g as [Any], w as [Any]):
            #expect(g.count == w.count, "\(context) \(path): \(g.count) vs \(w.count) items: \(g.prefix(3)) vs \(w.prefix(3))")
            for (i, (a, b)) in zip(g, w).enumerated() { expectSame(a, b, context, path: path + "[\(i)]") }
        case let (g as NSNumber, w as NSNumber):
            #expect(abs(g.doubleValue - w.doubleValue) < 0.000_101, "\(context) \(path): \(g) vs \(w)")
        case (is NSNull, is NSNull):
            break
        case let (g as String, w as String):
            #expect(g == w, "\(context) \(path)")
        default:
            Issue.record("\(context) \(path): \(got) vs \(want)")
        }
    }
}
