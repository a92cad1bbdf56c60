import Foundation
import Testing
@testable import Telemetry
import TelemetryFuzzing

/// Generated and mutated bodies against the decoder: it must never crash, and whatever it accepts
/// must come out as valid canonical lines. Cases that once failed stay in `regressions.hex`.
@Suite struct DecoderFuzzTests {
    static let iterations = Int(ProcessInfo.processInfo.environment["FUZZ_ITERATIONS"] ?? "") ?? 1_000_000

    static let seeds: [String] = [
        #"{"events":[{"event_type":"page_view","user_id":"u1","feature":"dashboard","url":"/d","ts":"2025-10-21T10:00:00Z","metadata":{"a":[1,2,{"b":null}],"c":"\u00e9"}}]}"#,
        #"{"sent_at":"2025-10-21T10:00:05+02:00","events":[{"event_type":"action","id":"x1","session_id":"s","channel":"web","platform":"ios","device_id":"d","client_version":"1.0","ts":1761040800000},{"event_type":"conversion"}]}"#,
        #"{"events":[{"event_type":"a","user_id":"","feature":null,"metadata":{"deep":{"deeper":{"deepest":true}}}}],"extra":{"ignored":[1e10,-0.5,true,false,null]}}"#,
        #"{"events":[{"event_type":"a\u0062","user\u005fid":"\ud83d\ude00\n\t\"\\"}]}"#,
    ]

