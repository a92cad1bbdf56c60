import Foundation

extension TelemetryConfiguration {
    /// The settings table: the one place each setting is defined (docs/configuration.md is written from it).
    public static let settings: [Setting] = [
        Setting(flag: "host", environment: "TELEMETRY_HOST", defaultValue: "127.0.0.1", help: "Listen address.") { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { throw ConfigurationError("must not be empty") }
            c.host = v
        },
        Setting(flag: "port", environment: "TELEMETRY_PORT", defaultValue: "8080", help: "Listen port (0 = any free port; the chosen port is logged).") { c, v throws(ConfigurationError) in
            c.port = try integer(v, 0...65535)
        },
        Setting(flag: "data-dir", environment: "TELEMETRY_DATA_DIR", defaultValue: "./logs", help: "Where the log, aggregates and rollups live.") { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { throw ConfigurationError("must not be empty") }
            c.dataDirectory = v
        },
        Setting(flag: "static-dir", environment: "TELEMETRY_STATIC_DIR", defaultValue: nil, help: "Serve static files from this directory instead of the embedded copies.") { c, v throws(ConfigurationError) in
            c.staticDirectory = v.isEmpty ? nil : v
        },
        Setting(flag: "dash-key", environment: "TELEMETRY_DASH_KEYS", defaultValue: nil, help: "Accepted X-Dash-Key values, comma separated (the flag is repeatable).", repeatable: true) { c, v throws(ConfigurationError) in
            c.dashKeys += list(v)
        },
        Setting(flag: "dash-key-file", environment: "TELEMETRY_DASH_KEY_FILE", defaultValue: nil, help: "File with one dash key per line (systemd LoadCredential=).") { c, v throws(ConfigurationError) in
            guard let text = try? String(contentsOfFile: v, encoding: .utf8) else {
                throw ConfigurationError("cannot read the key file \(v)")
            }
            c.dashKeys += text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        },
        Setting(flag: "durability", environment: "TELEMETRY_DURABILITY", defaultValue: "fsync", help: "fsync (acknowledge after fdatasync) or write (after write(2)).") { c, v throws(ConfigurationError) in
            guard let d = Durability(rawValue: v) else { throw ConfigurationError("must be fsync or write, not \"\(v)\"") }
            c.durability = d
        },
        Setting(flag: "rotate-bytes", environment: "TELEMETRY_ROTATE_BYTES", defaultValue: "67108864", help: "Rotate the active segment past this size (and at UTC midnight).") { c, v throws(ConfigurationError) in
            c.rotateBytes = try integer(v, 1024...(1 << 40))
        },
        Setting(flag: "raw-retention-days", environment: "TELEMETRY_RAW_RETENTION_DAYS", defaultValue: "90", help: "Delete closed raw segments older than this.") { c, v throws(ConfigurationError) in
            c.rawRetentionDays = try integer(v, 1...36500)
        },
        Setting(flag: "rollup-retention-days", environment: "TELEMETRY_ROLLUP_RETENTION_DAYS", defaultValue: "365", help: "Keep rollup lines and day aggregates this long.") { c, v throws(ConfigurationError) in
            c.rollupRetentionDays = try integer(v, 1...36500)
        },
        Setting(flag: "rollup-at", environment: "TELEMETRY_ROLLUP_AT", defaultValue: "03:15", help: "Daily rollup time, UTC, HH:MM.") { c, v throws(ConfigurationError) in
            let parts = v.split(separator: ":")
            guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
                let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m)
            else { throw ConfigurationError("must be HH:MM (UTC), not \"\(v)\"") }
            c.rollupAt = h * 60 + m
        },
        Setting(flag: "rollup-days", environment: "TELEMETRY_ROLLUP_DAYS", defaultValue: "30", help: "period_days of the daily rollup.") { c, v throws(ConfigurationError) in
            c.rollupDays = try integer(v, 1...365)
        },
        Setting(flag: "funnel", environment: "TELEMETRY_FUNNEL", defaultValue: "page_view,action,conversion", help: "Ordered funnel steps (event types), comma separated.") { c, v throws(ConfigurationError) in
            let steps = list(v)
            guard !steps.isEmpty, steps.allSatisfy({ EventType.isValid($0) }) else {
                throw ConfigurationError("must be a comma separated list of event types, not \"\(v)\"")
            }
            c.funnel = steps
        },
        Setting(flag: "cors-origins", environment: "TELEMETRY_CORS_ORIGINS", defaultValue: "*", help: "Allowed browser origins, comma separated, or *.") { c, v throws(ConfigurationError) in
            let origins = list(v)
            guard !origins.isEmpty else { throw ConfigurationError("must not be empty") }
            c.corsOrigins = origins
        },
        Setting(flag: "rate-limit", environment: "TELEMETRY_RATE_LIMIT", defaultValue: "50", help: "Event requests per second per client address (burst 2x); 0 = off.") { c, v throws(ConfigurationError) in
            guard let r = Double(v), r >= 0, r.isFinite else { throw ConfigurationError("must be a number ≥ 0, not \"\(v)\"") }
            c.rateLimit = r
        },
        Setting(flag: "trusted-proxies", environment: "TELEMETRY_TRUSTED_PROXIES", defaultValue: nil, help: "Peer addresses whose X-Forwarded-For names the client, comma separated.") { c, v throws(ConfigurationError) in
            c.trustedProxies = list(v)
        },
        Setting(flag: "dedup-window", environment: "TELEMETRY_DEDUP_WINDOW", defaultValue: "24h", help: "How long event ids are remembered (24h, 90m, 3600s, 7d).") { c, v throws(ConfigurationError) in
            guard let seconds = duration(v), seconds >= 0 else {
                throw ConfigurationError("must be a duration like 24h, 90m or 3600s, not \"\(v)\"")
            }
            c.dedupWindowSeconds = seconds
        },
        Setting(flag: "dedup-max-ids", environment: "TELEMETRY_DEDUP_MAX_IDS", defaultValue: "5000000", help: "At most this many event ids remembered (oldest forgotten first).") { c, v throws(ConfigurationError) in
            c.dedupMaxIds = try integer(v, 0...1_000_000_000)
        },
        Setting(flag: "dimensions", environment: "TELEMETRY_DIMENSIONS", defaultValue: "on", help: "on: derive page, referrer, campaign, browser, system, device and country at ingest; off: store events as sent.") { c, v throws(ConfigurationError) in
            c.deriveDimensions = try onOff(v)
        },
        Setting(flag: "geoip-db", environment: "TELEMETRY_GEOIP_DB", defaultValue: nil, help: "MaxMind-format country database (GeoLite2-Country, DB-IP country) for the country dimension.") { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { c.geoipDatabase = nil; return }
            do {
                _ = try CountryDatabase(path: v)
            } catch {
                throw ConfigurationError("\(error)")
            }
            c.geoipDatabase = v
        },
        Setting(flag: "sites-file", environment: "TELEMETRY_SITES_FILE", defaultValue: nil, help: "JSON file declaring several sites (id, origins, dash keys, raw retention), each in <data-dir>/sites/<id>/.") { c, v throws(ConfigurationError) in
            c.sites = v.isEmpty ? [] : try SitesFile.read(v)
        },
        Setting(flag: "event-schemas", environment: "TELEMETRY_EVENT_SCHEMAS", defaultValue: nil, help: "JSON file of event schemas (metadata keys, types, enums, ranges per event type); reloaded on SIGHUP.") { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { c.eventSchemas = nil; return }
            _ = try EventSchemas.read(v)
            c.eventSchemas = v
        },
        Setting(flag: "keep-bots", environment: "TELEMETRY_KEEP_BOTS", defaultValue: "off", help: "on: store events from bots with device=bot instead of dropping them (they are counted either way).", isSwitch: true) { c, v throws(ConfigurationError) in
            c.keepBots = try onOff(v)
        },
        Setting(flag: "bot-session-rate", environment: "TELEMETRY_BOT_SESSION_RATE", defaultValue: "50", help: "A session sending more events than this within one second is a bot for 30 minutes; 0 = off.") { c, v throws(ConfigurationError) in
            c.botSessionRate = try integer(v, 0...1_000_000)
        },
        Setting(flag: "webhook", environment: "TELEMETRY_WEBHOOKS", defaultValue: nil, help: "POST each daily summary and alert as JSON (Slack, Mattermost, Discord) to this URL; repeatable, comma separated.", repeatable: true) { c, v throws(ConfigurationError) in
            for url in list(v) {
                guard isWebURL(url) else { throw ConfigurationError("must be an http(s) URL, not \"\(url)\"") }
                c.webhooks.append(url)
            }
        },
        Setting(flag: "smtp-url", environment: "TELEMETRY_SMTP_URL", defaultValue: nil, help: "smtp://host[:port]: the relay report mails go through (plain SMTP, no TLS or login: a local relay).") { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { c.smtpURL = nil; return }
            guard SMTPClient(url: v, from: "x@y") != nil else { throw ConfigurationError("must be smtp://host[:port], not \"\(v)\"") }
            c.smtpURL = v
        },
        Setting(flag: "report-email", environment: "TELEMETRY_REPORT_EMAILS", defaultValue: nil, help: "Mail the daily and (on Mondays) weekly summary to this address (needs --smtp-url); repeatable, comma separated.", repeatable: true) { c, v throws(ConfigurationError) in
            for address in list(v) {
                guard address.contains("@"), !address.contains(where: { $0 == "<" || $0 == ">" || $0.isWhitespace }) else {
                    throw ConfigurationError("must be an email address, not \"\(address)\"")
                }
                c.reportEmails.append(address)
            }
        },
        Setting(flag: "report-from", environment: "TELEMETRY_REPORT_FROM", defaultValue: "telemetryd@localhost", help: "Sender address of report mails.") { c, v throws(ConfigurationError) in
            guard v.contains("@") else { throw ConfigurationError("must be an email address, not \"\(v)\"") }
            c.reportFrom = v
        },
        Setting(flag: "clickhouse-url", environment: "TELEMETRY_CLICKHOUSE_URL", defaultValue: nil, help: "http://host:8123: ship every committed event to this ClickHouse server (its HTTP interface), one sink per site.") { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { c.clickhouse.url = nil; return }
            guard isWebURL(v) else { throw ConfigurationError("must be an http(s) URL like http://127.0.0.1:8123, not \"\(v)\"") }
            c.clickhouse.url = v.hasSuffix("/") ? String(v.dropLast()) : v
        },
        Setting(flag: "clickhouse-database", environment: "TELEMETRY_CLICKHOUSE_DATABASE", defaultValue: "telemetry", help: "ClickHouse database of the events table (created when missing).") { c, v throws(ConfigurationError) in
            guard ClickHouseSettings.isIdentifier(v) else { throw ConfigurationError("must be a ClickHouse identifier ([A-Za-z_][A-Za-z0-9_]*), not \"\(v)\"") }
            c.clickhouse.database = v
        },
        Setting(flag: "clickhouse-table", environment: "TELEMETRY_CLICKHOUSE_TABLE", defaultValue: "events", help: "ClickHouse events table (created when missing; scripts/clickhouse/ has its definition).") { c, v throws(ConfigurationError) in
            guard ClickHouseSettings.isIdentifier(v) else { throw ConfigurationError("must be a ClickHouse identifier ([A-Za-z_][A-Za-z0-9_]*), not \"\(v)\"") }
            c.clickhouse.table = v
        },
        Setting(flag: "clickhouse-user", environment: "TELEMETRY_CLICKHOUSE_USER", defaultValue: "default", help: "ClickHouse user.") { c, v throws(ConfigurationError) in
            guard !v.isEmpty, !v.contains(":") else { throw ConfigurationError("must be a user name without ':', not \"\(v)\"") }
            c.clickhouse.user = v
        },
        Setting(flag: "clickhouse-password-file", environment: "TELEMETRY_CLICKHOUSE_PASSWORD_FILE", defaultValue: nil, help: "File holding the ClickHouse user's password (systemd LoadCredential=); its first line is used.") { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { c.clickhouse.password = ""; return }
            guard let text = try? String(contentsOfFile: v, encoding: .utf8) else { throw ConfigurationError("cannot read the password file \(v)") }
            c.clickhouse.password = String(text.split(whereSeparator: \.isNewline).first ?? "")
        },
        Setting(flag: "query-source", environment: "TELEMETRY_QUERY_SOURCE", defaultValue: "index", help: "index: answer from this daemon's day index and event table; clickhouse: answer the keyed API from ClickHouse (needs --clickhouse-url).") { c, v throws(ConfigurationError) in
            guard let source = QuerySource(rawValue: v) else { throw ConfigurationError("must be index or clickhouse, not \"\(v)\"") }
            c.clickhouse.querySource = source
        },
        Setting(flag: "clickhouse-lag-limit-days", environment: "TELEMETRY_CLICKHOUSE_LAG_LIMIT_DAYS", defaultValue: "7", help: "Raw retention keeps a segment the sink has not shipped at most this many days longer; past that it is deleted unshipped (logged and counted).") { c, v throws(ConfigurationError) in
            c.clickhouse.lagLimitDays = try integer(v, 0...36500)
        },
        Setting(flag: "log-level", environment: "TELEMETRY_LOG_LEVEL", defaultValue: "info", help: "trace, debug, info, notice, warning, error or critical.") { c, v throws(ConfigurationError) in
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(v.lowercased()) else {
                throw ConfigurationError("must be one of \(levels.joined(separator: ", ")), not \"\(v)\"")
            }
            c.logLevel = v.lowercased()
        },
    ]

    static func integer(_ v: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let n = Int(v.trimmingCharacters(in: .whitespaces)), range.contains(n) else {
            throw ConfigurationError("must be an integer from \(range.lowerBound) to \(range.upperBound), not \"\(v)\"")
        }
        return n
    }

    static func onOff(_ v: String) throws(ConfigurationError) -> Bool {
        switch v.lowercased() {
        case "on", "true", "1", "yes": return true
        case "off", "false", "0", "no": return false
        default: throw ConfigurationError("must be on or off, not \"\(v)\"")
        }
    }

    static func isWebURL(_ v: String) -> Bool {
        guard let u = URLComponents(string: v), let scheme = u.scheme, scheme == "http" || scheme == "https", u.host?.isEmpty == false else { return false }
        return true
    }

    /// Comma separated values, trimmed, empty ones dropped.
    static func list(_ v: String) -> [String] {
        v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `24h`, `90m`, `3600s`, `7d` or plain seconds.
    static func duration(_ v: String) -> Int? {
        let t = v.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = t.last else { return nil }
        let factors: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let f = factors[unit] { return Int(t.dropLast()).map { $0 * f } }
        return Int(t)
    }

    /// The settings as `--help` lists them.
    public static var helpText: String {
        let lines = settings.map { s in
            "  --\(s.flag) (\(s.environment)\(s.defaultValue.map { ", default \($0)" } ?? ""))\n      \(s.help)"
        }
        return (lines + ["  --\(configFlag) FILE (\(configEnvironment))\n      A JSON file of settings keyed by flag name: {\"port\": 8080, \"dash-key\": [\"k1\"]}"])
            .joined(separator: "\n")
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
