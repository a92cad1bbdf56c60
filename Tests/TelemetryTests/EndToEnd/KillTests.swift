import Foundation
import Synchronization
import Testing
@testable import Telemetry

/// Counts every id stored in the data directory, and the lines that do not parse.
func storedIds(_ directory: String) throws -> (ids: [String: Int], malformed: Int) {
    var ids: [String: Int] = [:]
    var malformed = 0
    let replay = LogReplay(directory: directory, logger: quietLogger)
    for path in replay.files() {
        try SegmentReader.forEachLine(path: path, { line, _ in
            guard let e = StoredEvent.parse(line), let id = e.id else {
                malformed += 1
                return
            }
            ids[String(decoding: UnsafeBufferPointer(rebasing: line[id]), as: UTF8.self), default: 0] += 1
        }, torn: { _, _ in malformed += 1 })
    }
    return (ids, malformed)
}

/// Clients sending batches of unique ids; every id in an answered 200 is recorded as acknowledged.
final class LoadClients: Sendable {
    let acknowledged = Locked<[String]>([])
    let running = Atomic<Bool>(true)
    let port = Locked(0)

    /// Every id sent at least once.
    let sent = Locked<[String]>([])

    /// With `retrying`, a client sends an unanswered (or refused) batch again with the same ids until it is
    /// answered 200, as telemetry.js does; a resend the daemon recognises counts its events as duplicates.
    func start(clients: Int, batchSize: Int = 20, retrying: Bool = false) -> [Thread] {
        (0..<clients).map { client in
            let thread = Thread {
                var n = 0
                while self.running.load(ordering: .relaxed) {
                    let ids = (0..<batchSize).map { "c\(client)-\(n)-\($0)" }
                    n += 1
                    let events = ids.map { #"{"event_type":"action","id":"\#($0)","user_id":"u\#(client)"}"# }
                    self.sent.withLock { $0 += ids }
                    while true {
                        let reply = RawHTTP(port: self.port.withLock { $0 }).post("/api/analytics/event", #"{"events":[\#(events.joined(separator: ","))]}"#)
                        if let reply, reply.status == 200, reply.body.contains(#""logged":\#(batchSize)"#) || retrying {
                            self.acknowledged.withLock { $0 += ids }
                            break
                        }
                        if reply == nil { Thread.sleep(forTimeInterval: 0.01) }
                        if !retrying || !self.running.load(ordering: .relaxed) { break }
                    }
                }
            }
            thread.start()
            return thread
        }
    }
}

@Suite(.serialized) struct KillTests {
    /// Four kill -9s 0.7 s apart while four clients send, then a last daemon's clean stop; returns its exit status.
    static func killFourTimes(_ data: String, under load: LoadClients, retrying: Bool) async throws -> Int32 {
        var daemon = try Daemon(dataDirectory: data, arguments: ["--rotate-bytes", "65536"])
        load.port.withLock { $0 = daemon.port }
        let threads = load.start(clients: 4, retrying: retrying)
        for _ in 0..<4 {
            try await Task.sleep(for: .milliseconds(700))
            daemon.kill9()
            daemon = try Daemon(dataDirectory: data, arguments: ["--rotate-bytes", "65536"], port: daemon.port)
        }
        try await Task.sleep(for: .milliseconds(500))
        load.running.store(false, ordering: .relaxed)
        for t in threads { while !t.isFinished { try await Task.sleep(for: .milliseconds(10)) } }
        return daemon.terminate()
    }

    @Test func killNineDuringConcurrentLoadLosesNoAcknowledgedEvent() async throws {
        let dir = TempDirectory()
        let data = dir.path + "/data"
        let load = LoadClients()
        #expect(try await Self.killFourTimes(data, under: load, retrying: false) == 0)
        let acked = load.acknowledged.withLock { $0 }
        let stored = try storedIds(data)
        #expect(acked.count > 100)
        #expect(stored.malformed == 0)
        #expect(acked.filter { stored.ids[$0] != 1 }.isEmpty)
        #expect(stored.ids.values.allSatisfy { $0 == 1 })
    }

    /// Clients that resend every unanswered batch with the same ids across four kills: every acknowledged event is
    /// stored exactly once and no sent event twice, so deduplication holds across restarts.
    @Test func retryingClientsThroughKillsStoreEverySentEventAtMostOnce() async throws {
        let dir = TempDirectory()
        let data = dir.path + "/data"
        let load = LoadClients()
        #expect(try await Self.killFourTimes(data, under: load, retrying: true) == 0)
        let acked = load.acknowledged.withLock { $0 }
        let sent = Set(load.sent.withLock { $0 })
        let stored = try storedIds(data)
        #expect(acked.count > 100)
        #expect(stored.malformed == 0)
        #expect(acked.filter { stored.ids[$0] != 1 }.isEmpty, "every acknowledged event once")
        #expect(stored.ids.allSatisfy { sent.contains($0.key) && $0.value == 1 }, "every sent event at most once")
        print("NOTE retrying clients through 4 kills: \(acked.count) acknowledged, \(sent.count) sent, \(stored.ids.count) stored, \(stored.ids.values.filter { $0 > 1 }.count) twice")
    }

    @Test func sigtermUnderLoadExitsZeroAndKeepsEveryAcknowledgedEvent() async throws {
        let dir = TempDirectory()
        let data = dir.path + "/data"
        let load = LoadClients()
        let daemon = try Daemon(dataDirectory: data)
        load.port.withLock { $0 = daemon.port }
        let threads = load.start(clients: 4)
        try await Task.sleep(for: .milliseconds(800))
        let started = Date()
        #expect(daemon.terminate() == 0)
        #expect(Date().timeIntervalSince(started) < 10)
        load.running.store(false, ordering: .relaxed)
        for t in threads { while !t.isFinished { try await Task.sleep(for: .milliseconds(10)) } }
        let stored = try storedIds(data)
        #expect(load.acknowledged.withLock { $0 }.allSatisfy { stored.ids[$0] == 1 })
        #expect(stored.malformed == 0)
    }

    @Test func badSettingStopsStartUpWithOneLineAndExitTwo() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Daemon.binary)
        process.arguments = ["serve", "--durability", "sometimes"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 2)
        #expect(text == "telemetryd: --durability must be fsync or write, not \"sometimes\"\n")
    }
}
