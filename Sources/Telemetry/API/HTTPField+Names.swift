import HTTPTypes

/// Header names the standard set lacks, built once instead of on every request.
extension HTTPField.Name {
    /// The analytics API key (docs/api.md).
    static let xDashKey = Self("X-Dash-Key")!
    /// The client chain added by a reverse proxy; trusted only from the configured proxies.
    static let xForwardedFor = Self("X-Forwarded-For")!
}

extension HTTPField.Name {
    /// A read-only share token (docs/sites.md).
    static let xShareToken = Self("X-Share-Token")!
    /// Names one `telemetryd import --url` run across its parts (docs/import.md).
    static let xImportRun = Self("X-Import-Run")!
}
