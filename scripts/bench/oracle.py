#!/usr/bin/env python3
"""telemetryd's usage metrics (and daily users and events) as DuckDB queries over NDJSON.

  oracle.py usage --days 30 --end 2026-11-24 logs/analytics_events*.ndjson*
  oracle.py daily --days 7 --end 2026-11-24 events.ndjson
  oracle.py breakdown --by referrer --days 30 --end 2026-11-24 --top 50 --compare --filter 'country:GB|SE' seg*.ndjson*
  oracle.py visits --days 7 --end 2026-11-24 --filter 'referrer!:(none)' seg*.ndjson*
  oracle.py hours|features [--csv] --days 28 --end 2026-11-24 seg*.ndjson*
  oracle.py funnel --steps page_view:pricing,signup,conversion --within 3600 --days 30 --end 2026-11-24 seg*.ndjson*
  oracle.py experiment new_onboarding --goal conversion --days 14 --end 2026-11-24 seg*.ndjson*
  oracle.py retention --weeks 8 --end 2026-11-24 seg*.ndjson*

The reference answer for the golden tests and the "what an analyst would run instead" peer of the
benchmark. Reads plain or .gz NDJSON of input events or of stored events; only the keys a question needs
are read. ts is RFC 3339 with any offset and belongs to its UTC date. Prints one JSON document on stdout
(Python's default separators: the golden test reads key order from the text) and `duckdb: <ms> ms` on
stderr. Needs the duckdb module (requirements.txt, scripts/setup).

usage, over the window of --days UTC dates ending --end: total_events; unique_days (dates with an
event) and unique_weeks (ISO weeks, Monday to Sunday, with an event in the window); a user is a
distinct non-empty user_id; mau = users in the window; dau = mean over unique_days of that date's
users; wau = mean over unique_weeks of the users of that week within the window; both rounded as
Python's round(x, 1); feature_usage = events per feature, by count descending then name (byte order),
at most --top; funnel_steps = the --funnel steps first, in order (0 when absent), then every other
event_type by count descending then name. daily: users and events of each date of the window.

The other commands print the daemon's answer body without "ok" and "ts" (usage and daily keep their
"ok": true as before; docs/api.md, docs/metrics.md, docs/dimensions.md); numbers are Python floats rounded
with round() to the places the docs state:

  breakdown   {"by","window":{"start","end"},"total":{"events","users","visits"},"values":[{"value","events",
              "users","visits","share"[,"previous":{"events","users","visits"},"change"]}]}
  visits      {"window","total":{"visits","bounce_rate","duration_mean_s","duration_median_s","pages_per_visit"},
              "days":[{"date",...the same five...}]}
  hours       {"hours":[7 rows, Monday first, of 24 counts]}
  features    {"features":[{"feature","events","users"}]}; with --csv the CSV body of features.csv instead
  funnel      {"steps":[{"step","users","conversion"}]}
  experiment  {"experiment","goal","variants":[{"variant","users","converted","rate"[,"uplift","relative_uplift",
              "ci95","p_value"]}]}
  retention   {"cohorts":[{"week","start","users","active":[...]}]}

Dimensions (docs/dimensions.md) are read as the daemon stores them: the keys page, referrer, utm_*, browser,
browser_version, os, os_version, device, country, channel, platform, client_version, feature and event_type
of each line (so give it stored lines: segments, or gen_events.py --stored); entry_page and exit_page are
the page of the earliest and of the latest event with a page of the event's session_id among all the events
of the window (before any filter), ties by file order (the first for entry, the last for exit), so give
the files in the daemon's order (oldest segment first); prop:KEY is the top-level metadata member KEY when it
is a string of at most 256 bytes (UTF-8, escapes resolved), a number or a boolean (numbers and booleans as
their JSON text in the line); null, objects, arrays and longer strings count as absent. A string
dimension that is present but empty ("") is the value "", not absent. A visit is a non-empty session_id.

--filter DIM:A|B (the dimension is A or B) and --filter 'DIM!:A|B' (neither; events without the dimension
match) may be repeated and must all hold; (none) stands for "no such dimension"; values are taken as given
(already percent-decoded) and split on |. With prop:KEY the key runs to the first ':' after "prop:". Every
command then reads only the matching events: usage, daily, hours, features and visits count them; funnel
steps, experiment exposures and conversions consider only them; retention cohorts are the week of a user's
first matching event up to --end in the files, active weeks those with a matching event. Window edges: a
breakdown's --compare period is the --days dates before the window; retention's window (for entry_page and
exit_page) is every date up to --end.

funnel and experiment order each user's events by ts, then file order; an experiment's variant that is not a
string is its JSON text (as DuckDB writes it), "(none)" when absent or null; the control is "control", else the
first variant by name, and a z-test without variance has p_value 1.0 (as the daemon's PathAnalysis).

breakdown rows are ordered by users, then events (both descending), then value (byte order, null first);
the first --top are listed and the rest summed in one "(other)" row whose users and visits are distinct
counts over those values. share = users / total users (0 when there are none). With --compare each row
gets the same value's figures in the previous period and change = (users - previous users) / previous
users (null when those are 0); the "(other)" row's previous figures are those of every value not listed
(a value seen only in the previous period is in no row when there is no "(other)" row).
"""
import argparse
import datetime as dt
import json
import math
import re
import sys
import time

