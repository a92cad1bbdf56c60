import Foundation

extension TelemetryConfiguration {
    /// The table of docs/configuration.md.
    public static let settings: [Setting] = [
        Setting(flag: "host", environment: "TELEMETRY_HOST", help: "Listen address.") { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { throw ConfigurationError("--host must not be empty") }
            c.host = v
        },
        Setting(flag: "port", environment: "TELEMETRY_PORT", help: "Listen port (0 = any free port).") { c, v throws(ConfigurationError) in
            c.port = try integer(v, "--port", 0...65535)
        },
        Setting(flag: "data-dir", environment: "TELEMETRY_DATA_DIR", help: "Data directory.") { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { throw ConfigurationError("--data-dir must not be empty") }
            c.dataDirectory = v
        },
        Setting(flag: "static-dir", environment: "TELEMETRY_STATIC_DIR", help: "Serve static files from this directory instead of the embedded copies.") { c, v throws(ConfigurationError) in
            c.staticDirectory = v.isEmpty ? nil : v
        },
        Setting(flag: "dash-key", environment: "TELEMETRY_DASH_KEYS", help: "Accepted X-Dash-Key values, comma separated (repeatable).") { c, v throws(ConfigurationError) in
            c.dashKeys += v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        },
        Setting(flag: "dash-key-file", environment: "TELEMETRY_DASH_KEY_FILE", help: "File with one dash key per line.") { c, v throws(ConfigurationError) in
            guard let text = try? String(contentsOfFile: v, encoding: .utf8) else {
                throw ConfigurationError("cannot read dash key file \(v)")
            }
            c.dashKeys += text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        },
        Setting(flag: "durability", environment: "TELEMETRY_DURABILITY", help: "fsync (acknowledge after fdatasync) or write.") { c, v throws(ConfigurationError) in
            guard let d = Durability(rawValue: v) else {
                throw ConfigurationError("--durability must be fsync or write, not \"\(v)\"")
            }
            c.durability = d
        },
        Setting(flag: "rotate-bytes", environment: "TELEMETRY_ROTATE_BYTES", help: "Rotate the active segment past this size.") { c, v throws(ConfigurationError) in
            c.rotateBytes = try integer(v, "--rotate-bytes", 1024...(1 << 40))
        },
        Setting(flag: "raw-retention-days", environment: "TELEMETRY_RAW_RETENTION_DAYS", help: "Delete closed raw segments older than this.") { c, v throws(ConfigurationError) in
            c.rawRetentionDays = try integer(v, "--raw-retention-days", 1...36500)
        },
        Setting(flag: "rollup-retention-days", environment: "TELEMETRY_ROLLUP_RETENTION_DAYS", help: "Keep rollup lines and day aggregates this long.") { c, v throws(ConfigurationError) in
            c.rollupRetentionDays = try integer(v, "--rollup-retention-days", 1...36500)
        },
        Setting(flag: "rollup-at", environment: "TELEMETRY_ROLLUP_AT", help: "Daily rollup time, UTC, HH:MM.") { c, v throws(ConfigurationError) in
            let parts = v.split(separator: ":")
            guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
                let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m)
            else { throw ConfigurationError("--rollup-at must be HH:MM (UTC), not \"\(v)\"") }
            c.rollupAt = h * 60 + m
        },
        Setting(flag: "rollup-days", environment: "TELEMETRY_ROLLUP_DAYS", help: "period_days of the daily rollup.") { c, v throws(ConfigurationError) in
            c.rollupDays = try integer(v, "--rollup-days", 1...365)
        },
        Setting(flag: "funnel", environment: "TELEMETRY_FUNNEL", help: "Ordered funnel steps (event types), comma separated.") { c, v throws(ConfigurationError) in
            let steps = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !steps.isEmpty, steps.allSatisfy({ EventType.isValid($0) }) else {
                throw ConfigurationError("--funnel must be a comma separated list of event types, not \"\(v)\"")
            }
            c.funnel = steps
        },
        Setting(flag: "cors-origins", environment: "TELEMETRY_CORS_ORIGINS", help: "Allowed browser origins, comma separated, or *.") { c, v throws(ConfigurationError) in
            let origins = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !origins.isEmpty else { throw ConfigurationError("--cors-origins must not be empty") }
            c.corsOrigins = origins
        },
        Setting(flag: "rate-limit", environment: "TELEMETRY_RATE_LIMIT", help: "Event requests per second per client address; 0 = off.") { c, v throws(ConfigurationError) in
            guard let r = Double(v), r >= 0, r.isFinite else {
                throw ConfigurationError("--rate-limit must be a number ≥ 0, not \"\(v)\"")
            }
            c.rateLimit = r
        },
        Setting(flag: "trusted-proxies", environment: "TELEMETRY_TRUSTED_PROXIES", help: "Peer addresses whose X-Forwarded-For names the client.") { c, v throws(ConfigurationError) in
            c.trustedProxies = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        },
        Setting(flag: "dedup-window", environment: "TELEMETRY_DEDUP_WINDOW", help: "How long event ids are remembered (e.g. 24h, 90m, 3600s).") { c, v throws(ConfigurationError) in
            guard let seconds = duration(v), seconds >= 0 else {
                throw ConfigurationError("--dedup-window must be a duration like 24h, 90m or 3600s, not \"\(v)\"")
            }
            c.dedupWindowSeconds = seconds
        },
        Setting(flag: "dedup-max-ids", environment: "TELEMETRY_DEDUP_MAX_IDS", help: "At most this many event ids remembered.") { c, v throws(ConfigurationError) in
            c.dedupMaxIds = try integer(v, "--dedup-max-ids", 0...1_000_000_000)
        },
        Setting(flag: "log-level", environment: "TELEMETRY_LOG_LEVEL", help: "trace, debug, info, notice, warning, error or critical.") { c, v throws(ConfigurationError) in
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(v.lowercased()) else {
                throw ConfigurationError("--log-level must be one of \(levels.joined(separator: ", ")), not \"\(v)\"")
            }
            c.logLevel = v.lowercased()
        },
    ]

    static func integer(_ v: String, _ flag: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let n = Int(v.trimmingCharacters(in: .whitespaces)), range.contains(n) else {
            throw ConfigurationError("\(flag) must be an integer from \(range.lowerBound) to \(range.upperBound), not \"\(v)\"")
        }
        return n
    }

    /// `24h`, `90m`, `3600s`, `7d` or plain seconds.
    static func duration(_ v: String) -> Int? {
        let t = v.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = t.last else { return nil }
        let factors: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let f = factors[unit] { return Int(t.dropLast()).map { $0 * f } }
        return Int(t)
    }
}

/// The event type grammar `^[a-z][a-z0-9_]{0,63}$`.
public enum EventType {
    public static func isValid(_ s: String) -> Bool {
        var copy = s
        return copy.withUTF8 { b in
            EventDecoder.isValidEventType(b, .init(start: 0, end: b.count, hasEscapes: false, scalarCount: b.count))
        }
    }
}
