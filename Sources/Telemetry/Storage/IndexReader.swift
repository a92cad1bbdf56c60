/// How the HTTP layer reads the day index and the event table: after the applier has caught up with every
/// batch acknowledged before the request (so an answer never misses an event its sender was told was stored),
/// and on the query thread, off Swift's cooperative pool.
public struct IndexReader: Sendable {
    let index: DayIndex
    let table: EventTable
    let applier: IndexApplier
    let thread: QueryThread

    func read<T: Sendable>(_ query: @escaping @Sendable (DayIndex) -> T) async -> T {
        await applier.caughtUp()
        return await thread.run { [index] in query(index) }
    }

    /// Runs `query` over a snapshot of the event table with `filter` compiled against it.
    func scan<T: Sendable>(_ filter: EventFilter, _ query: @escaping @Sendable (TableQuery) -> T) async -> T {
        await applier.caughtUp()
        await table.waitUntilLoaded()
        return await thread.run { [table] in
            let answer = query(TableQuery(table.snapshot, filter: filter, hasher: table.hasher, caches: table.caches))
            // What the scan read of the column file goes back to the page cache: the next scan maps it again
            // without a disk read (measured: no slower), and the daemon's resident memory stays its heap's.
            table.releaseScannedPages()
            return answer
        }
    }

    /// The daily series (docs/api.md), of the matching events when `filter` has conditions.
    func daily(end: CivilDate, days: Int, funnel: [String], filter: EventFilter) async -> [DailyFigures] {
        guard !filter.isEmpty else { return await read { $0.daily(end: end, days: days, funnel: funnel) } }
        return await scan(filter) { t in
            t.dayIndex(t.firstDate(orElse: end.dayNumber), end.dayNumber).daily(end: end, days: days, funnel: funnel)
        }
    }
}