try:
    import duckdb
except ImportError:
    sys.exit("oracle.py: the duckdb module is missing; run scripts/setup (or .venv/bin/pip install -r requirements.txt) "
             "and use .venv/bin/python3")

FUNNEL = ("page_view", "action", "conversion")
# Dimensions kept as keys of the stored line, in its order.
STORED = ("page", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "browser",
          "browser_version", "os", "os_version", "device", "country", "channel", "platform", "client_version")
DIMENSIONS = STORED + ("feature", "event_type", "entry_page", "exit_page")
EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,63}")


class Filter:
    """One --filter: the dimension, whether it is negated, and its values (None for "(none)")."""

    def __init__(self, text):
        start = len("prop:") if text.startswith("prop:") else 0
        colon = text.find(":", start)
        if colon <= start:
            raise ValueError(f"filter {text!r} is not DIM:VALUE or DIM!:VALUE")
        self.negate = text[colon - 1] == "!"
        self.dim = text[:colon - 1] if self.negate else text[:colon]
        check_dimension(self.dim)
        self.values = [None if v == "(none)" else v for v in text[colon + 1:].split("|")]


def check_dimension(dim):
    if dim not in DIMENSIONS and not (dim.startswith("prop:") and len(dim) > len("prop:")):
        raise ValueError(f"unknown dimension {dim!r}: one of {', '.join(DIMENSIONS)} or prop:KEY")


def lit(s):
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


class Columns:
    """Where each dimension lives in the events table `e`."""

    def __init__(self, dims):
        self.props = sorted({d[len("prop:"):] for d in dims if d.startswith("prop:")})

    def __getitem__(self, dim):
        if dim == "event_type":
            return "t"
        if dim == "feature":
            return "f"
        if dim.startswith("prop:"):
            return f"prop_{self.props.index(dim[len('prop:'):])}"
        return dim


def where(filters, cols):
    """The SQL condition that every filter holds."""
    conds = []
    for flt in filters:
        col = cols[flt.dim]
        parts = []
        values = [v for v in flt.values if v is not None]
        if values:
            parts.append(f"{col} IN ({', '.join(lit(v) for v in values)})")
        if None in flt.values:
            parts.append(f"{col} IS NULL")
        cond = f"coalesce({' OR '.join(parts)}, false)"
        conds.append(f"NOT {cond}" if flt.negate else cond)
    return " AND ".join(conds) or "true"


def pointer(key):
    """The JSON pointer of the top-level metadata member `key`."""
    return "/metadata/" + key.replace("~", "~0").replace("/", "~1")


