import Foundation
import Testing
@testable import Telemetry

@Suite struct ConfigurationTests {
    /// A valid value other than the default for every setting, and one it must refuse (nil: it takes any text).
    static let samples: [String: (good: String, bad: String?)] = [
        "host": ("0.0.0.0", ""), "port": ("9090", "http"), "data-dir": ("/var/lib/t", ""), "static-dir": ("/srv/static", nil),
        "dash-key": ("k1,k2", nil), "dash-key-file": (keyFile, "/nonexistent/keys"), "durability": ("write", "sometimes"),
        "rotate-bytes": ("1048576", "12"), "raw-retention-days": ("30", "0"), "rollup-retention-days": ("400", "-1"),
        "rollup-at": ("04:30", "4:30"), "rollup-days": ("7", "366"), "funnel": ("signup,purchase", "Sign Up"),
        "cors-origins": ("https://a.example", ","), "rate-limit": ("2.5", "-1"), "trusted-proxies": ("127.0.0.1", nil),
        "dedup-window": ("90m", "soon"), "dedup-max-ids": ("10", "many"), "log-level": ("debug", "loud"),
        "dimensions": ("off", "sometimes"), "geoip-db": (countryDatabase, "/nonexistent/countries.mmdb"),
        "sites-file": (written(#"{"sites":[{"id":"blog"}]}"#), written(#"{"sites":[{"id":"Blog"}]}"#)),
        "event-schemas": (written(#"{"types":{"signup":{}}}"#), written(#"{"types":{"signup":{"metadata":{"x":{"type":"date"}}}}}"#)),
        "keep-bots": ("on", "maybe"), "bot-session-rate": ("10", "-1"), "webhook": ("https://hooks.example.com/x", "ftp://x"),
        "smtp-url": ("smtp://127.0.0.1:2525", "http://x"), "report-email": ("team@example.com", "nobody"),
        "report-from": ("r@example.com", "nobody"), "clickhouse-url": ("http://127.0.0.1:8123", "clickhouse:9000"),
        "clickhouse-database": ("analytics", "my-db"), "clickhouse-table": ("web_events", "events;drop"),
        "clickhouse-user": ("telemetry", ""), "clickhouse-password-file": (written("s3cret\n"), "/nonexistent/password"),
        "query-source": ("clickhouse", "duckdb"), "clickhouse-lag-limit-days": ("30", "-2"),
    ]

    /// A file holding `text`, for the settings that name a file.
    static func written(_ text: String) -> String {
        let path = NSTemporaryDirectory() + "telemetry-test-setting-\(UUID().uuidString).json"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    /// A small country database from scripts/lib/make_mmdb.py (needs mmdb-writer: scripts/setup installs it).
    static let countryDatabase: String = {
        let path = NSTemporaryDirectory() + "telemetry-test-countries-\(getpid()).mmdb"
        _ = try? runPythonScript("scripts/lib/make_mmdb.py", [path, #"{"81.2.69.0/24": "GB"}"#])
        return path
    }()

    static let keyFile: String = {
        let path = NSTemporaryDirectory() + "telemetry-test-keys-\(getpid())"
        _ = FileManager.default.createFile(atPath: path, contents: Data("# comment\nfile-key\n".utf8))
        return path
    }()

    static func file(_ object: [String: Any]) -> String {
        let path = NSTemporaryDirectory() + "telemetry-test-config-\(UUID().uuidString).json"
        _ = FileManager.default.createFile(atPath: path, contents: try! JSONSerialization.data(withJSONObject: object))
        return path
    }

    @Test func everySettingHasASampleAndADocumentedDefaultOrNone() {
        #expect(Set(Self.samples.keys) == Set(TelemetryConfiguration.settings.map(\.flag)))
        let defaults = TelemetryConfiguration()
        #expect(defaults.host == "127.0.0.1" && defaults.port == 8080 && defaults.dataDirectory == "./logs")
        #expect(defaults.rotateBytes == 64 << 20 && defaults.rollupAt == 3 * 60 + 15 && defaults.dedupWindowSeconds == 86_400)
        #expect(defaults.funnel == ["page_view", "action", "conversion"] && defaults.corsOrigins == ["*"] && defaults.dashKeys.isEmpty)
    }

    @Test(arguments: TelemetryConfiguration.settings.map(\.flag))
    func aSettingReadsTheSameByFlagByEnvironmentAndByFile(flag: String) throws {
        let setting = TelemetryConfiguration.settings.first { $0.flag == flag }!
        let value = Self.samples[flag]!.good
        let byFlag = try TelemetryConfiguration.resolve(flags: [flag: [value]], environment: [:])
        let byEnvironment = try TelemetryConfiguration.resolve(flags: [:], environment: [setting.environment: value])
        let byFile = try TelemetryConfiguration.resolve(flags: ["config": [Self.file([flag: value])]], environment: [:])
        let byFileFromEnvironment = try TelemetryConfiguration.resolve(
            flags: [:], environment: [TelemetryConfiguration.configEnvironment: Self.file([flag: value])])
        #expect(byFlag != TelemetryConfiguration(), "the sample of --\(flag) changes nothing")
        #expect(byEnvironment == byFlag)
        #expect(byFile == byFlag)
        #expect(byFileFromEnvironment == byFlag)
    }

    @Test func flagsWinOverTheEnvironmentWhichWinsOverTheFileWhichWinsOverTheDefault() throws {
        let file = Self.file(["port": 7001, "host": "10.0.0.1", "log-level": "error", "dash-key": ["f1", "f2"]])
        let c = try TelemetryConfiguration.resolve(
            flags: ["config": [file], "port": ["7003"]], environment: ["TELEMETRY_PORT": "7002", "TELEMETRY_HOST": "10.0.0.2"])
        #expect(c.port == 7003)
        #expect(c.host == "10.0.0.2")
        #expect(c.logLevel == "error")
        #expect(c.dashKeys == ["f1", "f2"])
        #expect(c.rollupDays == 30)
        let repeated = try TelemetryConfiguration.resolve(flags: ["dash-key": ["a", "b,c"], "port": ["1", "2"]], environment: [:])
        #expect(repeated.dashKeys == ["a", "b", "c"])
        #expect(repeated.port == 2)
    }

    @Test(arguments: TelemetryConfiguration.settings.map(\.flag).filter { ConfigurationTests.samples[$0]!.bad != nil })
    func aBadValueIsOneLineNamingTheSettingWhereverItCameFrom(flag: String) throws {
        let setting = TelemetryConfiguration.settings.first { $0.flag == flag }!
        let bad = Self.samples[flag]!.bad!
        for (flags, environment, name) in [
            ([flag: [bad]], [String: String](), "--\(flag) "),
            ([:], [setting.environment: bad], "\(setting.environment) "),
            (["config": [Self.file([flag: bad])]], [:], ": \(flag) "),
        ] {
            #expect {
                try TelemetryConfiguration.resolve(flags: flags, environment: environment)
            } throws: { error in
                let text = (error as? ConfigurationError)?.description ?? ""
                return text.contains(name) && !text.contains("\n")
            }
        }
    }

    @Test func unknownSettingsAndUnreadableFilesAreRefused() {
        #expect(throws: ConfigurationError.self) { try TelemetryConfiguration.resolve(flags: ["prot": ["1"]], environment: [:]) }
        #expect(throws: ConfigurationError.self) { try TelemetryConfiguration.resolve(flags: ["config": [Self.file(["prot": 1])]], environment: [:]) }
        #expect(throws: ConfigurationError.self) { try TelemetryConfiguration.resolve(flags: ["config": ["/nonexistent.json"]], environment: [:]) }
        let notJSON = NSTemporaryDirectory() + "telemetry-test-\(UUID().uuidString).json"
        _ = FileManager.default.createFile(atPath: notJSON, contents: Data("port: 1".utf8))
        #expect(throws: ConfigurationError.self) { try TelemetryConfiguration.resolve(flags: ["config": [notJSON]], environment: [:]) }
    }

    @Test func theBinaryExitsWithStatus2AndOneLineForABadValue() throws {
        for (arguments, environment, expected) in [
            (["--port", "abc"], [String: String](), "--port"),
            ([], ["TELEMETRY_DURABILITY": "never"], "TELEMETRY_DURABILITY"),
            (["--config", Self.file(["rollup-at": "25:00"])], [:], "rollup-at"),
        ] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Daemon.binary)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let stderr = Pipe()
            process.standardError = stderr
            process.standardOutput = Pipe()
            try process.run()
            process.waitUntilExit()
            let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 2)
            #expect(text.hasPrefix("telemetryd: ") && text.contains(expected) && text.split(separator: "\n").count == 1, "\(text)")
        }
    }
}
