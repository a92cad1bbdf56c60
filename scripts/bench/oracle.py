#!/usr/bin/env python3
"""telemetryd's usage metrics (and daily users and events) as DuckDB queries over NDJSON.

  oracle.py usage --days 30 --end 2026-11-24 logs/analytics_events*.ndjson*
  oracle.py daily --days 7 --end 2026-11-24 events.ndjson

The reference answer for the golden tests and the "what an analyst would run instead" peer of the
benchmark. Reads plain or .gz NDJSON of input events or of stored events; only ts, event_type,
user_id and feature are read. ts is RFC 3339 with any offset and belongs to its UTC date. Prints one
JSON document on stdout (Python's default separators: the golden test reads key order from the
text) and `duckdb: <ms> ms` on stderr. Needs the duckdb module (requirements.txt, scripts/setup).

usage, over the window of --days UTC dates ending --end: total_events; unique_days (dates with an
event) and unique_weeks (ISO weeks, Monday to Sunday, with an event in the window); a user is a
distinct non-empty user_id; mau = users in the window; dau = mean over unique_days of that date's
users; wau = mean over unique_weeks of the users of that week within the window; both rounded as
Python's round(x, 1); feature_usage = events per feature, by count descending then name (byte order),
at most --top; funnel_steps = the --funnel steps first, in order (0 when absent), then every other
event_type by count descending then name. daily: users and events of each date of the window.
"""
import argparse
import datetime as dt
import json
import sys
import time

try:
    import duckdb
except ImportError:
    sys.exit("oracle.py: the duckdb module is missing; run scripts/setup (or .venv/bin/pip install -r requirements.txt) "
             "and use .venv/bin/python3")

FUNNEL = ("page_view", "action", "conversion")


def window_table(con, files, end, days):
    """Creates temp table `w` (d DATE, wk DATE, t, u, f): the events whose UTC date is in the window."""
    start = end - dt.timedelta(days=days - 1)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE w AS
        WITH raw AS (
            SELECT CAST(timezone('UTC', CAST(ts AS TIMESTAMPTZ)) AS DATE) AS d, event_type AS t,
                   NULLIF(user_id, '') AS u, feature AS f
            FROM read_ndjson(?, columns = {ts: 'VARCHAR', event_type: 'VARCHAR', user_id: 'VARCHAR', feature: 'VARCHAR'})
        )
        SELECT d, CAST(date_trunc('week', d) AS DATE) AS wk, t, u, f FROM raw WHERE d BETWEEN ? AND ?
    """, [list(files), start, end])
    return start


def one(con, sql):
    return con.execute(sql).fetchone()


def usage(con, files, end, days, top, funnel):
    start = window_table(con, files, end, days)
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


def daily(con, files, end, days):
    start = window_table(con, files, end, days)
    per_date = {d: (users, n) for d, users, n in con.execute("SELECT d, count(DISTINCT u), count(*) FROM w GROUP BY d").fetchall()}
    dates = (start + dt.timedelta(days=i) for i in range(days))
    return {"ok": True, "days": [{"date": d.isoformat(), "users": per_date.get(d, (0, 0))[0], "events": per_date.get(d, (0, 0))[1]}
                                 for d in dates]}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["usage", "daily"])
    p.add_argument("files", nargs="+", help="NDJSON files, plain or .gz")
    p.add_argument("--days", type=int, default=30, help="window length in UTC dates")
    p.add_argument("--end", default=dt.datetime.now(dt.timezone.utc).date().isoformat(), help="last date of the window (default today, UTC)")
    p.add_argument("--top", type=int, default=50, help="feature_usage entries at most")
    p.add_argument("--funnel", default=",".join(FUNNEL), help="funnel steps, comma-separated (default %(default)s)")
    a = p.parse_args()
    if a.days < 1:
        p.error("--days must be at least 1")
    end = dt.date.fromisoformat(a.end)
    con = duckdb.connect()
    started = time.perf_counter()
    if a.what == "usage":
        result = usage(con, a.files, end, a.days, a.top, [s for s in a.funnel.split(",") if s])
    else:
        result = daily(con, a.files, end, a.days)
    print(f"duckdb: {(time.perf_counter() - started) * 1000:.1f} ms", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