def prop_sql(key, line, pv):
    """prop:KEY from the raw line and `pv` (its member as JSON): a string of at most 256 bytes, or a number or a
    boolean as written in the line."""
    # json_extract normalises numbers (1.50 -> 1.5), so find the member's text in the line (a nested member of the
    # same name whose number is equal but written otherwise would be ambiguous; a key escaped otherwise than
    # minimally falls back to the normalised text).
    name = json.dumps(key, ensure_ascii=False)[1:-1].replace("\\E", "\\E\\\\E\\Q")
    pattern = lit('"\\Q' + name + '\\E"\\s*:\\s*(-?[0-9][0-9.eE+-]*)')
    number = (f"coalesce(list_filter(regexp_extract_all({line}, {pattern}, 1), lambda x: CAST(json(x) AS VARCHAR) = "
              f"CAST({pv} AS VARCHAR))[1], CAST({pv} AS VARCHAR))")
    return f"""CASE json_type({pv})
        WHEN 'VARCHAR' THEN CASE WHEN strlen(json_extract_string({pv}, '$')) <= 256 THEN json_extract_string({pv}, '$') END
        WHEN 'BOOLEAN' THEN CAST({pv} AS VARCHAR)
        WHEN 'BIGINT' THEN {number} WHEN 'UBIGINT' THEN {number} WHEN 'HUGEINT' THEN {number} WHEN 'DOUBLE' THEN {number} END"""


