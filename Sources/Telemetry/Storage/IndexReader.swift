/// How the HTTP layer reads the day index: after the applier has caught up with every batch acknowledged
/// before the request, so an answer never misses an event its sender was told was stored.
public struct IndexReader: Sendable {
    let index: DayIndex
    let applier: IndexApplier

    func current() async -> DayIndex {
        await applier.caughtUp()
        return index
    }
}

extension Storage {
    var reader: IndexReader { IndexReader(index: index, applier: applier) }
}
