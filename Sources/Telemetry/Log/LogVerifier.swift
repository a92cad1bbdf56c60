import Logging

/// Reads every segment and reports damaged lines, torn tails and unreadable files, changing nothing.
public struct LogVerifier {
    public struct Report: Sendable {
        public var files = 0
        public var lines = 0
        public var problems: [String] = []
    }

    let directory: String

    public init(directory: String) { self.directory = directory }

    public func run(progress: ProgressReporter? = nil) -> Report {
        var report = Report()
        let replay = LogReplay(directory: directory, logger: Logger(label: "telemetryd.verify"))
        for path in replay.files() {
            let linesBefore = report.lines
            defer { progress?.advance(by: FileSystem.size(path) ?? 0, items: report.lines - linesBefore) }
            report.files += 1
            do {
                try SegmentReader.forEachLine(path: path, { line, offset in
                    report.lines += 1
                    if StoredEvent.parse(line) == nil { report.problems.append("\(path): damaged line at byte \(offset)") }
                }, torn: { offset, bytes in
                    report.problems.append("\(path): torn last line at byte \(offset) (\(bytes) bytes)")
                })
            } catch {
                report.problems.append("\(path): \(error)")
            }
        }
        report.problems += aggregateProblems()
        return report
    }

    /// Every day aggregate named by the manifest must load: versions and checksums are checked.
    func aggregateProblems() -> [String] {
        guard let store = try? AggregateStore(dataDirectory: directory, logger: Logger(label: "telemetryd.verify"), readOnly: true),
            FileSystem.exists(store.manifestPath)
        else { return [] }
        let index = DayIndex(hasher: SipHash(key: Array(repeating: 0, count: 16)))
        let loaded = store.load(into: index)
        if loaded.position == nil { return ["\(store.manifestPath): damaged"] }
        return loaded.damaged.map { "\(store.directory): aggregate of \(CivilDate(dayNumber: $0)) damaged" }
    }
}