def load(con, files, windows, dims=(), filters=(), need=()):
    """Creates temp table `e`: the events whose UTC date is in one of `windows` ((start, end) pairs; p = the
    pair's index) and that match every filter, with n (file order), p, d, ms (epoch ms), t (event_type),
    u (user_id, NULL when empty), f (feature), and as asked sid (session_id, NULL when empty), m (metadata
    JSON) and the columns of `dims` and of the filters' dimensions (Columns names them). entry_page and
    exit_page are computed per window from all its events, before the filters."""
    dims = set(dims) | {flt.dim for flt in filters}
    cols = Columns(dims)
    visits = bool(dims & {"entry_page", "exit_page"})
    stored = [d for d in STORED if d in dims or (d == "page" and visits)]
    keep_sid = visits or "sid" in need
    keep_m = "m" in need
    con.execute("SET TimeZone = 'UTC'")
    lo, hi = min(w[0] for w in windows), max(w[1] for w in windows)
    window = " ".join(f"WHEN d BETWEEN DATE '{a}' AND DATE '{b}' THEN {i}" for i, (a, b) in enumerate(windows))
    extra = (["NULLIF(session_id, '') AS sid"] if keep_sid else []) + stored + (["metadata AS m"] if keep_m else [])
    if not cols.props:
        keys = ["ts", "event_type", "user_id", "feature"] + (["session_id"] if keep_sid else []) + stored
        spec = ", ".join(f"{k}: 'VARCHAR'" for k in keys) + (", metadata: 'JSON'" if keep_m else "")
        source = f"read_ndjson(?, columns = {{{spec}}})"
    else:
        # prop:KEY wants the numbers as written: read whole lines and take the keys out of them.
        keys = ["ts", "event_type", "user_id", "feature", "session_id"] + stored
        paths = ", ".join(lit("$." + k) for k in keys)
        props = ", ".join(f"json_extract(line, {lit(pointer(k))}) AS pv_{i}" for i, k in enumerate(cols.props))
        named = ", ".join(f"j[{i + 1}] AS {k}" for i, k in enumerate(keys))
        values = ", ".join(prop_sql(k, "line", f"pv_{i}") + f" AS prop_{i}" for i, k in enumerate(cols.props))
        source = f"""(SELECT {named}, {"json_extract(line, '$.metadata') AS metadata, " if keep_m else ""}{values}
            FROM (SELECT line, json_extract_string(line, [{paths}]) AS j, {props}
                  FROM read_csv(?, columns = {{'line': 'VARCHAR'}}, delim = chr(31), quote = '', escape = '', header = false,
                                auto_detect = false)))"""
        extra += [f"prop_{i}" for i in range(len(cols.props))]
    events = f"""
        SELECT row_number() OVER () AS n, CASE {window} END AS p, * FROM (
            SELECT CAST(timezone('UTC', tz) AS DATE) AS d, epoch_ms(tz) AS ms, t, u, f{"".join(", " + x for x in extra)}
            FROM (SELECT CAST(ts AS TIMESTAMPTZ) AS tz, event_type AS t, NULLIF(user_id, '') AS u, feature AS f, *
                  FROM {source}))
        WHERE d BETWEEN ? AND ?"""
    if not visits:
        con.execute(f"CREATE OR REPLACE TEMP TABLE e AS SELECT * FROM ({events}) WHERE p IS NOT NULL AND {where(filters, cols)}",
                    [list(files), lo, hi])
        return cols
    con.execute(f"CREATE OR REPLACE TEMP TABLE raw AS {events}", [list(files), lo, hi])
    # The first and the last page of each session of each window: by ts, then file order.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE vis AS
        SELECT p, sid, arg_min(page, {'ms': ms, 'n': n}) AS entry_page, arg_max(page, {'ms': ms, 'n': n}) AS exit_page
        FROM raw WHERE sid IS NOT NULL AND page IS NOT NULL GROUP BY p, sid""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE e AS
        SELECT * FROM (SELECT raw.*, vis.entry_page, vis.exit_page FROM raw LEFT JOIN vis ON raw.sid = vis.sid AND raw.p = vis.p)
        WHERE p IS NOT NULL AND {where(filters, cols)}""")
    con.execute("DROP TABLE raw")
    return cols


def window_table(con, files, end, days, filters=()):
    """Creates temp table `w` (d DATE, wk DATE, t, u, f): the matching events whose UTC date is in the window."""
    start = end - dt.timedelta(days=days - 1)
    load(con, files, [(start, end)], filters=filters)
    con.execute("CREATE OR REPLACE TEMP TABLE w AS SELECT d, CAST(date_trunc('week', d) AS DATE) AS wk, t, u, f FROM e")
    return start


def one(con, sql):
    return con.execute(sql).fetchone()


def usage(con, files, end, days, top, funnel, filters=()):
    start = window_table(con, files, end, days, filters)
    total, unique_days, unique_weeks, mau = one(con, "SELECT count(*), count(DISTINCT d), count(DISTINCT wk), count(DISTINCT u) FROM w")
    # Σ over dates (weeks) of the users active that date (week) = the number of distinct (date, user) pairs.
    user_days, = one(con, "SELECT count(*) FROM (SELECT DISTINCT d, u FROM w WHERE u IS NOT NULL)")
    user_weeks, = one(con, "SELECT count(*) FROM (SELECT DISTINCT wk, u FROM w WHERE u IS NOT NULL)")
    by_count = lambda kv: (-kv[1], kv[0].encode())  # count descending, then name in byte order
    features = sorted(con.execute("SELECT f, count(*) FROM w WHERE f IS NOT NULL GROUP BY f").fetchall(), key=by_count)
    types = dict(con.execute("SELECT t, count(*) FROM w GROUP BY t").fetchall())
    steps = {step: types.pop(step, 0) for step in funnel}
    steps.update(sorted(types.items(), key=by_count))
    return {"ok": True, "period_days": days, "window": {"start": start.isoformat(), "end": end.isoformat()},
            "dau": round(user_days / unique_days, 1) if unique_days else 0.0,
            "wau": round(user_weeks / unique_weeks, 1) if unique_weeks else 0.0,
            "mau": mau, "feature_usage": dict(features[:top]), "funnel_steps": steps,
            "total_events": total, "unique_days": unique_days, "unique_weeks": unique_weeks}


def daily(con, files, end, days, filters=()):
    start = window_table(con, files, end, days, filters)
    per_date = {d: (users, n) for d, users, n in con.execute("SELECT d, count(DISTINCT u), count(*) FROM w GROUP BY d").fetchall()}
    dates = (start + dt.timedelta(days=i) for i in range(days))
    return {"ok": True, "days": [{"date": d.isoformat(), "users": per_date.get(d, (0, 0))[0], "events": per_date.get(d, (0, 0))[1]}
                                 for d in dates]}


def window_of(end, days):
    start = end - dt.timedelta(days=days - 1)
    return start, {"start": start.isoformat(), "end": end.isoformat()}


def breakdown(con, files, end, days, by, top, compare, filters=()):
    start, window = window_of(end, days)
    windows = [(start, end)] + ([(start - dt.timedelta(days=days), start - dt.timedelta(days=1))] if compare else [])
    col = load(con, files, windows, dims=[by], filters=filters, need={"sid"})[by]
    # Rows of the window, ranked: users, events (descending), value (byte order, null first).
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE brows AS
        SELECT v, events, users, visits,
               row_number() OVER (ORDER BY users DESC, events DESC, v ASC NULLS FIRST) AS rank
        FROM (SELECT {col} AS v, count(*) AS events, count(DISTINCT u) AS users, count(DISTINCT sid) AS visits
              FROM e WHERE p = 0 GROUP BY v)""")
    listed = con.execute("SELECT v, events, users, visits FROM brows WHERE rank <= ? ORDER BY rank", [top]).fetchall()
    totals = {p: (n, users, visits) for p, n, users, visits in
              con.execute("SELECT p, count(*), count(DISTINCT u), count(DISTINCT sid) FROM e GROUP BY p").fetchall()}
    # Each event's row: its rank when listed, else 0 for "(other)".
    null_rank = next((rank for rank, row in enumerate(listed, 1) if row[0] is None), 0)
    figures = {(p, rank): (n, users, visits) for p, rank, n, users, visits in con.execute(f"""
        SELECT p, rank, count(*), count(DISTINCT u), count(DISTINCT sid) FROM (
            SELECT e.p, e.u, e.sid, coalesce(r.rank, CASE WHEN e.{col} IS NULL THEN {null_rank} END, 0) AS rank
            FROM e LEFT JOIN (SELECT v, rank FROM brows WHERE rank <= {int(top)} AND v IS NOT NULL) r ON e.{col} = r.v)
        WHERE p = 1 OR rank = 0 GROUP BY p, rank""").fetchall()}
    total_events, total_users, total_visits = totals.get(0, (0, 0, 0))
    out = []
    rows = [(v, n, users, visits, rank) for rank, (v, n, users, visits) in enumerate(listed, 1)]
    if (0, 0) in figures:
        rows.append(("(other)",) + figures[(0, 0)] + (0,))
    for v, n, users, visits, rank in rows:
        row = {"value": v, "events": n, "users": users, "visits": visits,
               "share": round(users / total_users, 4) if total_users else 0.0}
        if compare:
            pn, pusers, pvisits = figures.get((1, rank), (0, 0, 0))
            row["previous"] = {"events": pn, "users": pusers, "visits": pvisits}
            row["change"] = round((users - pusers) / pusers, 4) if pusers else None
        out.append(row)
    return {"by": by, "window": window, "total": {"events": total_events, "users": total_users, "visits": total_visits},
            "values": out}


