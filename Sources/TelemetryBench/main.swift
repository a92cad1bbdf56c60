import Foundation
import Telemetry

// Micro-benchmarks of the hot paths, one core, printing events/s (scripts/bench/run calls this).
//   swift run -c release TelemetryBench BATCHES_FILE [ROUNDS]
let arguments = CommandLine.arguments
guard arguments.count > 1, let text = try? String(contentsOfFile: arguments[1], encoding: .utf8) else {
    print("usage: TelemetryBench BATCHES_FILE [ROUNDS]")
    exit(2)
}
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 3 : 3
let bodies = text.split(separator: "\n").map { Array($0.utf8) }
let now = Int64(Date().timeIntervalSince1970 * 1000)
let decoder = EventDecoder()

func measure(_ label: String, events: Int, _ body: () throws -> Void) rethrows {
    var best = Double.infinity
    for _ in 0..<rounds {
        let start = ContinuousClock.now
        try body()
        let d = start.duration(to: .now)
        best = min(best, Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }
    print("\(label): \(Int(Double(events) / best)) events/s (\(String(format: "%.3f", best)) s for \(events) events)")
}

var batches: [DecodedBatch] = []
var eventCount = 0
try measure("decode + validate + canonical lines", events: bodies.count * 100) {
    batches.removeAll(keepingCapacity: true)
    eventCount = 0
    for body in bodies {
        let batch = try body.withUnsafeBufferPointer { try decoder.decode($0, receivedAt: now) }
        eventCount += batch.records.count
        batches.append(batch)
    }
}
measure("day index apply", events: eventCount) {
    let index = DayIndex(hasher: SipHash(key: Array(repeating: 1, count: 16)))
    for batch in batches { index.committed([batch], through: LogPosition(seq: 1, offset: 0)) }
}
let lines = batches.flatMap(\.lines)
measure("stored line parse (rebuild path)", events: eventCount) {
    var n = 0
    lines.withUnsafeBufferPointer { b in
        var start = 0
        for i in 0..<b.count where b[i] == 0x0A {
            if StoredEvent.parse(UnsafeBufferPointer(rebasing: b[start..<i])) != nil { n += 1 }
            start = i + 1
        }
    }
    precondition(n == eventCount)
}
