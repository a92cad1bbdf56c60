import Foundation

/// Every setting of the daemon (docs/configuration.md), built and validated once at start-up. Each setting is
/// defined once, in `settings`: its flag, environment variable, default, validation and help; the values
/// below are only placeholders that `init()` replaces with those defaults.
public struct TelemetryConfiguration: Sendable, Equatable {
    public var host = ""
    public var port = 0
    public var dataDirectory = ""
    public var staticDirectory: String?
    public var dashKeys: [String] = []
    public var durability = Durability.fsync
    public var rotateBytes = 0
    public var rawRetentionDays = 0
    public var rollupRetentionDays = 0
    /// Minutes after midnight UTC.
    public var rollupAt = 0
    public var rollupDays = 0
    public var funnel: [String] = []
    /// `["*"]` allows any origin.
    public var corsOrigins: [String] = []
    public var rateLimit = 0.0
    public var trustedProxies: [String] = []
    public var dedupWindowSeconds = 0
    public var dedupMaxIds = 0
    public var logLevel = ""
    public var deriveDimensions = true
    public var geoipDatabase: String?
    /// The sites of `--sites-file`; empty = the one `default` site in the data directory.
    public var sites: [SiteDefinition] = []
    /// `--event-schemas`: the file of event schemas, checked at start-up and reloaded on SIGHUP.
    public var eventSchemas: String?
    /// `--webhook`: every daily summary and alert goes to these.
    public var webhooks: [String] = []
    /// `--smtp-url`: the relay reports are mailed through.
    public var smtpURL: String?
    /// `--report-email`: who gets the daily and weekly summaries.
    public var reportEmails: [String] = []
    /// `--report-from`: the sender of report mails.
    public var reportFrom = ""
    /// Store bots with `device` `bot` instead of dropping them.
    public var keepBots = false
    /// Events per second of event time one session may send before it counts as a bot; 0 = no limit.
    public var botSessionRate = 0

    /// The ClickHouse sink and query source (docs/clickhouse.md).
    public var clickhouse = ClickHouseSettings()

    /// The documented defaults.
    public init() {
        for setting in Self.settings {
            guard let value = setting.defaultValue else { continue }
            do {
                try setting.apply(&self, value)
            } catch {
                preconditionFailure("the default of --\(setting.flag) is invalid: \(error)")
            }
        }
    }

    /// One setting: its flag (without dashes), its environment variable, its default (nil: unset), its help, and
    /// how a text value applies to the configuration (throwing what is wrong with the value, without its name).
    public struct Setting: Sendable {
        public var flag: String
        public var environment: String
        public var defaultValue: String?
        public var help: String
        /// A repeatable flag adds each value (`--dash-key a --dash-key b`); others keep the last.
        var repeatable = false
        /// An on/off setting: `--flag` alone means on.
        public var isSwitch = false
        let apply: @Sendable (inout TelemetryConfiguration, String) throws(ConfigurationError) -> Void
    }

    /// The flag and environment variable naming a configuration file (JSON; keys are the flag names).
    public static let configFlag = "config"
    public static let configEnvironment = "TELEMETRY_CONFIG"

    /// Builds the configuration from flags, then the environment, then a configuration file, then the defaults
    /// (the first that sets a value wins). `flags` maps a flag name (without dashes) to the values given.
    public static func resolve(flags: [String: [String]], environment: [String: String]) throws(ConfigurationError) -> TelemetryConfiguration {
        for name in flags.keys where name != configFlag && !settings.contains(where: { $0.flag == name }) {
            throw ConfigurationError("unknown option --\(name)")
        }
        var file: [String: [String]] = [:]
        var fileName = ""
        if let path = flags[configFlag]?.last ?? environment[configEnvironment] {
            fileName = path
            file = try ConfigurationFile.read(path)
            for key in file.keys where !settings.contains(where: { $0.flag == key }) {
                throw ConfigurationError("config file \(path): unknown setting \"\(key)\"")
            }
        }
        var config = TelemetryConfiguration()
        for setting in settings {
            let given: (source: String, values: [String])?
            if let values = flags[setting.flag], !values.isEmpty {
                given = ("--\(setting.flag)", values)
            } else if let value = environment[setting.environment] {
                given = (setting.environment, [value])
            } else if let values = file[setting.flag] {
                given = ("config file \(fileName): \(setting.flag)", values)
            } else {
                given = nil
            }
            guard let given else { continue }
            for value in setting.repeatable ? given.values : Array(given.values.suffix(1)) {
                do {
                    try setting.apply(&config, value)
                } catch {
                    throw ConfigurationError("\(given.source) \(error.description)")
                }
            }
        }
        return config
    }
}

/// A bad setting: one clear line naming it, printed on stderr before exiting with status 2.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Reads a configuration file: a JSON object whose keys are flag names and whose values are strings, numbers,
/// booleans or (for repeatable settings) arrays of them.
enum ConfigurationFile {
    static func read(_ path: String) throws(ConfigurationError) -> [String: [String]] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigurationError("cannot read config file \(path)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigurationError("config file \(path) is not a JSON object")
        }
        var values: [String: [String]] = [:]
        for (key, value) in object {
            let items = value as? [Any] ?? [value]
            values[key] = try items.map { item throws(ConfigurationError) in
                switch item {
                case let text as String: return text
                case let number as NSNumber: return number.stringValue
                default: throw ConfigurationError("config file \(path): \(key) must be a string, a number or a list of them")
                }
            }
        }
        return values
    }
}
