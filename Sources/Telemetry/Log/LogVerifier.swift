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

    public func run() -> Report {
        var report = Report()
        let replay = LogReplay(directory: directory, logger: Logger(label: "telemetryd.verify"))
        for path in replay.files() {
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
        return report
    }
}
