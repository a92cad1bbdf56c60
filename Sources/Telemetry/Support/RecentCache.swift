/// Remembers what a function gave for up to `capacity` recent keys, in memory only, forgetting them all when full.
///
/// For what every request carries and few distinct values repeat: a site's visitors send a handful of
/// User-Agents, so classifying each one (and checking it against the bot list) once is enough.
final class RecentCache<Value: Sendable>: Sendable {
    let capacity: Int
    private let known = Locked([String: Value]())

    init(capacity: Int) {
        self.capacity = capacity
    }

    func value(for key: String, computing compute: (String) -> Value) -> Value {
        if let hit = known.withLock({ $0[key] }) { return hit }
        let value = compute(key)
        known.withLock { known in
            if known.count >= capacity { known.removeAll(keepingCapacity: true) }
            known[key] = value
        }
        return value
    }
}
