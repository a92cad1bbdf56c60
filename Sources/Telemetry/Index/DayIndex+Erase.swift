extension DayIndex {
    /// Takes one erased event out of its date's counts (dates still in the raw log are then exact).
    func subtract(_ event: StoredEvent, line: UnsafeBufferPointer<UInt8>) {
        state.withLock { s in
            let date = CivilDate(epochMilliseconds: event.ts)
            guard var day = s.days[date.dayNumber] else { return }
            day.events -= 1
            if let t = s.types.lookup(Array(line[event.eventType])), t < day.types.count { day.types[t] -= 1 }
            if let f = event.feature.flatMap({ s.features.lookup(Array(line[$0])) }), f < day.features.count { day.features[f] -= 1 }
            let hour = Int((event.ts - date.startMilliseconds) / Milliseconds.hour)
            if day.hours.count == 24 { day.hours[hour] -= 1 }
            s.days[date.dayNumber] = day
            s.dirty.insert(date.dayNumber)
        }
    }

    /// Removes a user (by canonical id bytes) from every date's user set: dau, wau and mau as if they never came.
    func removeUser(canonical: [UInt8]) {
        let hash = canonical.withUnsafeBufferPointer { hasher.hash($0) }
        state.withLock { s in
            guard let id = s.users.lookup(hash) else { return }
            for (n, day) in s.days where day.users.contains(id) {
                s.days[n]!.users.remove(id)
                s.dirty.insert(n)
            }
        }
    }

    func setPosition(_ position: LogPosition) { state.withLock { $0.position = position } }
}
