/// Turns a request's User-Agent and client address into the dimensions its events get (docs/dimensions.md).
struct DimensionSource: Sendable {
    /// `--dimensions off` stores events as sent.
    let enabled: Bool
    /// `--geoip-db`: the country database, when one is configured.
    let countries: CountryDatabase?
    /// The classification of recent User-Agents: a site's visitors send few distinct ones, and every request
    /// carries one.
    let agents = UserAgentCache()

    func dimensions(userAgent: String?, client: String) -> RequestDimensions {
        guard enabled else { return .off }
        return RequestDimensions(userAgent: userAgent.map(agents.classify), country: countries?.country(of: client))
    }
}

/// Remembers the classification of up to `capacity` User-Agents in memory (never on disk), forgetting them all
/// when full.
final class UserAgentCache: Sendable {
    static let capacity = 4096
    private let known = Locked([String: UserAgent]())

    func classify(_ userAgent: String) -> UserAgent {
        if let hit = known.withLock({ $0[userAgent] }) { return hit }
        let parsed = UserAgent(userAgent)
        known.withLock { known in
            if known.count >= Self.capacity { known.removeAll(keepingCapacity: true) }
            known[userAgent] = parsed
        }
        return parsed
    }
}
