import Synchronization

/// A token bucket per client address (rate per second, burst twice the rate), in memory only.
public final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var last: Int64
    }

    let rate: Double
    let burst: Double
    private let buckets = Locked([String: Bucket]())

    public init(perSecond rate: Double) {
        self.rate = rate
        self.burst = max(1, rate * 2)
    }

    /// nil when allowed; otherwise the seconds until a request would be.
    public func check(_ client: String, now: Int64) -> Int? {
        guard rate > 0 else { return nil }
        return buckets.withLock { all in
            if all.count > 100_000 { prune(&all, now: now) }
            var b = all[client] ?? Bucket(tokens: burst, last: now)
            b.tokens = min(burst, b.tokens + Double(max(0, now - b.last)) / 1000 * rate)
            b.last = now
            if b.tokens >= 1 {
                b.tokens -= 1
                all[client] = b
                return nil
            }
            all[client] = b
            return max(1, Int(((1 - b.tokens) / rate).rounded(.up)))
        }
    }

    private func prune(_ all: inout [String: Bucket], now: Int64) {
        let refill = Int64(burst / rate * 1000)
        all = all.filter { now - $0.value.last < refill }
    }
}
