/// Events and users of the last 30 minutes, by minute of `ts`, for `/api/analytics/live`.
/// Kept in memory only: after a restart it fills again from new events.
struct LiveWindow: Sendable {
    struct Minute: Sendable {
        var minute: Int64 = -1
        var events = 0
        var users = HashSlots()
    }

    static let minutes = 30
    private(set) var slots = [Minute](repeating: Minute(), count: LiveWindow.minutes)

    @inline(__always)
    mutating func add(ts: Int64, user: UInt64?) {
        let minute = ts / Milliseconds.minute
        let slot = Int(minute % Int64(Self.minutes))
        if slots[slot].minute != minute {
            guard minute > slots[slot].minute else { return }  // older than the window
            slots[slot] = Minute(minute: minute)
        }
        slots[slot].events += 1
        if let user { slots[slot].users.insert(user) }
    }

    /// Events per minute, oldest first, for the 30 minutes up to `now`; and events and users of the last 5.
    func summary(now: Int64) -> (perMinute: [Int], events5: Int, users5: Int) {
        let current = now / Milliseconds.minute
        var perMinute: [Int] = []
        var events5 = 0
        var users5 = Set<UInt64>()
        for m in (current - Int64(Self.minutes) + 1)...current {
            let slot = slots[Int(((m % Int64(Self.minutes)) + Int64(Self.minutes)) % Int64(Self.minutes))]
            let n = slot.minute == m ? slot.events : 0
            perMinute.append(n)
            if m > current - 5, slot.minute == m {
                events5 += n
                slot.users.forEachKey { users5.insert($0) }
            }
        }
        return (perMinute, events5, users5.count)
    }
}
