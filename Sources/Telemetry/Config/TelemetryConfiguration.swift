import Foundation

/// Every setting of docs/configuration.md, built and validated once at start-up.
public struct TelemetryConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var dataDirectory = "./logs"
    public var staticDirectory: String?
    public var dashKeys: [String] = []
    public var durability = Durability.fsync
    public var rotateBytes = 64 << 20
    public var rawRetentionDays = 90
    public var rollupRetentionDays = 365
    /// Minutes after midnight UTC.
    public var rollupAt = 3 * 60 + 15
    public var rollupDays = 30
    public var funnel = ["page_view", "action", "conversion"]
    /// `["*"]` allows any origin.
    public var corsOrigins = ["*"]
    public var rateLimit = 50.0
    public var trustedProxies: [String] = []
    public var dedupWindowSeconds = 86_400
    public var dedupMaxIds = 5_000_000
    public var logLevel = "info"

    public init() {}

    /// One setting: its flag, its environment variable, and how a text value applies to the configuration.
    public struct Setting: Sendable {
        public var flag: String
        public var environment: String
        public var help: String
        let apply: @Sendable (inout TelemetryConfiguration, String) throws(ConfigurationError) -> Void
    }

    /// Builds the configuration from flag values (which win) and the environment.
    /// `flags` maps a setting's flag name (without dashes) to the values given on the command line.
    public static func resolve(
        flags: [String: [String]], environment: [String: String], only names: Set<String>? = nil
    ) throws(ConfigurationError) -> TelemetryConfiguration {
        var config = TelemetryConfiguration()
        for setting in settings where names?.contains(setting.flag) ?? true {
            if let values = flags[setting.flag], !values.isEmpty {
                for value in values { try setting.apply(&config, value) }
            } else if let value = environment[setting.environment] {
                try setting.apply(&config, value)
            }
        }
        for key in config.dashKeys where key.isEmpty {
            throw ConfigurationError("dash keys must not be empty")
        }
        return config
    }
}

/// A bad setting: one clear line, printed on stderr before exiting with status 2.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
