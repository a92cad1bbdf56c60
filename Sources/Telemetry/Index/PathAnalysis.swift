import Foundation

/// Funnels and experiments need each user's events in order, so they read the raw log of the window
/// (exact within raw retention; docs/metrics.md).
public struct PathAnalysis {
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

    /// What a scan keeps of one event: its time and which of the question's conditions it meets (bit k: step k,
    /// or for experiments bit 0: the goal). Events that meet none are not kept, so memory grows with the
    /// matching events only.
    struct Event {
        var ts: Int64
        var matches: UInt16
        /// `metadata.variant` when the event exposes the user to the experiment asked about.
        var variant: String?
    }

    let dataDirectory: String
    let cancellation: ScanCancellation

    public init(dataDirectory: String, cancellation: ScanCancellation = ScanCancellation()) {
        self.dataDirectory = dataDirectory
        self.cancellation = cancellation
    }

    /// Each identified user's kept events within the window, by ts.
    func events(start: CivilDate, end: CivilDate, keep: (StoredEvent, UnsafeBufferPointer<UInt8>) -> Event?) throws -> [String: [Event]] {
        var users: [String: [Event]] = [:]
        let replay = LogReplay(directory: dataDirectory, logger: .init(label: "telemetryd"))
        try replay.forEachEvent(in: replay.files(), cancellation: cancellation) { e, line in
            let day = CivilDate(epochMilliseconds: e.ts)
            guard day >= start, day <= end, let u = e.user, let event = keep(e, line) else { return }
            users[JSONString.decode(canonical: Array(line[u])), default: []].append(event)
        }
        for key in users.keys { users[key]!.sort { $0.ts < $1.ts } }
        return users
    }

    /// The bit set of `steps` that the stored event matches.
    static func matches(_ steps: [Step], _ e: StoredEvent, _ line: UnsafeBufferPointer<UInt8>) -> UInt16 {
        let type = JSONString.decode(canonical: Array(line[e.eventType]))
        let feature = e.feature.map { JSONString.decode(canonical: Array(line[$0])) }
        var mask: UInt16 = 0
        for (k, step) in steps.enumerated() where step.type == type && (step.feature == nil || step.feature == feature) {
            mask |= 1 << k
        }
        return mask
    }

    /// Users reaching each step: steps in order, each at or after the previous, the last no later than
    /// `within` ms after the step-1 event that starts the path; the start letting the user go furthest counts.
    public func funnel(steps: [Step], start: CivilDate, end: CivilDate, withinMs: Int64) throws -> [Int] {
        var reached = [Int](repeating: 0, count: steps.count)
        let users = try events(start: start, end: end) { e, line in
            let mask = Self.matches(steps, e, line)
            return mask == 0 ? nil : Event(ts: e.ts, matches: mask)
        }
        for (_, events) in users {
            var best = 0
            for (i, e) in events.enumerated() where e.matches & 1 != 0 {
                var depth = 1
                var at = i
                while depth < steps.count {
                    let bit: UInt16 = 1 << depth
                    guard let next = events[(at + 1)...].firstIndex(where: { $0.matches & bit != 0 }),
                        events[next].ts - e.ts <= withinMs else { break }
                    at = next
                    depth += 1
                }
                best = max(best, depth)
                if best == steps.count { break }
            }
            for k in 0..<best { reached[k] += 1 }
        }
        return reached
    }

    public struct Variant: Sendable {
        public var name: String
        public var users: Int
        public var converted: Int
        public var rate: Double { users == 0 ? 0 : Double(converted) / Double(users) }
    }

    /// Exposure: a user's first event in the window whose `metadata.experiment` is `name`; its `metadata.variant`
    /// is theirs for good. Conversion: an event matching `goal` at or after exposure.
    public func experiment(_ name: String, goal: Step, start: CivilDate, end: CivilDate) throws -> [Variant] {
        var variants: [String: Variant] = [:]
        var nameBytes: [UInt8] = []
        JSONString.appendEscaped(name.utf8, into: &nameBytes)
        let users = try events(start: start, end: end) { e, line in
            var variant: String?
            // Parse the metadata only of lines that can name the experiment.
            if UserNeedle.contains(line, nameBytes), let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let metadata = object["metadata"] as? [String: Any], metadata["experiment"] as? String == name {
                variant = metadata["variant"].map { "\($0)" } ?? "(none)"
            }
            let goalMatched = Self.matches([goal], e, line)
            return variant == nil && goalMatched == 0 ? nil : Event(ts: e.ts, matches: goalMatched, variant: variant)
        }
        for (_, events) in users {
            guard let exposure = events.firstIndex(where: { $0.variant != nil }), let variantName = events[exposure].variant else { continue }
            var v = variants[variantName] ?? Variant(name: variantName, users: 0, converted: 0)
            v.users += 1
            if events[exposure...].contains(where: { $0.matches != 0 }) { v.converted += 1 }
            variants[variantName] = v
        }
        return variants.values.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
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
