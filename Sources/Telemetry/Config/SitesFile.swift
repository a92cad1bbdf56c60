import Foundation

/// One site of the sites file (docs/sites.md): its own data directory, origins, keys and raw retention.
public struct SiteDefinition: Sendable, Equatable {
    public var id: String
    /// Browser origins allowed to send this site's events; empty = the daemon's `--cors-origins`.
    public var origins: [String] = []
    /// Keys that read this site only.
    public var dashKeys: [String] = []
    /// Overrides `--raw-retention-days` for this site.
    public var rawRetentionDays: Int?
    /// Webhooks of this site only (its daily summary and its alerts), beside the daemon's `--webhook`s.
    public var webhooks: [String] = []

    /// The site of a daemon without a sites file, stored in the data directory itself.
    public static let defaultID = "default"

    /// `^[a-z0-9][a-z0-9_-]{0,31}$`
    public static func isValid(id: String) -> Bool {
        let b = Array(id.utf8)
        guard (1...32).contains(b.count) else { return false }
        func alnum(_ c: UInt8) -> Bool { (0x61...0x7A).contains(c) || (0x30...0x39).contains(c) }
        return alnum(b[0]) && b.dropFirst().allSatisfy { alnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }
}

/// Reads `--sites-file`: `{"sites":[{"id":"blog","origins":[…],"dash_keys":[…],"raw_retention_days":90}]}`.
enum SitesFile {
    static func read(_ path: String) throws(ConfigurationError) -> [SiteDefinition] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigurationError("cannot read the sites file \(path)") }
        func bad(_ why: String) -> ConfigurationError { ConfigurationError("sites file \(path): \(why)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let list = object["sites"] as? [Any] else {
            throw bad("must be a JSON object with a \"sites\" array")
        }
        guard !list.isEmpty else { throw bad("\"sites\" must not be empty") }
        var sites: [SiteDefinition] = []
        for (i, item) in list.enumerated() {
            guard let entry = item as? [String: Any] else { throw bad("sites[\(i)] must be an object") }
            guard let id = entry["id"] as? String, SiteDefinition.isValid(id: id) else {
                throw bad("sites[\(i)].id must match ^[a-z0-9][a-z0-9_-]{0,31}$")
            }
            guard !sites.contains(where: { $0.id == id }) else { throw bad("site \"\(id)\" is declared twice") }
            for key in entry.keys where !["id", "origins", "dash_keys", "raw_retention_days", "webhooks", "name"].contains(key) {
                throw bad("sites[\(i)]: unknown key \"\(key)\"")
            }
            var site = SiteDefinition(id: id)
            if let origins = entry["origins"] {
                guard let strings = origins as? [String], !strings.contains(where: \.isEmpty) else {
                    throw bad("sites[\(i)].origins must be a list of origins")
                }
                site.origins = strings
            }
            if let keys = entry["dash_keys"] {
                guard let strings = keys as? [String], !strings.contains(where: \.isEmpty) else {
                    throw bad("sites[\(i)].dash_keys must be a list of keys")
                }
                site.dashKeys = strings
            }
            if let hooks = entry["webhooks"] {
                guard let strings = hooks as? [String], strings.allSatisfy(TelemetryConfiguration.isWebURL) else {
                    throw bad("sites[\(i)].webhooks must be a list of http(s) URLs")
                }
                site.webhooks = strings
            }
            if let days = entry["raw_retention_days"] {
                guard let n = days as? Int, !(days is Bool), (1...36500).contains(n) else {
                    throw bad("sites[\(i)].raw_retention_days must be an integer from 1 to 36500")
                }
                site.rawRetentionDays = n
            }
            sites.append(site)
        }
        return sites
    }
}

extension TelemetryConfiguration {
    /// The sites this daemon serves: those of the sites file, or the one `default` site.
    public var siteDefinitions: [SiteDefinition] {
        sites.isEmpty ? [SiteDefinition(id: SiteDefinition.defaultID)] : sites
    }

    /// The configuration one site's storage opens with: its own data directory and retention.
    /// `default` always lives in the data directory itself, so an installation gains a sites file in place.
    public func forSite(_ site: SiteDefinition) -> TelemetryConfiguration {
        var c = self
        if site.id != SiteDefinition.defaultID {
            c.dataDirectory = (dataDirectory as NSString).appendingPathComponent("sites/\(site.id)")
        }
        if let days = site.rawRetentionDays { c.rawRetentionDays = days }
        if !site.origins.isEmpty { c.corsOrigins = site.origins }
        return c
    }

    /// The data directory of site `id`, or nil when the daemon has no such site.
    public func dataDirectory(site id: String) -> String? {
        siteDefinitions.first { $0.id == id }.map { forSite($0).dataDirectory }
    }
}
