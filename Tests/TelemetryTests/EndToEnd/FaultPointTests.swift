import Foundation
import Synchronization
import Testing
@testable import Telemetry

/// Aimed kills: the real (debug) binary stops itself with SIGKILL at a named step of its file work
/// (`TELEMETRY_FAULT_POINT`, `FaultPoint`), under load; after a restart every acknowledged event is there
/// exactly once, no line is damaged, `telemetryd verify` passes, and the usage the restarted index answers
/// equals the usage of an index rebuilt from the surviving raw log.
@Suite(.serialized, .timeLimit(.minutes(3))) struct FaultPointTests {
    static let key = "fault-test-key"

    /// What a scenario does to reach its step while clients send events.
    struct Scenario: Sendable, CustomTestStringConvertible {
        var point: String
        var arguments: [String] = ["--rotate-bytes", "65536"]
        /// Dies before /health answers (a step of start-up).
        var duringStartUp = false
        var testDescription: String { point }
    }

    static let scenarios: [Scenario] = [
        Scenario(point: "rotation.renamed"),
        Scenario(point: "compression.written"),
        Scenario(point: "compression.renamed"),
        Scenario(point: "aggregates.days-written"),
        Scenario(point: "erasure.file-rewritten"),
        Scenario(point: "dedup.written"),
        Scenario(point: "retention.deleted", arguments: ["--raw-retention-days", "1"], duringStartUp: true),
        Scenario(point: "rollup.written", arguments: [], duringStartUp: true),
    ]

    @Test func everyFaultPointIsExercised() {
        #expect(Set(Self.scenarios.map(\.point) + ["clickhouse.acknowledged"]) == Set(FaultPoint.all))
    }

    /// Events with `ts` ten days back, in closed segments, for retention to delete.
    static func writeOldSegments(_ data: String) throws {
        let daemon = try Daemon(dataDirectory: data, arguments: ["--rotate-bytes", "4096", "--dash-key", key])
        let old = Timestamp.string(Int64(Date().timeIntervalSince1970 * 1000) - 10 * Milliseconds.day)
        for n in 0..<20 {
            let events = (0..<20).map { #"{"event_type":"action","id":"old-\#(n)-\#($0)","user_id":"old","ts":"\#(old)"}"# }
            _ = daemon.http.post("/api/analytics/event", #"{"events":[\#(events.joined(separator: ","))]}"#)
        }
        #expect(daemon.terminate() == 0)
    }

    /// The usage answer without its time stamp.
    static func usage(_ daemon: Daemon) -> String? {
        guard let reply = daemon.http.get("/api/analytics/usage?days=1", headers: ["X-Dash-Key": key]), reply.status == 200 else { return nil }
        return reply.body.replacingOccurrences(of: #"\"ts\":\"[^\"]*\","#, with: "", options: .regularExpression)
    }

    @Test(arguments: scenarios)
    func aKillAtThisStepLosesNothingAcknowledgedAndDamagesNothing(_ scenario: Scenario) async throws {
        let dir = TempDirectory()
        let data = dir.path + "/data"
        if scenario.point == "retention.deleted" { try Self.writeOldSegments(data) }
        let arguments = scenario.arguments + ["--dash-key", Self.key]
        let load = LoadClients()
        let daemon = try Daemon(
            dataDirectory: data, arguments: arguments, environment: ["TELEMETRY_FAULT_POINT": scenario.point],
            waitForHealth: !scenario.duringStartUp)
        load.port.withLock { $0 = daemon.port }
        let threads = scenario.duringStartUp ? [] : load.start(clients: 3)
        if scenario.point == "erasure.file-rewritten" {
            try await Task.sleep(for: .milliseconds(800))
            _ = RawHTTP.exchange(port: daemon.port, Array("DELETE /api/analytics/users/u1 HTTP/1.1\r\nHost: x\r\nX-Dash-Key: \(Self.key)\r\nConnection: close\r\n\r\n".utf8))
        }
        if scenario.point == "dedup.written" {
            try await Task.sleep(for: .milliseconds(800))
            kill(daemon.process.processIdentifier, SIGTERM)
        }
        let died = daemon.diedOfSIGKILL(within: 40)
        if !died { kill(daemon.process.processIdentifier, SIGKILL) }
        #expect(died, "the daemon stopped itself at \(scenario.point)")
        load.running.store(false, ordering: .relaxed)
        for t in threads { while !t.isFinished { try await Task.sleep(for: .milliseconds(10)) } }

        // Restart without the fault point: recovery, then the same checks as after any crash.
        let restarted = try Daemon(dataDirectory: data, arguments: arguments, port: daemon.port)
        let afterRestart = Self.usage(restarted)
        #expect(restarted.terminate() == 0)
        let acked = load.acknowledged.withLock { $0 }
        let stored = try storedIds(data)
        #expect(stored.malformed == 0)
        let erased = scenario.point == "erasure.file-rewritten" ? "c1-" : "\u{0}"
        #expect(acked.filter { !$0.hasPrefix(erased) && stored.ids[$0] != 1 }.isEmpty, "acknowledged events lost or doubled at \(scenario.point)")
        #expect(stored.ids.values.allSatisfy { $0 == 1 })
        #expect(!FileSystem.list(data).contains { $0.hasSuffix(".tmp") }, "recovery removes half-written files")
        #expect(try runTelemetryd(["verify", "--data-dir", data]).status == 0)
        if !scenario.duringStartUp { #expect(acked.count > 20) }
        print("NOTE aimed kill at \(scenario.point): \(acked.count) acknowledged, \(acked.filter { !$0.hasPrefix(erased) && stored.ids[$0] != 1 }.count) lost, \(stored.malformed) malformed")

        // The index the restart kept answers as one rebuilt from the raw log alone.
        try? FileManager.default.removeItem(atPath: data + "/aggregates/manifest")
        let rebuilt = try Daemon(dataDirectory: data, arguments: arguments)
        #expect(Self.usage(rebuilt) == afterRestart)
        #expect(rebuilt.terminate() == 0)
    }

    /// Killed after ClickHouse took a block but before the cursor moved: the restarted sink sends the block again
    /// and the table (one row per identity) still holds every stored event exactly once.
    @Test func aKillBetweenClickHousesAcknowledgementAndTheCursorResendsWithoutDoubleCounting() async throws {
        let clickhouse = FakeClickHouse(version: "18.16.1")
        try await clickhouse.serve { url in
            let dir = TempDirectory()
            let data = dir.path + "/data"
            let arguments = ["--clickhouse-url", url, "--dash-key", Self.key]
            let load = LoadClients()
            let daemon = try Daemon(dataDirectory: data, arguments: arguments, environment: ["TELEMETRY_FAULT_POINT": "clickhouse.acknowledged@2"])
            load.port.withLock { $0 = daemon.port }
            let threads = load.start(clients: 2)
            let died = daemon.diedOfSIGKILL(within: 40)
            if !died { kill(daemon.process.processIdentifier, SIGKILL) }
            #expect(died)
            load.running.store(false, ordering: .relaxed)
            for t in threads { while !t.isFinished { try await Task.sleep(for: .milliseconds(10)) } }
            let restarted = try Daemon(dataDirectory: data, arguments: arguments, port: daemon.port)
            let stored = try storedIds(data)
            let deadline = ContinuousClock.now + .seconds(20)
            while clickhouse.finalRows.count < stored.ids.count && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(restarted.terminate() == 0)
            let rows = clickhouse.finalRows
            #expect(Set(rows.keys) == Set(stored.ids.keys.map { "id:" + $0 }))
            #expect(clickhouse.state.withLock { $0.rows.count } > rows.count, "the block in flight at the kill was sent again")
            #expect(load.acknowledged.withLock { $0 }.allSatisfy { rows["id:" + $0] != nil })
        }
    }
}
