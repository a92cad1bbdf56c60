import Foundation
import Testing
@testable import Telemetry

/// Runs `../shared/bench` scripts; nil when Python or duckdb is missing (an error on CI, where scripts/test installs them).
func runPython(_ arguments: [String]) throws -> (out: String, err: String)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        if errors.contains("No module named 'duckdb'") && ProcessInfo.processInfo.environment["CI"] == nil { return nil }
        throw NSError(domain: "python", code: Int(process.terminationStatus), userInfo: [NSLocalizedDescriptionKey: errors])
    }
    return (String(decoding: data, as: UTF8.self), errors)
}

let benchDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("../shared/bench").standardized.path
}()

@Suite struct OracleGoldenTests {
    @Test func usageAndDailyMatchTheDuckDBOracle() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T10:00:00Z")
        let gen = benchDirectory + "/gen_events.py"
        guard let generated = try runPython([gen, "--days", "40", "--dau", "150", "--users", "900", "--per-user", "3",
                                              "--end", "2025-10-21", "--batches", "100", "--seed", "3"])
        else { return }
        let app = try TelemetryApp(configuration: testConfiguration(dir), logger: quietLogger, now: clock.now)
        for line in generated.out.split(separator: "\n") { _ = try await app.ingestor.ingest(Array(line.utf8)) }
        // Late events and events with offsets arrive out of order.
        _ = try await app.ingestor.ingest(Array(#"{"events":[{"event_type":"signup","user_id":"late","ts":"2025-09-20T23:30:00-02:00"},{"event_type":"action","ts":"2025-10-01T00:30:00+01:00","feature":"billing"}]}"#.utf8))
        try app.close()
        let files = dir.files().filter { $0.hasPrefix("analytics_events") }.map { dir.path + "/" + $0 }
        for (days, end) in [(1, "2025-10-21"), (7, "2025-10-21"), (30, "2025-10-21"), (365, "2025-10-21"), (10, "2025-09-25"), (30, "2025-08-01")] {
            guard let oracle = try runPython([benchDirectory + "/oracle.py", "usage", "--days", "\(days)", "--end", end] + files) else { return }
            let want = try JSONSerialization.jsonObject(with: Data(oracle.out.utf8)) as! [String: Any]
            let got = app.index.usage(end: CivilDate(iso: end)!, days: days, funnel: ["page_view", "action", "conversion"])
            #expect(abs(got.dau - (want["dau"] as! Double)) < 0.051, "dau days=\(days) end=\(end)")
            #expect(abs(got.wau - (want["wau"] as! Double)) < 0.051, "wau days=\(days) end=\(end)")
            #expect(got.mau == want["mau"] as! Int)
            #expect(got.totalEvents == want["total_events"] as! Int)
            #expect(got.uniqueDays == want["unique_days"] as! Int)
            #expect(got.uniqueWeeks == want["unique_weeks"] as! Int)
            // Key order matters: JSONSerialization loses it, so compare the oracle's text order.
            let wantFeatures = Self.orderedKeys(oracle.out, object: "feature_usage")
            #expect(got.featureUsage.map(\.0) == wantFeatures)
            #expect(got.funnelSteps.map(\.0) == Self.orderedKeys(oracle.out, object: "funnel_steps"))
            let counts = want["feature_usage"] as! [String: Int]
            #expect(got.featureUsage.allSatisfy { counts[$0.0] == $0.1 })
        }
        guard let daily = try runPython([benchDirectory + "/oracle.py", "daily", "--days", "45", "--end", "2025-10-21"] + files) else { return }
        let want = (try JSONSerialization.jsonObject(with: Data(daily.out.utf8)) as! [String: Any])["days"] as! [[String: Any]]
        let got = app.index.daily(end: CivilDate(iso: "2025-10-21")!, days: 45, funnel: ["page_view"])
        #expect(got.map(\.date.description) == want.map { $0["date"] as! String })
        #expect(got.map(\.users) == want.map { $0["users"] as! Int })
        #expect(got.map(\.events) == want.map { $0["events"] as! Int })
    }

    static func orderedKeys(_ json: String, object: String) -> [String] {
        guard let start = json.range(of: "\"\(object)\": {") else { return [] }
        let rest = json[start.upperBound...]
        let body = rest[..<rest.firstIndex(of: "}")!]
        return body.split(separator: ",").compactMap { pair in
            pair.split(separator: ":").first.map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }.filter { !$0.isEmpty }
    }
}