def visit_figures(visits, bounces, duration_ms, median_ms, pages):
    if not visits:
        return {"visits": 0, "bounce_rate": 0.0, "duration_mean_s": 0.0, "duration_median_s": 0.0, "pages_per_visit": 0.0}
    return {"visits": visits, "bounce_rate": round(bounces / visits, 4), "duration_mean_s": round(duration_ms / (visits * 1000), 1),
            "duration_median_s": round(median_ms / 1000, 1), "pages_per_visit": round(pages / visits, 2)}


def visits(con, files, end, days, filters=()):
    start, window = window_of(end, days)
    load(con, files, [(start, end)], filters=filters, need={"sid"})
    con.execute("""
        CREATE OR REPLACE TEMP TABLE v AS
        SELECT min(d) AS d, max(ms) - min(ms) AS dur, CAST(count(*) = 1 AND bool_and(t = 'page_view') AS INTEGER) AS bounce,
               count(*) FILTER (WHERE t = 'page_view') AS pages
        FROM e WHERE sid IS NOT NULL GROUP BY sid""")
    q = "SELECT {}count(*), CAST(sum(bounce) AS BIGINT), CAST(sum(dur) AS BIGINT), median(dur), CAST(sum(pages) AS BIGINT) FROM v{}"
    per_date = {row[0]: row[1:] for row in con.execute(q.format("d, ", " GROUP BY d")).fetchall()}
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    return {"window": window, "total": visit_figures(*one(con, q.format("", ""))),
            "days": [{"date": d.isoformat(), **visit_figures(*per_date.get(d, (0, 0, 0, 0, 0)))} for d in dates]}


