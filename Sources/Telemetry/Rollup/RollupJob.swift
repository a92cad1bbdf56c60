/// The daily rollup: which `end`s are due, and the line for one of them (docs/files.md).
public struct RollupJob: Sendable {
    public var rollupAt: Int
    public var periodDays: Int
    public var retentionDays: Int
    public var funnel: [String]

    public init(configuration c: TelemetryConfiguration) {
        rollupAt = c.rollupAt
        periodDays = c.rollupDays
        retentionDays = c.rollupRetentionDays
        funnel = c.funnel
    }

    /// The newest `end` whose rollup time has passed at `now`: yesterday after the rollup time, else the day before.
    public func latestDue(now: Int64) -> CivilDate {
        let today = CivilDate(epochMilliseconds: now)
        let minute = Int((now - today.startMilliseconds) / Milliseconds.minute)
        return today.adding(days: minute >= rollupAt ? -1 : -2)
    }

    /// Every due `end` after `newest`, at most `retentionDays` of them; without any line, only the latest due.
    public func dueEnds(now: Int64, newest: CivilDate?) -> [CivilDate] {
        let latest = latestDue(now: now)
        guard let newest else { return [latest] }
        guard newest < latest else { return [] }
        let first = max(newest.dayNumber + 1, latest.dayNumber - retentionDays + 1)
        return (first...latest.dayNumber).map(CivilDate.init(dayNumber:))
    }

    /// Milliseconds from `now` until the next rollup time.
    public func untilNext(now: Int64) -> Int64 {
        let today = CivilDate(epochMilliseconds: now)
        var next = today.startMilliseconds + Int64(rollupAt) * Milliseconds.minute
        if next <= now { next += Milliseconds.day }
        return next - now
    }

    /// The rollup line for `end`.
    public func line(index: DayIndex, end: CivilDate, periodDays days: Int? = nil, now: Int64) -> RollupStore.Line {
        let started = ContinuousClock.now
        let report = index.usage(end: end, days: days ?? periodDays, funnel: funnel)
        let day = index.daily(end: end, days: 1, funnel: funnel)[0]
        let elapsed = started.duration(to: .now)
        let durationMs = Int(elapsed.nanoseconds / 1_000_000)
        let text = JSONWriter.build { w in
            w.field("ts", Timestamp.secondsString(now))
            w.field("end", end.description)
            report.write(into: &w)
            w.key("day")
            w.object { w in
                w.field("date", end.description)
                w.field("users", day.users)
                w.field("events", day.events)
            }
            w.field("duration_ms", durationMs)
        }
        return RollupStore.Line(end: end, text: text)
    }
}
