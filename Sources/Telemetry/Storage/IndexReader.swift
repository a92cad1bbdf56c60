/// How the HTTP layer reads the day index: after the applier has caught up with every batch acknowledged
/// before the request (so an answer never misses an event its sender was told was stored), and on the query
/// thread, off Swift's cooperative pool.
public struct IndexReader: Sendable {
    let index: DayIndex
    let applier: IndexApplier
    let thread: QueryThread

    func read<T: Sendable>(_ query: @escaping @Sendable (DayIndex) -> T) async -> T {
        await applier.caughtUp()
        return await thread.run { [index] in query(index) }
    }
}