def hours(con, files, end, days, filters=()):
    start, _ = window_of(end, days)
    load(con, files, [(start, end)], filters=filters)
    grid = [[0] * 24 for _ in range(7)]
    for dow, hour, n in con.execute("SELECT isodow(d) - 1, (ms % 86400000) // 3600000, count(*) FROM e GROUP BY ALL").fetchall():
        grid[dow][hour] = n
    return {"hours": grid}


def features(con, files, end, days, filters=()):
    start, _ = window_of(end, days)
    load(con, files, [(start, end)], filters=filters)
    rows = con.execute("SELECT f, count(*), count(DISTINCT u) FROM e WHERE f IS NOT NULL GROUP BY f").fetchall()
    rows.sort(key=lambda r: (-r[1], r[0].encode()))
    return {"features": [{"feature": f, "events": n, "users": users} for f, n, users in rows]}


def csv_cell(value):
    """A features.csv cell as the daemon writes it: formula starts neutralised, then RFC 4180 quoting."""
    v = str(value)
    if v[:1] and v[0] in "=+-@\t\r":
        v = "'" + v
    return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n\r') else v


def step_parts(text):
    """(event_type, feature or None) of a step `event_type` or `event_type:feature`; None when malformed."""
    kind, colon, feature = text.partition(":")
    if not EVENT_TYPE.fullmatch(kind) or (colon and not feature):
        return None
    return kind, feature if colon else None


def step_sql(step):
    kind, feature = step
    return f"(t = {lit(kind)}" + (f" AND f = {lit(feature)})" if feature is not None else ")")


def funnel(con, files, end, days, steps, within, filters=()):
    start, _ = window_of(end, days)
    load(con, files, [(start, end)], filters=filters)
    parts = [step_parts(s) for s in steps]
    # Each identified user's events matching some step, numbered in (ts, file) order.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE fe AS
        SELECT u, ms, row_number() OVER (PARTITION BY u ORDER BY ms, n) AS r,
               {", ".join(f"{step_sql(s)} AS s{k}" for k, s in enumerate(parts))}
        FROM e WHERE u IS NOT NULL AND ({" OR ".join(step_sql(s) for s in parts)})""")
    # Every step-1 event starts a path; each step takes the first later event matching it, while within reach.
    con.execute("CREATE OR REPLACE TEMP TABLE paths AS SELECT u, ms AS start, r FROM fe WHERE s0")
    reached = [one(con, "SELECT count(DISTINCT u) FROM paths")[0]]
    for k in range(1, len(parts)):
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE paths AS
            SELECT paths.u, paths.start, nxt.r FROM paths ASOF JOIN (SELECT u, r, ms FROM fe WHERE s{k}) nxt
                ON paths.u = nxt.u AND nxt.r > paths.r
            WHERE nxt.ms - paths.start <= {int(within) * 1000}""")
        reached.append(one(con, "SELECT count(DISTINCT u) FROM paths")[0])
    return {"steps": [{"step": s, "users": n, "conversion": round(n / reached[0], 3) if reached[0] else 0.0}
                      for s, n in zip(steps, reached)]}


