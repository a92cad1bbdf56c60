/// What was worked out from dates' rows (day groups, a date's members, its visits), by key and date, within a memory budget
/// (least recently used first out). A value stands for its date's rows as they were: it is used only while the
/// date has the same number of rows (events are only appended) and the table has erased or expired nothing
/// since it was built.
final class DayCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var rows: Int
        var generation: Int
        var value: Value
        var bytes: Int
        var used: Int
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
        var clock = 0
    }

    /// The bytes the kept values may hold.
    let budget: Int
    private let size: @Sendable (Value) -> Int
    private let state = Locked(State())

    init(budget: Int, size: @escaping @Sendable (Value) -> Int) {
        self.budget = budget
        self.size = size
    }

    /// The value of `key` for a date of `rows` rows in table generation `generation`: the kept one, or the one
    /// `build` makes (then kept).
    func value(_ key: Key, rows: Int, generation: Int, build: () -> Value) -> Value {
        let kept: Value? = state.withLock { s in
            guard let e = s.entries[key], e.rows == rows, e.generation == generation else { return nil }
            s.clock += 1
            s.entries[key]!.used = s.clock
            return e.value
        }
        if let kept { return kept }
        let value = build()
        let bytes = size(value)
        state.withLock { s in
            // A build from an older snapshot than the kept value's is not kept.
            if let e = s.entries[key], e.generation > generation || (e.generation == generation && e.rows > rows) { return }
            s.bytes -= s.entries[key]?.bytes ?? 0
            s.clock += 1
            s.entries[key] = Entry(rows: rows, generation: generation, value: value, bytes: bytes, used: s.clock)
            s.bytes += bytes
            while s.bytes > budget, let oldest = s.entries.min(by: { $0.value.used < $1.value.used }) {
                s.bytes -= oldest.value.bytes
                s.entries[oldest.key] = nil
            }
        }
        return value
    }

    /// Forgets every value (the table erased or expired events).
    func removeAll() {
        state.withLock { s in
            s.entries = [:]
            s.bytes = 0
        }
    }

    var memoryBytes: Int { state.withLock { $0.bytes } }
}
