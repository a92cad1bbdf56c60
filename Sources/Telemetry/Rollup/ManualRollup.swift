import Logging

/// `telemetryd rollup`: the daily rollup from the files alone, safe beside a running daemon.
public struct ManualRollup {
    let configuration: TelemetryConfiguration
    let logger: Logger
    let now: @Sendable () -> Int64

    public init(configuration: TelemetryConfiguration, logger: Logger, now: @escaping @Sendable () -> Int64) {
        self.configuration = configuration
        self.logger = logger
        self.now = now
    }

    /// Writes the line for `end` (replacing one already there) or, without `end`, every due line.
    /// Reads the aggregates without writing them, so a running daemon keeps sole ownership of them.
    public func run(end: CivilDate?, days: Int?) throws -> [RollupStore.Line] {
        let directory = configuration.dataDirectory
        let aggregates = try AggregateStore(dataDirectory: directory, logger: logger, readOnly: true)
        let index = DayIndex(hasher: SipHash(key: try aggregates.hashKey()))
        let total = LogReplay(directory: directory, logger: logger).files().reduce(0) { $0 + (FileSystem.size($1) ?? 0) }
        let progress = ProgressReporter(label: "rollup: reading the log", total: total)
        let report = try IndexLoader(dataDirectory: directory, logger: logger).open(index, store: aggregates, progress: progress)
        progress.finish("\(report.loadedDays) days from aggregates, \(report.replayedEvents) events replayed")
        var job = RollupJob(configuration: configuration)
        if let days { job.periodDays = days }
        let store = RollupStore(dataDirectory: directory)
        let oldest = CivilDate(epochMilliseconds: now()).adding(days: -job.retentionDays)
        return try store.locked {
            let ends = end.map { [$0] } ?? job.dueEnds(now: now(), newest: store.read().last?.end)
            var lines: [RollupStore.Line] = []
            for end in ends {
                let line = job.line(index: index, end: end, now: now())
                try store.upsert(line, keepingFrom: oldest)
                lines.append(line)
            }
            return lines
        }
    }
}