def experiment(con, files, end, days, name, goal, filters=()):
    start, _ = window_of(end, days)
    load(con, files, [(start, end)], filters=filters, need={"m"})
    # Exposure: a user's first event (ts, then file order) whose metadata.experiment is the string `name`.
    rows = con.execute(f"""
        WITH x AS (
            SELECT u, arg_min(CASE json_type(m, '$.variant') WHEN 'VARCHAR' THEN json_extract_string(m, '$.variant')
                                  WHEN 'NULL' THEN '(none)' ELSE coalesce(CAST(json_extract(m, '$.variant') AS VARCHAR), '(none)') END,
                              {{'ms': ms, 'n': n}}) AS variant,
                   min(ms) AS exposed
            FROM e WHERE u IS NOT NULL AND json_type(m, '$.experiment') = 'VARCHAR' AND json_extract_string(m, '$.experiment') = ?
            GROUP BY u),
        g AS (SELECT u, max(ms) AS last FROM e WHERE u IS NOT NULL AND {step_sql(step_parts(goal))} GROUP BY u)
        SELECT variant, count(*), count(*) FILTER (WHERE g.last >= x.exposed) FROM x LEFT JOIN g USING (u) GROUP BY variant
    """, [name]).fetchall()
    rows.sort(key=lambda r: r[0].encode())
    control = next((r for r in rows if r[0] == "control"), rows[0] if rows else None)
    out = []
    for v, n, c in rows:
        row = {"variant": v, "users": n, "converted": c, "rate": round(c / n, 4)}
        if v != control[0]:
            _, n1, c1 = control
            p1, p2 = c1 / n1, c / n
            se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n)
            pooled = (c1 + c) / (n1 + n)
            se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n))
            z = (p2 - p1) / se_pooled if se_pooled else 0.0
            row.update({"uplift": round(p2 - p1, 4), "relative_uplift": round((p2 - p1) / p1, 4) if p1 else None,
                        "ci95": [round(p2 - p1 - 1.96 * se, 4), round(p2 - p1 + 1.96 * se, 4)],
                        "p_value": round(math.erfc(abs(z) / math.sqrt(2)), 4)})
        out.append(row)
    return {"experiment": name, "goal": goal, "variants": out}


