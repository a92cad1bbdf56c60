import Foundation

/// Funnels and experiments (docs/metrics.md): each user's matching events in order, from the event table
/// (exact within raw retention).
public enum PathAnalysis {
    /// A funnel step: an event type, optionally with a feature.
    public struct Step: Sendable, Equatable, CustomStringConvertible {
        public var type: String
        public var feature: String?

        public init?(_ text: Substring) {
            let parts = text.split(separator: ":", maxSplits: 1)
            guard let first = parts.first, EventType.isValid(String(first)) else { return nil }
            type = String(first)
            feature = parts.count == 2 ? String(parts[1]) : nil
            if feature?.isEmpty == true { return nil }
        }

        public var description: String { feature.map { "\(type):\($0)" } ?? type }
    }

    /// What a path keeps of one event: its time and which of the question's conditions it meets (bit k: step k,
    /// or for experiments bit 0: the goal).
    protocol Timed {
        var ts: Int64 { get }
        var matches: UInt16 { get }
    }

    /// An experiment's kept event: `variant` is the variant code when the event exposes the user.
    struct Event: Timed {
        var ts: Int64
        var matches: UInt16
        var variant: UInt32 = 0
    }

    /// A funnel's kept event in 8 bytes: its time (ms since the window's start) above the steps it meets (at
    /// most 8).
    struct PackedEvent: Timed {
        private let bits: UInt64

        init(ts: Int64, matches: UInt8) {
            bits = UInt64(ts) << 8 | UInt64(matches)
        }

        var ts: Int64 { Int64(bits >> 8) }
        var matches: UInt16 { UInt16(bits & 0xff) }
    }

    /// How far one user's events (by ts) go through `steps` steps: each at or after the previous, the last no
    /// later than `withinMs` after the step-1 event that starts the path; the start going furthest counts.
    static func depth<E: Timed>(_ events: ArraySlice<E>, steps: Int, withinMs: Int64) -> Int {
        var best = 0
        for i in events.indices where events[i].matches & 1 != 0 {
            let start = events[i].ts
            var depth = 1
            var at = i
            // A later start picks each step at or after this one's picks: when a step has no event left at
            // all, no later start gets past it either, and the search is over.
            var exhausted = false
            while depth < steps {
                let bit: UInt16 = 1 << depth
                guard let next = events[(at + 1)...].firstIndex(where: { $0.matches & bit != 0 }) else {
                    exhausted = true
                    break
                }
                guard events[next].ts - start <= withinMs else { break }
                at = next
                depth += 1
            }
            best = max(best, depth)
            if best == steps || exhausted { break }
        }
        return best
    }

    public struct Variant: Sendable {
        public var name: String
        public var users: Int
        public var converted: Int
        public var rate: Double { users == 0 ? 0 : Double(converted) / Double(users) }
    }

    /// Difference of two proportions against the control: the 95% interval and the two-sided p-value of a z-test.
    public static func compare(_ v: Variant, to c: Variant) -> (uplift: Double, relative: Double?, ci: (Double, Double), p: Double) {
        let p1 = c.rate, p2 = v.rate
        let diff = p2 - p1
        let se = (p1 * (1 - p1) / Double(max(c.users, 1)) + p2 * (1 - p2) / Double(max(v.users, 1))).squareRoot()
        let pooled = Double(c.converted + v.converted) / Double(max(c.users + v.users, 1))
        let sePooled = (pooled * (1 - pooled) * (1 / Double(max(c.users, 1)) + 1 / Double(max(v.users, 1)))).squareRoot()
        let z = sePooled == 0 ? 0 : diff / sePooled
        return (diff, p1 == 0 ? nil : diff / p1, (diff - 1.96 * se, diff + 1.96 * se), erfc(abs(z) / 2.0.squareRoot()))
    }
}
