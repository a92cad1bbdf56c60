/// One UTC date's counts by event type and by feature, and the set of its users (docs/files.md).
public struct DayAggregate: Sendable, Equatable {
    public var events = 0
    /// Indexed by the index's type and feature name ids.
    var types: [Int] = []
    var features: [Int] = []
    public var users = UserSet()
    /// Events per UTC hour of the date (24 entries once the date has an event).
    public var hours: [Int] = []

    @inline(__always)
    mutating func add(type: Int, feature: Int?, user: UInt32?, hour: Int) {
        events += 1
        if hours.isEmpty { hours = Array(repeating: 0, count: 24) }
        hours[hour] += 1
        if type >= types.count { types.append(contentsOf: repeatElement(0, count: type + 1 - types.count)) }
        types[type] += 1
        if let feature {
            if feature >= features.count { features.append(contentsOf: repeatElement(0, count: feature + 1 - features.count)) }
            features[feature] += 1
        }
        if let user { users.insert(user) }
    }

    var memoryBytes: Int { users.memoryBytes + types.capacity * 8 + features.capacity * 8 + 64 }
}