def retention(con, files, end, weeks, filters=()):
    last = end - dt.timedelta(days=end.weekday())
    first = last - dt.timedelta(weeks=weeks - 1)
    load(con, files, [(dt.date(1, 1, 1), end)], filters=filters)
    counts = con.execute("""
        WITH firsts AS (SELECT u, CAST(date_trunc('week', min(d)) AS DATE) AS cohort FROM e WHERE u IS NOT NULL GROUP BY u),
             active AS (SELECT DISTINCT u, CAST(date_trunc('week', d) AS DATE) AS wk FROM e WHERE u IS NOT NULL)
        SELECT cohort, wk, count(*) FROM firsts JOIN active USING (u) WHERE cohort >= ? GROUP BY ALL
    """, [first]).fetchall()
    active = {(c, w): n for c, w, n in counts}
    cohorts = []
    for i in range(weeks):
        week = first + dt.timedelta(weeks=i)
        year, number, _ = week.isocalendar()
        row = [active.get((week, week + dt.timedelta(weeks=k)), 0) for k in range(weeks - i)]
        cohorts.append({"week": f"{year}-W{number:02d}", "start": week.isoformat(), "users": row[0], "active": row})
    return {"cohorts": cohorts}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = p.add_subparsers(dest="what", required=True, metavar="COMMAND")

    def command(name, helptext, days=True):
        sp = commands.add_parser(name, help=helptext, description=helptext)
        if days:
            sp.add_argument("--days", type=int, default=30, help="window length in UTC dates")
        sp.add_argument("--end", default=dt.datetime.now(dt.timezone.utc).date().isoformat(), help="last date of the window (default today, UTC)")
        sp.add_argument("--filter", action="append", default=[], metavar="DIM:A|B", dest="filters",
                        help="only events whose dimension is A or B (DIM!:A|B: neither; (none): absent); repeatable, all must hold")
        return sp

    def files(sp):
        sp.add_argument("files", nargs="+", help="NDJSON files, plain or .gz (segments oldest first)")

    for name, helptext in (("usage", "DAU, WAU, MAU, feature usage and funnel steps of the window"),
                           ("daily", "users and events of each date of the window")):
        sp = command(name, helptext)
        sp.add_argument("--top", type=int, default=50, help="feature_usage entries at most")
        sp.add_argument("--funnel", default=",".join(FUNNEL), help="funnel steps, comma-separated (default %(default)s)")
        files(sp)
    sp = command("breakdown", "events, users and visits per value of a dimension")
    sp.add_argument("--by", required=True, metavar="DIM", help=f"one of {', '.join(DIMENSIONS)}, or prop:KEY")
    sp.add_argument("--top", type=int, default=50, help="rows listed before (other), 1-1000 (default 50)")
    sp.add_argument("--compare", action="store_true", help="add each value's previous period and the change of its users")
    files(sp)
    for name, helptext in (("visits", "visits (session_id) of the window: bounce rate, duration, pages"),
                           ("hours", "events by UTC weekday (Monday first) and hour")):
        files(command(name, helptext))
    sp = command("features", "feature, events and users of every feature of the window")
    sp.add_argument("--csv", action="store_true", help="print features.csv's body (CRLF lines) instead of JSON")
    files(sp)
    sp = command("funnel", "users reaching each step in order (docs/metrics.md#funnels)")
    sp.add_argument("--steps", required=True, help="2-8 comma-separated event_type or event_type:feature")
    sp.add_argument("--within", type=int, default=86_400, help="seconds from step 1 to the last step (default %(default)s)")
    files(sp)
    sp = command("experiment", "an A/B test from metadata.experiment and metadata.variant (docs/metrics.md#experiments)")
    sp.add_argument("name", help="the experiment (metadata.experiment)")
    sp.add_argument("--goal", default="conversion", help="event_type or event_type:feature (default %(default)s)")
    files(sp)
    sp = command("retention", "weekly cohorts of the --weeks ISO weeks ending with the week of --end", days=False)
    sp.add_argument("--weeks", type=int, default=8, help="cohorts, 1-52 (default %(default)s)")
    files(sp)
    a = p.parse_args()
    if getattr(a, "days", 1) < 1:
        p.error("--days must be at least 1")
    try:
        filters = [Filter(f) for f in a.filters]
        if a.what == "breakdown":
            check_dimension(a.by)
    except ValueError as e:
        p.error(str(e))
    if a.what == "breakdown" and not 1 <= a.top <= 1000:
        p.error("--top must be from 1 to 1000")
    if a.what == "funnel":
        steps = a.steps.split(",")
        if not 2 <= len(steps) <= 8 or not all(map(step_parts, steps)):
            p.error("--steps must be 2 to 8 comma separated event_type or event_type:feature")
        if not 1 <= a.within <= 365 * 86_400:
            p.error("--within must be from 1 to 31536000")
    if a.what == "experiment" and not step_parts(a.goal):
        p.error("--goal must be event_type or event_type:feature")
    if a.what == "retention" and not 1 <= a.weeks <= 52:
        p.error("--weeks must be from 1 to 52")
    end = dt.date.fromisoformat(a.end)
    con = duckdb.connect()
    started = time.perf_counter()
    if a.what == "usage":
        result = usage(con, a.files, end, a.days, a.top, [s for s in a.funnel.split(",") if s], filters)
    elif a.what == "daily":
        result = daily(con, a.files, end, a.days, filters)
    elif a.what == "breakdown":
        result = breakdown(con, a.files, end, a.days, a.by, a.top, a.compare, filters)
    elif a.what == "visits":
        result = visits(con, a.files, end, a.days, filters)
    elif a.what == "hours":
        result = hours(con, a.files, end, a.days, filters)
    elif a.what == "features":
        result = features(con, a.files, end, a.days, filters)
    elif a.what == "funnel":
        result = funnel(con, a.files, end, a.days, steps, a.within, filters)
    elif a.what == "experiment":
        result = experiment(con, a.files, end, a.days, a.name, a.goal, filters)
    else:
        result = retention(con, a.files, end, a.weeks, filters)
    print(f"duckdb: {(time.perf_counter() - started) * 1000:.1f} ms", file=sys.stderr)
    if a.what == "features" and a.csv:
        rows = [["feature", "events", "users"]] + [[r["feature"], r["events"], r["users"]] for r in result["features"]]
        sys.stdout.write("".join(",".join(map(csv_cell, row)) + "\r\n" for row in rows))
    else:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
