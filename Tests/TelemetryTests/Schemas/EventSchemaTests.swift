import Foundation
import Testing
@testable import Telemetry

/// Event schemas: each rule rejects the event that breaks it (alone, with the path in its error), the file is
/// checked at start-up, served by the keyed API, and reloaded on SIGHUP by the real binary.
@Suite struct EventSchemaTests {
    static let file = #"{"unknown_types":"allow","types":{"signup":{"metadata":{"plan":{"type":"string","enum":["free","pro"],"required":true},"seats":{"type":"number","min":1,"max":1000},"beta":{"type":"boolean"},"note":{"type":"string","max_length":5}},"additional":false},"ping":{}}}"#

    func errors(_ events: [String], schemas text: String = file) throws -> [String?] {
        let schemas = try EventSchemas(json: Data(text.utf8))
        let body = Array(#"{"events":[\#(events.joined(separator: ","))]}"#.utf8)
        let batch: DecodedBatch
        do {
            batch = try body.withUnsafeBufferPointer { b throws(BatchError) in
                try EventDecoder().decode(b, receivedAt: Timestamp.parse("2025-10-21T10:00:00Z")!, schemas: schemas)
            }
        } catch {
            return (0..<events.count).map { i in error.rejected.first { $0.index == i }?.error }
        }
        return (0..<events.count).map { i in batch.rejected.first { $0.index == i }?.error }
    }

    @Test func eachRuleRejectsTheEventThatBreaksItAlone() throws {
        let got = try errors([
            #"{"event_type":"signup","metadata":{"plan":"pro","seats":3,"beta":true,"note":"hi"}}"#,
            #"{"event_type":"signup","metadata":{"plan":"gold"}}"#,
            #"{"event_type":"signup","metadata":{"seats":3}}"#,
            #"{"event_type":"signup"}"#,
            #"{"event_type":"signup","metadata":{"plan":"free","seats":0}}"#,
            #"{"event_type":"signup","metadata":{"plan":"free","seats":1001}}"#,
            #"{"event_type":"signup","metadata":{"plan":"free","seats":"3"}}"#,
            #"{"event_type":"signup","metadata":{"plan":"free","beta":1}}"#,
            #"{"event_type":"signup","metadata":{"plan":"free","colour":"red"}}"#,
            #"{"event_type":"signup","metadata":{"plan":"free","note":"toolong"}}"#,
            #"{"event_type":"signup","metadata":{"plan":1}}"#,
            #"{"event_type":"signup","metadata":{"plan":"free","seats":null}}"#,
            #"{"event_type":"other","metadata":{"anything":[1,2]}}"#,
            #"{"event_type":"ping","metadata":{"x":1}}"#,
        ])
        #expect(got == [
            nil,
            "metadata.plan: expected one of free, pro",
            "metadata.plan: required",
            "metadata.plan: required",
            "metadata.seats: must be at least 1",
            "metadata.seats: must be at most 1000",
            "metadata.seats: expected a number",
            "metadata.beta: expected true or false",
            "metadata.colour: not allowed for signup",
            "metadata.note: longer than 5 characters",
            "metadata.plan: expected a string",
            nil,
            nil,
            nil,
        ])
    }

    @Test func unknownTypesCanBeRejected() throws {
        let got = try errors([#"{"event_type":"ping"}"#, #"{"event_type":"other"}"#],
                             schemas: #"{"unknown_types":"reject","types":{"ping":{}}}"#)
        #expect(got == [nil, "event_type: other has no schema and unknown types are rejected"])
    }

    @Test func aBrokenFileIsRefusedWithWhatIsWrong() {
        func problem(_ text: String) -> String? {
            do {
                _ = try EventSchemas(json: Data(text.utf8))
                return nil
            } catch {
                return error.description
            }
        }
        #expect(problem(Self.file) == nil)
        #expect(problem("[]") == #"must be a JSON object with "types""#)
        #expect(problem(#"{"types":{"a":{"metadata":{"x":{"type":"date"}}}}}"#) == "types.a.metadata.x.type must be string, number or boolean")
        #expect(problem(#"{"types":{"Bad":{}}}"#) == "types.Bad: not a valid event type")
        #expect(problem(#"{"unknown_types":"maybe","types":{}}"#) == #"unknown_types must be allow or reject, not "maybe""#)
        #expect(problem(#"{"types":{"a":{"metadata":{"x":{"type":"boolean","min":1}}}}}"#) == "types.a.metadata.x: min and max apply to numbers")
        #expect(problem(#"{"types":{"a":{"metadata":{"x":{"type":"string","required":1}}}}}"#) == "types.a.metadata.x.required must be true or false")
        #expect(problem(#"{"types":{"a":{"additional":"no"}}}"#) == "types.a.additional must be true or false")
    }

    @Test func theRealBinaryServesValidatesAndReloadsOnSIGHUP() throws {
        let dir = TempDirectory()
        let path = dir.path + "/schemas.json"
        try Self.file.write(toFile: path, atomically: true, encoding: .utf8)
        let daemon = try Daemon(dataDirectory: dir.path + "/data", arguments: ["--event-schemas", path, "--dash-key", "k"])
        defer { _ = daemon.terminate() }
        var r = daemon.http.post("/api/analytics/event", #"{"events":[{"event_type":"signup","metadata":{"plan":"gold"}},{"event_type":"signup","metadata":{"plan":"pro"}}]}"#)
        #expect(r?.status == 200)
        #expect(r?.body.contains(#""logged":1"#) == true)
        #expect(r?.body.contains(#"{"index":0,"error":"metadata.plan: expected one of free, pro"}"#) == true)
        let served = daemon.http.get("/api/analytics/schemas", headers: ["X-Dash-Key": "k"])
        #expect(served?.body.hasPrefix(#"{"ok":true,"schemas":{"unknown_types":"allow""#) == true)
        // gold becomes a plan; a broken file later changes nothing.
        try Self.file.replacingOccurrences(of: #"["free","pro"]"#, with: #"["free","pro","gold"]"#).write(toFile: path, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        var accepted = false
        for _ in 0..<100 where !accepted {
            Thread.sleep(forTimeInterval: 0.05)
            r = daemon.http.post("/api/analytics/event", #"{"events":[{"event_type":"signup","metadata":{"plan":"gold"}}]}"#)
            accepted = r?.status == 200
        }
        #expect(accepted)
        try "{broken".write(toFile: path, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(daemon.http.post("/api/analytics/event", #"{"events":[{"event_type":"signup","metadata":{"plan":"gold"}}]}"#)?.status == 200)
        #expect(daemon.http.post("/api/analytics/event", #"{"events":[{"event_type":"signup","metadata":{"plan":"x"}}]}"#)?.status == 400)
        #expect(daemon.http.get("/health")?.status == 200)
    }
}
