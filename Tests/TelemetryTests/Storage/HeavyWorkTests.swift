import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
@testable import Telemetry

@Suite struct HeavyWorkTests {
    /// Holds a scan open until released, so tests can fill the pool.
    final class Gate: Sendable {
        let open = AtomicFlag()
        let started = Atomic<Int>(0)

        func hold(_ cancellation: ScanCancellation) throws {
            started.add(1, ordering: .relaxed)
            while !open.isSet {
                try cancellation.check()
                usleep(1000)
            }
        }

        func waitForStarts(_ n: Int) async throws {
            while started.load(ordering: .relaxed) < n { try await Task.sleep(for: .milliseconds(2)) }
        }
    }

    @Test func overTheLimitAScanIsRefusedAtOnceAndTheOthersFinish() async throws {
        let pool = ScanPool(limit: 2)
        let gate = Gate()
        async let first: Int = pool.run { try gate.hold($0); return 1 }
        async let second: Int = pool.run { try gate.hold($0); return 2 }
        try await gate.waitForStarts(2)
        await #expect(throws: ScanPool.Busy.self) { try await pool.run { _ in 3 } }
        gate.open.set()
        #expect(try await first + second == 3)
        #expect(pool.active == 0)
        #expect(try await pool.run { _ in 4 } == 4)
    }

    @Test func cancellingTheRequestStopsItsScan() async throws {
        let pool = ScanPool(limit: 2)
        let gate = Gate()
        let task = Task { try await pool.run { try gate.hold($0) } }
        try await gate.waitForStarts(1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(pool.active == 0)
    }

    @Test func aFullPoolAnswers503WithRetryAfterWhileIngestAndTheIndexStillAnswer() async throws {
        let dir = TempDirectory()
        let storage = try Storage.open(testConfiguration(dir), logger: quietLogger, now: ManualClock().now)
        let gate = Gate()
        let holders = (0..<storage.scans.limit).map { _ in Task { try await storage.scans.run { try gate.hold($0) } } }
        try await gate.waitForStarts(storage.scans.limit)
        try await storage.application().test(.router) { client in
            let key: HTTPFields = [.init("X-Dash-Key")!: "test-key"]
            let export = try await client.execute(uri: "/api/analytics/users/u1/events", method: .get, headers: key)
            #expect(export.status == .serviceUnavailable)
            #expect(export.headers[.retryAfter] != nil)
            #expect(String(buffer: export.body).contains(#""ok":false"#))
            // Funnels read the event table, not the raw log: they answer while the scans are busy.
            let funnel = try await client.execute(uri: "/api/analytics/funnel?steps=page_view,action&days=7", method: .get, headers: key)
            #expect(funnel.status == .ok)
            // Ingest, usage and health do not wait for scans.
            #expect(try await client.post(#"{"events":[{"event_type":"page_view","user_id":"u1"}]}"#).status == .ok)
            let usage = try await client.execute(uri: "/api/analytics/usage?days=1", method: .get, headers: key)
            #expect(usage.json["total_events"] as? Int == 1)
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            gate.open.set()
            for holder in holders { try await holder.value }
            let after = try await client.execute(uri: "/api/analytics/users/u1/events", method: .get, headers: key)
            #expect(after.status == .ok)
            #expect(String(buffer: after.body).contains(#""user_id":"u1""#))
        }
        storage.close()
    }

    @Test func anAnswerIncludesEveryBatchAcknowledgedBeforeTheRequest() async throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T10:00:00Z")
        let storage = try Storage.open(testConfiguration(dir), logger: quietLogger, now: clock.now)
        let today = CivilDate(iso: "2025-10-21")!
        // Eight senders; after each acknowledgement the sender's own events so far must be counted.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sender in 0..<8 {
                group.addTask {
                    for n in 1...40 {
                        let ack = try await storage.ingestor.ingest(Array(#"{"events":[{"event_type":"s\#(sender)","user_id":"u\#(sender)"}]}"#.utf8))
                        #expect(ack.logged == 1)
                        let counts = await storage.currentIndex().usage(end: today, days: 1, top: 100, funnel: []).funnelSteps
                        let mine = counts.first { $0.0 == "s\(sender)" }?.1 ?? 0
                        #expect(mine >= n, "sender \(sender) acknowledged \(n), index counts \(mine)")
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(await storage.currentIndex().usage(end: today, days: 1, funnel: []).totalEvents == 320)
        storage.close()
    }
}
