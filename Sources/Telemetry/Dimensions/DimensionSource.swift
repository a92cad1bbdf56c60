/// Turns a request's User-Agent and client address into the dimensions its events get (docs/dimensions.md).
struct DimensionSource: Sendable {
    /// `--dimensions off` stores events as sent.
    let enabled: Bool
    /// `--geoip-db`: the country database, when one is configured.
    let countries: CountryDatabase?
    /// The classification of recent User-Agents: a site's visitors send few distinct ones, and every request
    /// carries one.
    let agents = RecentCache<UserAgent>(capacity: 4096)

    func dimensions(userAgent: String?, client: String) -> RequestDimensions {
        guard enabled else { return .off }
        let agent = userAgent.map { agents.value(for: $0, computing: UserAgent.init) }
        return RequestDimensions(userAgent: agent, country: countries?.country(of: client))
    }
}
