import Logging

/// Opens the day index at start-up: aggregates from disk, then the part of the raw log they do not cover.
public struct IndexLoader {
    public struct Report: Sendable {
        public var loadedDays = 0
        public var replayedEvents = 0
        public var rebuilt = false
        public var nextSeq = 1
        /// Where the replay started: the stored position, or nil when the whole raw log was replayed.
        public var replayedFrom: LogPosition?
    }

    /// Called with every event the replay reads (the dedup window is refilled from the same pass).
    public typealias Observer = (StoredEvent, UnsafeBufferPointer<UInt8>) -> Void

    let dataDirectory: String
    let logger: Logger

    public init(dataDirectory: String, logger: Logger) {
        self.dataDirectory = dataDirectory
        self.logger = logger
    }

    /// Loads `index` from `store` and replays the raw log past the stored position.
    public func open(_ index: DayIndex, store: AggregateStore, progress: ProgressReporter? = nil, observe: Observer? = nil) throws -> Report {
        let loaded = store.load(into: index)
        let replay = LogReplay(directory: dataDirectory, logger: logger)
        var report = Report(loadedDays: loaded.days)
        let floor = loaded.position?.seq ?? 1
        report.nextSeq = SegmentRotation.nextSeq(in: dataDirectory, atLeast: floor)
        let activeSize = FileSystem.size(dataDirectory + "/" + SegmentName.active) ?? 0
        let segments = replay.segments()

        // An erasure that did not finish rewrote some segments after the aggregates were written: their position
        // and counts no longer match the log, so the dates the log holds are rebuilt.
        let erasing = FileSystem.exists(UserEraser.markerPath(dataDirectory))
        if !erasing, let position = loaded.position, position.seq == report.nextSeq ? position.offset <= activeSize : true {
            report.replayedFrom = position
            let damaged = Set(loaded.damaged)
            var noClearing: Set<Int>? = nil
            if !damaged.isEmpty {
                // Damaged dates come back whole from the raw log.
                for path in replay.files() { report.replayedEvents += try replayFile(path, skip: 0, into: index, only: damaged, clearing: &noClearing, progress: progress, observe: observe) }
            }
            // Everything before `position` is in the aggregates.
            for name in segments where name.seq >= position.seq {
                let skip = name.seq == position.seq ? position.offset : 0
                report.replayedEvents += try replayFile(replay.path(name), skip: skip, into: index, except: damaged, clearing: &noClearing, progress: progress, observe: observe)
            }
            let skip = report.nextSeq == position.seq ? position.offset : 0
            report.replayedEvents += try replayFile(replay.activePath, skip: skip, into: index, except: damaged, clearing: &noClearing, progress: progress, observe: observe)
        } else {
            // Rebuild the dates the raw log holds; aggregates of older dates (past raw retention) stay.
            report.rebuilt = true
            var cleared: Set<Int>? = []
            for path in replay.files() {
                report.replayedEvents += try replayFile(path, skip: 0, into: index, clearing: &cleared, progress: progress, observe: observe)
            }
            logger.info("rebuilt day index from the raw log", metadata: ["events": "\(report.replayedEvents)"])
        }
        index.setPosition(LogPosition(seq: report.nextSeq, offset: activeSize))
        try store.flush(index)
        if erasing {
            try store.io.unlinkFile(UserEraser.markerPath(dataDirectory))
            try store.io.fsyncDirectory(dataDirectory + "/aggregates")
            logger.warning("an erasure was interrupted: the day index was rebuilt from the raw log; erase the user again")
        }
        return report
    }

    /// Adds the events of one file; with `clearing`, a date's stored aggregate is dropped before its first raw event.
    private func replayFile(
        _ path: String, skip: Int, into index: DayIndex, only: Set<Int>? = nil, except: Set<Int> = [],
        clearing: inout Set<Int>?, progress: ProgressReporter? = nil, observe: Observer? = nil
    ) throws -> Int {
        guard FileSystem.exists(path) else { return 0 }
        var count = 0
        defer { progress?.advance(by: (FileSystem.size(path) ?? 0) - skip, items: count) }
        var cleared = clearing
        var lastDay = Int.min
        // Compressed segments were written by this daemon and checked by gzip's CRC: read them the fast way.
        let trusted = path.hasSuffix(".gz")
        try index.load { bulk in
            try SegmentReader.forEachLine(path: path, skipping: skip) { line, _ in
                guard let e = (trusted ? StoredEvent.parseCanonical(line) : nil) ?? StoredEvent.parse(line) else { return }
                observe?(e, line)
                let day = CivilDate(epochMilliseconds: e.ts).dayNumber
                if let only, !only.contains(day) { return }
                if !except.isEmpty, except.contains(day) { return }
                if day != lastDay {
                    // Consecutive events mostly share a date: look the set up once per run of them.
                    if cleared?.insert(day).inserted == true { bulk.clear(day: day) }
                    lastDay = day
                }
                bulk.add(e, line: line)
                count += 1
            }
        }
        clearing = cleared
        return count
    }
}
