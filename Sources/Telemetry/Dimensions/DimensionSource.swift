/// Turns a request's User-Agent and client address into the dimensions its events get (docs/dimensions.md).
struct DimensionSource: Sendable {
    /// `--dimensions off` stores events as sent.
    let enabled: Bool
    /// `--geoip-db`: the country database, when one is configured.
    let countries: CountryDatabase?

    func dimensions(userAgent: String?, client: String) -> RequestDimensions {
        guard enabled else { return .off }
        return RequestDimensions(userAgent: userAgent.map { UserAgent($0) }, country: countries?.country(of: client))
    }
}
