CREATE TABLE IF NOT EXISTS telemetry.events
(
    site LowCardinality(String),
    date Date,
    ts DateTime('UTC'),
    ts_ms Int64,
    received_at_ms Int64,
    key String,
    log_position UInt64,
    event_type LowCardinality(String),
    user_id String,
    feature LowCardinality(String),
    url String,
    session_id String,
    channel LowCardinality(String),
    platform LowCardinality(String),
    device_id String,
    client_version LowCardinality(String),
    page String,
    referrer LowCardinality(String),
    utm_source LowCardinality(String),
    utm_medium LowCardinality(String),
    utm_campaign LowCardinality(String),
    utm_term String,
    utm_content String,
    browser LowCardinality(String),
    browser_version LowCardinality(String),
    os LowCardinality(String),
    os_version LowCardinality(String),
    device LowCardinality(String),
    country LowCardinality(String),
    prop_keys Array(String),
    prop_values Array(String),
    line String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site, date, user_id, key)
SETTINGS non_replicated_deduplication_window = 1000;
