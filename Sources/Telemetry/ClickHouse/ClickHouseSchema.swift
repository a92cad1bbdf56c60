/// The events table in ClickHouse (docs/clickhouse.md; `scripts/clickhouse/events.sql` is its text for current
/// servers). One row per stored event: the columns the queries group and filter by, and the canonical line
/// itself, so exports from ClickHouse are the lines the log holds.
enum ClickHouseSchema {
    /// The string columns after `key`, in the order of the canonical line; an absent value is ''.
    static let stringColumns: [(name: String, lowCardinality: Bool)] = [
        ("event_type", true), ("user_id", false), ("feature", true), ("url", false), ("session_id", false),
        ("channel", true), ("platform", true), ("device_id", false), ("client_version", true),
        ("page", false), ("referrer", true), ("utm_source", true), ("utm_medium", true), ("utm_campaign", true),
        ("utm_term", false), ("utm_content", false), ("browser", true), ("browser_version", true), ("os", true),
        ("os_version", true), ("device", true), ("country", true),
    ]

    /// What a server of this major version supports.
    struct Capabilities: Sendable, Equatable {
        var major: Int
        /// `LowCardinality` without an experimental setting (19.0).
        var lowCardinality: Bool { major >= 19 }
        /// `insert_deduplication_token` and deduplication of non-replicated tables (22.2; 23 and later here).
        var deduplicationToken: Bool { major >= 23 }
        /// Lightweight `DELETE FROM` without an experimental setting (23.3; 24 and later here); older servers get
        /// `ALTER TABLE … DELETE`.
        var lightweightDelete: Bool { major >= 24 }
        /// `mutations_sync`, so that `ALTER TABLE … DELETE` returns when done (19.x); older servers are polled.
        var mutationsSync: Bool { major >= 20 }
    }

    /// `CREATE TABLE IF NOT EXISTS` for `settings`' table on a server with `capabilities`.
    static func createTable(_ table: String, _ capabilities: Capabilities) -> String {
        func type(_ lowCardinality: Bool) -> String { lowCardinality && capabilities.lowCardinality ? "LowCardinality(String)" : "String" }
        var columns = [
            "site \(type(true))", "date Date", "ts DateTime('UTC')", "ts_ms Int64", "received_at_ms Int64", "key String",
            "log_position UInt64",
        ]
        columns += stringColumns.map { "\($0.name) \(type($0.lowCardinality))" }
        columns += ["prop_keys Array(String)", "prop_values Array(String)", "line String"]
        var text = "CREATE TABLE IF NOT EXISTS \(table)\n(\n"
        text += columns.map { "    " + $0 }.joined(separator: ",\n")
        text += "\n)\nENGINE = ReplacingMergeTree\nPARTITION BY toYYYYMM(date)\nORDER BY (site, date, user_id, key)"
        if capabilities.deduplicationToken { text += "\nSETTINGS non_replicated_deduplication_window = 1000" }
        return text
    }

    static func createDatabase(_ database: String) -> String { "CREATE DATABASE IF NOT EXISTS \(database)" }
}
