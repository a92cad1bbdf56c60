import Foundation
import Testing
import TelemetryFuzzing

/// The corpora the coverage-guided fuzzers keep (`Tests/Fuzz/corpus/`, grown by `scripts/fuzz --merge`),
/// replayed through the same target functions on every test run.
@Suite struct FuzzCorpusTests {
    static let corpora = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")

    @Test(arguments: FuzzTarget.allCases)
    func everyKeptInputReplaysWithoutAFinding(_ target: FuzzTarget) {
        let (inputs, failures) = target.replay([Self.corpora.appendingPathComponent(target.rawValue).path])
        #expect(inputs >= 10, "the kept corpus of \(target.rawValue) is missing")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