    static let fragments: [[UInt8]] = [
        Array("[".utf8), Array("{".utf8), Array("}".utf8), Array("]".utf8), Array(",".utf8), Array(":".utf8), Array("\"".utf8),
        Array("\\".utf8), Array("\\u".utf8), Array("\\ud800".utf8), Array("1e999999".utf8), Array("-".utf8),
        Array("123456789012345678901234567890".utf8), Array("null".utf8), Array("true".utf8), Array("nul".utf8),
        [0], [0xC0, 0x80], [0xFF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80],
        Array(#""event_type":"a","event_type":"b""#.utf8), Array(#""metadata":[]"#.utf8), Array(#""ts":"2025-02-30T00:00:00Z""#.utf8),
        Array(#""events":[]"#.utf8), Array(#""user_id":7"#.utf8), Array(#"{"event_type":"a"}"#.utf8),
    ]

    struct Mutator {
        var rng: SplitMix

        mutating func mutate(_ input: [UInt8]) -> [UInt8] {
            var b = input
            for _ in 0...rng.next(4) {
                let at = b.isEmpty ? 0 : rng.next(b.count + 1)
                switch rng.next(10) {
                case 0: b = Array(b.prefix(at))
                case 1: b.insert(UInt8(rng.next(256)), at: at)
                case 2: if !b.isEmpty { b[min(at, b.count - 1)] ^= UInt8(1 << rng.next(8)) }
                case 3: b.insert(contentsOf: DecoderFuzzTests.fragments[rng.next(DecoderFuzzTests.fragments.count)], at: at)
                case 4: if at < b.count { b.remove(at: at) }
                case 5:
                    let n = rng.next(200) + 1
                    b.insert(contentsOf: Array(repeating: UInt8(ascii: rng.next(2) == 0 ? "[" : "{"), count: n), at: at)
                case 6:
                    let giant = "\"" + String(repeating: "x", count: rng.next(5000)) + "\""
                    b.insert(contentsOf: Array(giant.utf8), at: at)
                case 7:
                    if b.count > 2 {
                        let start = rng.next(b.count)
                        let end = min(b.count, start + rng.next(64))
                        b.insert(contentsOf: b[start..<end], at: at)
                    }
                case 8: b.insert(contentsOf: [0x20, 0x0A, 0x09, 0x0D][0...rng.next(4)], at: at)
                default:
                    let values = ["[]", "{}", "true", "1e999", "-0", "\"\"", "null", "12.5", "\"2025-10-21T10:00:00Z\""]
                    b.insert(contentsOf: Array(values[rng.next(values.count)].utf8), at: at)
                }
            }
            return b
        }
    }

    /// Decodes one body and checks the invariants the fuzz target checks (`FuzzTarget.batchDecoder`); with
    /// `deep`, also that every stored line is JSON. Returns a description of any violation.
    static func check(_ body: [UInt8], deep: Bool) -> String? {
        if let problem = FuzzTarget.batchDecoder.run(body) { return problem }
        guard deep, let batch = try? body.withUnsafeBufferPointer({ b throws(BatchError) in
            try EventDecoder().decode(b, receivedAt: Timestamp.parse("2025-10-21T10:00:00Z")!)
        }) else { return nil }
        for line in batch.lines.split(separator: 0x0A) where (try? JSONSerialization.jsonObject(with: Data(line))) == nil {
            return "not JSON: \(String(decoding: line, as: UTF8.self))"
        }
        return nil
    }

    @Test func aMillionGeneratedAndMutatedBodiesNeverCrashTheDecoder() {
        var mutator = Mutator(rng: SplitMix(state: 20251021))
        var random = RandomEvents(rng: SplitMix(state: 7), now: Timestamp.parse("2025-10-21T10:00:00Z")!)
        var corpus = Self.seeds.map { Array($0.utf8) } + (0..<50).map { _ in Array(random.batch(1 + mutator.rng.next(20)).utf8) }
        var failures: [String] = []
        var accepted = 0
        for i in 0..<Self.iterations {
            let body = mutator.mutate(corpus[mutator.rng.next(corpus.count)])
            if let problem = Self.check(body, deep: i % 64 == 0) {
                failures.append("\(problem) — body hex \(body.map { String(format: "%02x", $0) }.joined())")
                if failures.count > 5 { break }
            }
            if i % 1000 == 0 && body.count < 20_000 {
                corpus[mutator.rng.next(corpus.count)] = body  // keep exploring from mutants
                accepted += 1
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test func regressionCasesStayFixed() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("regressions.hex")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines.count > 0)
        for line in lines {
            var bytes: [UInt8] = []
            var chars = Array(line.utf8)
            while chars.count >= 2 {
                bytes.append(UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16)!)
                chars.removeFirst(2)
            }
            #expect(Self.check(bytes, deep: true) == nil, "\(line)")
        }
    }
}

@Suite struct CanonicalParseTests {
    /// The rebuild's fast path must read every line the decoder writes exactly as the full parser does.
    @Test func fastPathAgreesWithTheFullParserOnEveryCanonicalLine() throws {
        var random = RandomEvents(rng: SplitMix(state: 99), now: Timestamp.parse("2025-10-21T10:00:00Z")!)
        var bodies = DecoderFuzzTests.seeds.map { Array($0.utf8) }
        bodies += (0..<300).map { _ in Array(random.batch(50).utf8) }
        bodies.append(Array(#"{"events":[{"event_type":"a","id":"x","user_id":"q\"u\\o\u0001te","feature":"\",\"feature\":\"","url":"\",\"user_id\":\"evil","metadata":{"a":"b","feature":"no","user_id":"no"}}]}"#.utf8))
        var lines = 0
        for body in bodies {
            guard let batch = try? body.withUnsafeBufferPointer({ b throws(BatchError) in
                try EventDecoder().decode(b, receivedAt: Timestamp.parse("2025-10-21T10:00:00Z")!)
            }) else { continue }
            try batch.lines.withUnsafeBufferPointer { all in
                var start = 0
                for i in 0..<all.count where all[i] == 0x0A {
                    let line = UnsafeBufferPointer(rebasing: all[start..<i])
                    let full = try #require(StoredEvent.parse(line))
                    let fast = try #require(StoredEvent.parseCanonical(line), "\(String(decoding: line, as: UTF8.self))")
                    #expect(fast.ts == full.ts && fast.eventType == full.eventType && fast.user == full.user
                            && fast.feature == full.feature && fast.id == full.id && fast.receivedAt == full.receivedAt,
                            "\(String(decoding: line, as: UTF8.self))")
                    lines += 1
                    start = i + 1
                }
            }
        }
        #expect(lines > 10_000)
        #expect(Array("{\"ts\":\"x\"}".utf8).withUnsafeBufferPointer { StoredEvent.parseCanonical($0) } == nil)
    }
}
