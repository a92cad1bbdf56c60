-- The events table, as telemetryd creates it on ClickHouse 19 and later (18.x: String for
-- LowCardinality(String), no deduplication window). Written by `telemetryd clickhouse sql`.
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

-- usage, daily, trends: events and users per date
SELECT toString(date) AS day, count() AS events, uniqExactIf(user_id, user_id != '') AS users FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}){filter} GROUP BY date ORDER BY day;

-- usage: users per ISO week (Monday) of the window
SELECT toString(toMonday(date)) AS week, count() AS events, uniqExactIf(user_id, user_id != '') AS users FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}){filter} GROUP BY week ORDER BY week;

-- usage (mau), breakdown totals
SELECT count() AS events, uniqExactIf(user_id, user_id != '') AS users, uniqExactIf(session_id, session_id != '') AS visits FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}){filter};

-- usage: events per feature
SELECT feature AS name, count() AS events FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}){filter} AND feature != '' GROUP BY feature;

-- usage: events per type (funnel_steps)
SELECT event_type AS name, count() AS events FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}){filter} GROUP BY event_type;

-- daily: events per date and type
SELECT toString(date) AS day, event_type AS name, count() AS events FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}){filter} GROUP BY date, event_type;

-- daily: new users (first seen over every stored date up to the end)
SELECT toString(first) AS day, count() AS users FROM (SELECT user_id, min(date) AS first FROM telemetry.events FINAL WHERE site = {site} AND date <= toDate({end}){filter} AND user_id != '' GROUP BY user_id) WHERE first >= toDate({start}) GROUP BY first;

-- hours: events per weekday and hour
SELECT toDayOfWeek(date) AS weekday, toHour(ts) AS hour, count() AS events FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}){filter} GROUP BY weekday, hour;

-- features.csv
SELECT feature AS name, count() AS events, uniqExactIf(user_id, user_id != '') AS users FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}){filter} AND feature != '' GROUP BY feature;

-- breakdown by a column (here referrer); (other) is the totals query AND NOT (the listed values)
SELECT referrer != '' AS present, referrer AS value, count() AS events, uniqExactIf(user_id, user_id != '') AS users, uniqExactIf(session_id, session_id != '') AS visits FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}){filter} GROUP BY present, value;

-- breakdown by prop:plan
SELECT indexOf(prop_keys, 'plan') > 0 AS present, if(indexOf(prop_keys, 'plan') > 0, prop_values[indexOf(prop_keys, 'plan')], '') AS value, count() AS events, uniqExactIf(user_id, user_id != '') AS users, uniqExactIf(session_id, session_id != '') AS visits FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}){filter} GROUP BY present, value;

-- breakdown by entry_page (exit_page: argMax)
SELECT visit_page != '' AS present, visit_page AS value, count() AS events, uniqExactIf(user_id, user_id != '') AS users, uniqExactIf(session_id, session_id != '') AS visits FROM (SELECT user_id, session_id FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}){filter}) AS e ALL LEFT JOIN (SELECT session_id, argMin(page, (ts_ms, log_position)) AS visit_page FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}) AND page != '' AND session_id != '' GROUP BY session_id) AS v USING session_id GROUP BY present, value;

-- visits per date of their first event (days since 1970)
SELECT intDiv(first, 86400000) AS day_number, count() AS visits, countIf(events = 1 AND pages = 1) AS bounces, sum(last - first) AS duration_ms, sum(pages) AS page_views, arraySort(groupArray(last - first))[intDiv(count() + 1, 2)] AS median_low_ms, arraySort(groupArray(last - first))[intDiv(count(), 2) + 1] AS median_high_ms FROM (SELECT session_id, min(ts_ms) AS first, max(ts_ms) AS last, count() AS events, countIf(event_type = 'page_view') AS pages FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}){filter} AND session_id != '' GROUP BY session_id) GROUP BY day_number;

-- visits over the window
SELECT count() AS visits, countIf(events = 1 AND pages = 1) AS bounces, sum(last - first) AS duration_ms, sum(pages) AS page_views, arraySort(groupArray(last - first))[intDiv(count() + 1, 2)] AS median_low_ms, arraySort(groupArray(last - first))[intDiv(count(), 2) + 1] AS median_high_ms FROM (SELECT session_id, min(ts_ms) AS first, max(ts_ms) AS last, count() AS events, countIf(event_type = 'page_view') AS pages FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}){filter} AND session_id != '' GROUP BY session_id);

-- retention: users per cohort week and active week ({start} is the first cohort's Monday)
SELECT toString(cohort) AS cohort_week, toString(week) AS active_week, count() AS users FROM (SELECT user_id, toMonday(date) AS week FROM telemetry.events FINAL WHERE site = {site} AND date <= toDate({end}){filter} AND user_id != '' GROUP BY user_id, week) AS a ALL INNER JOIN (SELECT user_id, toMonday(min(date)) AS cohort FROM telemetry.events FINAL WHERE site = {site} AND date <= toDate({end}){filter} AND user_id != '' GROUP BY user_id) AS f USING user_id WHERE cohort >= toDate({start}) GROUP BY cohort, week;

-- {filter}: one AND (…) per filter= condition, for example
--   filter=utm_source:google|bing: AND ((utm_source != '' AND utm_source IN ('google', 'bing')))
--   filter=referrer!:(none): AND NOT (NOT (referrer != ''))
--   filter=prop:plan:pro: AND ((indexOf(prop_keys, 'plan') > 0 AND if(indexOf(prop_keys, 'plan') > 0, prop_values[indexOf(prop_keys, 'plan')], '') IN ('pro')))
--   filter=entry_page:/pricing: AND (session_id IN (SELECT session_id FROM (SELECT session_id, argMin(page, (ts_ms, log_position)) AS visit_page FROM telemetry.events FINAL WHERE site = {site} AND date >= toDate({start}) AND date <= toDate({end}) AND page != '' AND session_id != '' GROUP BY session_id) WHERE visit_page IN ('/pricing')))
-- a user's lines (export): SELECT line FROM telemetry.events FINAL WHERE site = {site} AND user_id = '{user}' ORDER BY ts_ms, received_at_ms, key FORMAT TabSeparatedRaw
