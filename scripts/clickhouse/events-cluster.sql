-- The events table on a ClickHouse cluster: a replicated table on every shard and a Distributed table over
-- them named as telemetryd expects (--clickhouse-database, --clickhouse-table). Replace {cluster} with the
-- cluster's name from the servers' remote_servers configuration; the {shard} and {replica} macros come from
-- each server's macros section. Create these before the first telemetryd instance starts: telemetryd creates
-- only a single-server table, and only when none exists.
--
-- Rows are sharded by their identity (key), so every copy of an event (a resend after a crash, or a client's
-- retry that reached two instances) lands on the same shard, where ReplacingMergeTree and FINAL keep one.
-- Distinct users and visits are merged exactly across shards (uniqExact keeps whole sets).

CREATE DATABASE IF NOT EXISTS telemetry ON CLUSTER '{cluster}';

CREATE TABLE IF NOT EXISTS telemetry.events_local ON CLUSTER '{cluster}'
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/telemetry/events_local', '{replica}')
PARTITION BY toYYYYMM(date)
ORDER BY (site, date, user_id, key);

CREATE TABLE IF NOT EXISTS telemetry.events ON CLUSTER '{cluster}' AS telemetry.events_local
ENGINE = Distributed('{cluster}', telemetry, events_local, cityHash64(key));
