import ArgumentParser
import Foundation
import Telemetry

/// The flags of docs/configuration.md; each also reads its environment variable, and a flag wins.
struct SettingsOptions: ParsableArguments {
    @Option(help: "Listen address [TELEMETRY_HOST, default 127.0.0.1].") var host: String?
    @Option(help: "Listen port, 0 = any free port [TELEMETRY_PORT, default 8080].") var port: String?
    @Option(name: .customLong("data-dir"), help: "Data directory [TELEMETRY_DATA_DIR, default ./logs].") var dataDir: String?
    @Option(name: .customLong("static-dir"), help: "Serve static files from here instead of the embedded copies [TELEMETRY_STATIC_DIR].") var staticDir: String?
    @Option(name: .customLong("dash-key"), help: "Accepted X-Dash-Key value, repeatable or comma separated [TELEMETRY_DASH_KEYS].") var dashKey: [String] = []
    @Option(name: .customLong("dash-key-file"), help: "File with one dash key per line [TELEMETRY_DASH_KEY_FILE].") var dashKeyFile: String?
    @Option(help: "fsync or write [TELEMETRY_DURABILITY, default fsync].") var durability: String?
    @Option(name: .customLong("rotate-bytes"), help: "Rotate the active segment past this size [TELEMETRY_ROTATE_BYTES, default 67108864].") var rotateBytes: String?
    @Option(name: .customLong("raw-retention-days"), help: "Delete closed raw segments older than this [TELEMETRY_RAW_RETENTION_DAYS, default 90].") var rawRetentionDays: String?
    @Option(name: .customLong("rollup-retention-days"), help: "Keep rollups and day aggregates this long [TELEMETRY_ROLLUP_RETENTION_DAYS, default 365].") var rollupRetentionDays: String?
    @Option(name: .customLong("rollup-at"), help: "Daily rollup time, UTC HH:MM [TELEMETRY_ROLLUP_AT, default 03:15].") var rollupAt: String?
    @Option(name: .customLong("rollup-days"), help: "period_days of the daily rollup [TELEMETRY_ROLLUP_DAYS, default 30].") var rollupDays: String?
    @Option(help: "Ordered funnel steps [TELEMETRY_FUNNEL, default page_view,action,conversion].") var funnel: String?
    @Option(name: .customLong("cors-origins"), help: "Allowed browser origins [TELEMETRY_CORS_ORIGINS, default *].") var corsOrigins: String?
    @Option(name: .customLong("rate-limit"), help: "Event requests per second per client, 0 = off [TELEMETRY_RATE_LIMIT, default 50].") var rateLimit: String?
    @Option(name: .customLong("trusted-proxies"), help: "Proxies whose X-Forwarded-For names the client [TELEMETRY_TRUSTED_PROXIES].") var trustedProxies: String?
    @Option(name: .customLong("dedup-window"), help: "How long event ids are remembered [TELEMETRY_DEDUP_WINDOW, default 24h].") var dedupWindow: String?
    @Option(name: .customLong("dedup-max-ids"), help: "At most this many ids remembered [TELEMETRY_DEDUP_MAX_IDS, default 5000000].") var dedupMaxIds: String?
    @Option(name: .customLong("log-level"), help: "Log level [TELEMETRY_LOG_LEVEL, default info].") var logLevel: String?

    var flags: [String: [String]] {
        let single: [String: String?] = [
            "host": host, "port": port, "data-dir": dataDir, "static-dir": staticDir, "dash-key-file": dashKeyFile,
            "durability": durability, "rotate-bytes": rotateBytes, "raw-retention-days": rawRetentionDays,
            "rollup-retention-days": rollupRetentionDays, "rollup-at": rollupAt, "rollup-days": rollupDays,
            "funnel": funnel, "cors-origins": corsOrigins, "rate-limit": rateLimit, "trusted-proxies": trustedProxies,
            "dedup-window": dedupWindow, "dedup-max-ids": dedupMaxIds, "log-level": logLevel,
        ]
        var out = single.compactMapValues { $0.map { [$0] } }
        if !dashKey.isEmpty { out["dash-key"] = dashKey }
        return out
    }

    /// The validated configuration, or one clear line on stderr and exit status 2.
    func configuration() throws -> TelemetryConfiguration {
        do {
            return try TelemetryConfiguration.resolve(flags: flags, environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("telemetryd: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}
