import Foundation
import Logging
import Hummingbird
import Synchronization
@testable import Telemetry

/// A fresh directory under /tmp, removed when the test is done with it.
final class TempDirectory: Sendable {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "telemetry-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func files() -> [String] { FileSystem.list(path).sorted() }

    func read(_ name: String) -> String {
        (try? String(contentsOfFile: path + "/" + name, encoding: .utf8)) ?? ""
    }

    func lines(_ name: String = SegmentName.active) -> [String] {
        read(name).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }
}

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let value: Locked<Int64>

    init(_ iso: String = "2025-10-21T10:00:00Z") { value = Locked(Timestamp.parse(iso)!) }

    var now: @Sendable () -> Int64 { { self.value.withLock { $0 } } }
    func set(_ iso: String) { value.withLock { $0 = Timestamp.parse(iso)! } }
    func advance(ms: Int64) { value.withLock { $0 += ms } }
}

/// SplitMix64: a small seeded generator, so a randomised test replays exactly from its seed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (slightly biased by the modulo, which the tests do not mind).
    mutating func next(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// The seed of a randomised test: `TEST_SEED` (decimal, or hex with `0x`) to replay a failure, else a fresh one.
/// Tests name it in their expectations' comments ("seed \(seed)"), so a failure says how to replay it.
func testSeed() -> UInt64 {
    guard let text = ProcessInfo.processInfo.environment["TEST_SEED"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
        return UInt64.random(in: .min ... .max)
    }
    let seed = text.lowercased().hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    guard let seed else { preconditionFailure("TEST_SEED is not a UInt64: \(text)") }
    return seed
}

let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

func body(_ text: String) -> [UInt8] { Array(text.utf8) }

func decode(_ text: String, at iso: String = "2025-10-21T10:00:00Z") throws(BatchError) -> DecodedBatch {
    let bytes = Array(text.utf8)
    return try bytes.withUnsafeBufferPointer { b throws(BatchError) in
        try EventDecoder().decode(b, receivedAt: Timestamp.parse(iso)!)
    }
}

extension DecodedBatch {
    var lineStrings: [String] {
        String(decoding: lines, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

func testConfiguration(_ dir: TempDirectory) -> TelemetryConfiguration {
    var c = TelemetryConfiguration()
    c.dataDirectory = dir.path
    c.port = 0
    c.rateLimit = 0
    c.dashKeys = ["test-key"]
    return c
}

extension Storage {
    /// Stops the writer and the applier as a kill would leave them: no dedup snapshot, no last aggregate flush.
    func crash() {
        writer.close()
        applier.close()
        lock.release()
    }

    /// The index as of every batch acknowledged before this call, as `IndexReader` sees it.
    func currentIndex() async -> DayIndex {
        await applier.caughtUp()
        return index
    }

    /// The rollup service the daemon would run over this storage.
    func rollupService() -> RollupService {
        RollupService(
            job: RollupJob(configuration: configuration), index: index, store: RollupStore(dataDirectory: configuration.dataDirectory),
            aggregates: aggregates, maintenance: maintenance, now: now, logger: logger, metrics: metrics)
    }

    /// The application with its services, as `buildApplication` makes it for the daemon.
    func application() -> some ApplicationProtocol { buildApplication(storage: self, logger: quietLogger) }
}
