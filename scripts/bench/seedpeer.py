"""The naive design as a benchmark peer: a Flask app that appends each batch's events to one NDJSON
file and answers usage by scanning the whole file per request.

  SEEDPEER_LOG=path SEEDPEER_KEY=key .venv/bin/gunicorn -w 2 -b 127.0.0.1:PORT --chdir scripts/bench seedpeer:app

POST /api/analytics/event takes {"events":[...]} (at most 100), keeps events with an event_type and a
ts no older than 365 days, and appends them with one write(2) on an O_APPEND descriptor, so the two
gunicorn workers never interleave lines. It never fsyncs. GET /api/analytics/usage?days=N[&end=]
(X-Dash-Key) computes the usage figures as oracle.py defines them, reading every line each time.
A floor to beat, not a design to copy.
"""
import datetime as dt
import json
import os
from collections import Counter, defaultdict

from flask import Flask, jsonify, request

app = Flask(__name__)
LOG = os.environ.get("SEEDPEER_LOG", "analytics_events.ndjson")
KEY = os.environ.get("SEEDPEER_KEY", "")
FUNNEL = ("page_view", "action", "conversion")
KEPT = ("event_type", "ts", "user_id", "feature", "url", "metadata")


def utc(ts):
    """An RFC 3339 string or epoch milliseconds as an aware UTC datetime; None when unreadable."""
    try:
        if isinstance(ts, (int, float)) and not isinstance(ts, bool):
            return dt.datetime.fromtimestamp(ts / 1000, dt.timezone.utc)
        moment = dt.datetime.fromisoformat(ts.replace("Z", "+00:00").replace("z", "+00:00"))
        return moment.astimezone(dt.timezone.utc) if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    except (AttributeError, TypeError, ValueError, OverflowError, OSError):
        return None


@app.post("/api/analytics/event")
def ingest():
    body = request.get_json(force=True, silent=True)
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list) or not events:
        return jsonify(ok=False, error="body must be an object with a non-empty events array"), 400
    if len(events) > 100:
        return jsonify(ok=False, error="at most 100 events per batch"), 413
    now = dt.datetime.now(dt.timezone.utc)
    oldest = now - dt.timedelta(days=365)
    lines, ignored = [], 0
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("event_type"), str) or not event["event_type"]:
            ignored += 1
            continue
        moment = utc(event["ts"]) if "ts" in event else now
        if moment is None or moment < oldest:
            ignored += 1
            continue
        kept = {k: event[k] for k in KEPT if k in event}
        kept["ts"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        lines.append(json.dumps(kept, separators=(",", ":")))
    if lines:
        fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, ("\n".join(lines) + "\n").encode())
        finally:
            os.close(fd)
    return jsonify(ok=True, logged=len(lines), ignored=ignored)


def stored_lines():
    try:
        log = open(LOG)
    except FileNotFoundError:
        return
    with log:
        yield from log


@app.get("/api/analytics/usage")
def usage():
    if request.headers.get("X-Dash-Key") != KEY:
        return jsonify(ok=False, error="unauthorized"), 401
    try:
        days = int(request.args.get("days", 30))
        end = dt.date.fromisoformat(request.args["end"]) if "end" in request.args else dt.datetime.now(dt.timezone.utc).date()
    except ValueError:
        return jsonify(ok=False, error="days must be an integer and end a YYYY-MM-DD date"), 400
    if not 1 <= days <= 365:
        return jsonify(ok=False, error="days must be 1 to 365"), 400
    start = end - dt.timedelta(days=days - 1)
    users_by_date, users_by_week, everyone = defaultdict(set), defaultdict(set), set()
    dates, weeks = set(), set()
    features, types = Counter(), Counter()
    total = 0
    for line in stored_lines():
        event = json.loads(line)
        date = utc(event["ts"]).date()
        if not start <= date <= end:
            continue
        week = date - dt.timedelta(days=date.weekday())
        total += 1
        dates.add(date)
        weeks.add(week)
        user = event.get("user_id")
        if user:
            users_by_date[date].add(user)
            users_by_week[week].add(user)
            everyone.add(user)
        if event.get("feature") is not None:
            features[event["feature"]] += 1
        types[event["event_type"]] += 1
    by_count = lambda kv: (-kv[1], kv[0].encode())
    steps = {step: types.pop(step, 0) for step in FUNNEL}
    steps.update(sorted(types.items(), key=by_count))
    average = lambda groups, n: round(sum(len(g) for g in groups.values()) / n, 1) if n else 0.0
    return app.response_class(json.dumps({
        "ok": True, "period_days": days, "window": {"start": start.isoformat(), "end": end.isoformat()},
        "dau": average(users_by_date, len(dates)), "wau": average(users_by_week, len(weeks)), "mau": len(everyone),
        "feature_usage": dict(sorted(features.items(), key=by_count)[:50]), "funnel_steps": steps,
        "total_events": total, "unique_days": len(dates), "unique_weeks": len(weeks)}), mimetype="application/json")
