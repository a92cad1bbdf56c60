import Foundation
import Telemetry

/// What the coverage-guided fuzzers run on each input (`scripts/fuzz`); the tests replay the corpora kept in
/// `Tests/Fuzz/` through the same functions. Each returns nil, or the broken promise it found.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A request body through the batch decoder: never a crash, and every accepted event comes out as one
    /// canonical line the stored-line parser reads, in order, rejected indices ascending.
    case batchDecoder = "batch-decoder"
    /// An aggregate file (a day, the manifest, the dedup snapshot) through its reader: decoded or refused,
    /// never a crash. The first byte picks the kind; the rest is the body, sealed with a valid checksum so the
    /// fuzzer gets past it, or (kind 3) taken as the whole file, checksum and all.
    case aggregateFile = "aggregate-file"

    public func run(_ input: [UInt8]) -> String? {
        switch self {
        case .batchDecoder: Self.batchDecoder(input)
        case .aggregateFile: Self.aggregateFile(input)
        }
    }

    static let receivedAt: Int64 = 1_761_040_800_000

    static func batchDecoder(_ body: [UInt8]) -> String? {
        let batch: DecodedBatch
        do {
            batch = try body.withUnsafeBufferPointer { b throws(BatchError) in try EventDecoder().decode(b, receivedAt: receivedAt) }
        } catch {
            return error.message.isEmpty ? "a refusal without a reason" : nil
        }
        guard batch.lines.isEmpty || batch.lines.last == 0x0A else { return "lines do not end with a newline" }
        var lines = 0
        var start = 0
        for (i, c) in batch.lines.enumerated() where c == 0x0A {
            guard StoredEvent.parse(batch.lines[start..<i]) != nil else { return "a stored line the parser refuses" }
            lines += 1
            start = i + 1
        }
        guard lines == batch.records.count else { return "\(lines) lines for \(batch.records.count) events" }
        let indices = batch.rejected.map(\.index)
        guard indices == indices.sorted(), Set(indices).count == indices.count else { return "rejected indices out of order" }
        return nil
    }

    static func aggregateFile(_ input: [UInt8]) -> String? {
        guard let kind = input.first else { return nil }
        let body = Array(input.dropFirst())
        let file: [UInt8]
        switch kind % 4 {
        case 0: file = sealed(AggregateStore.dayMagic, AggregateStore.version, body)
        case 1: file = sealed(AggregateStore.manifestMagic, AggregateStore.version, body)
        case 2: file = sealed(DedupSnapshot.magic, DedupSnapshot.version, body)
        default: file = body
        }
        if file.starts(with: Array(DedupSnapshot.magic.utf8)) {
            _ = DedupSnapshot.decode(file)
        } else {
            _ = try? AggregateStore.decodeFile(file)
        }
        return nil
    }

    /// `body` behind the header and before the CRC-32, as the writer seals a file.
    static func sealed(_ magic: String, _ version: UInt8, _ body: [UInt8]) -> [UInt8] {
        var w = BinaryWriter(magic: magic, version: version)
        w.bytes += body
        return w.sealed()
    }

    /// Runs every input file under `paths` (files or directories); returns the failures, named by file.
    public func replay(_ paths: [String]) -> (inputs: Int, failures: [String]) {
        var inputs = 0
        var failures: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                failures.append("\(path): no such file")
                continue
            }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                inputs += 1
                if let problem = run([UInt8](data)) { failures.append("\(file): \(problem)") }
            }
        }
        return (inputs, failures)
    }
}
