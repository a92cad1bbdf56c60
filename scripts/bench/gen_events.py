#!/usr/bin/env python3
"""Deterministic telemetryd workload: the events a web app's browsers send, day by day.

  gen_events.py --days 90 --dau 20000 --users 100000 --per-user 5 --end 2026-11-24 > events.ndjson
  gen_events.py ... --batches 100 > bodies.ndjson    # one POST body {"events":[...]} per line
  gen_events.py ... --stored > segment.ndjson        # lines as telemetryd stores them (canonical lines)

Each of the --days UTC dates ending --end has --dau distinct users (drawn from --users), each
making one visit of --per-user events a few seconds to minutes apart that opens with a page_view.
A fraction of events carries no user_id (--anon) and a fraction carries metadata (--meta). Features
follow a Zipf-like popularity, so feature_usage has a clear order. The same --seed and flags always
give the same bytes, so benchmark figures and golden tests compare across runs and machines.
Standard library only.
"""
import argparse
import bisect
import datetime as dt
import itertools
import json
import random
import sys
import uuid

FEATURES = ("dashboard", "workflow_builder", "boss_mode", "settings", "reports", "billing",
            "search", "export", "onboarding", "integrations", "alerts", "profile")
# After a visit's opening page_view: more page views, actions, and now and then a conversion.
LATER_TYPES = (("page_view", 0.55), ("action", 0.33), ("conversion", 0.12))
DAY_MS = 86_400_000


def cumulative(weights):
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return [c / total for c in out]


FEATURE_CUM = cumulative(1.0 / rank for rank in range(1, len(FEATURES) + 1))
TYPE_NAMES = [name for name, _ in LATER_TYPES]
TYPE_CUM = cumulative(w for _, w in LATER_TYPES)


def pick(rnd, names, cum):
    return names[min(bisect.bisect_left(cum, rnd.random()), len(names) - 1)]


def iso_ms(day_prefix, ms):
    """'YYYY-MM-DDT' + the time of day `ms` milliseconds after midnight, as telemetry.js writes it."""
    s, milli = divmod(ms, 1000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{day_prefix}{h:02d}:{m:02d}:{s:02d}.{milli:03d}Z"


def events(a):
    """Yields (day prefix, ms after midnight, event dict) in generation order."""
    rnd = random.Random(a.seed)
    end = dt.date.fromisoformat(a.end)
    active = min(a.dau, a.users)
    for back in reversed(range(a.days)):
        prefix = (end - dt.timedelta(days=back)).isoformat() + "T"
        for user in rnd.sample(range(a.users), active):
            ms = rnd.randrange(DAY_MS)
            for step in range(a.per_user):
                if step:
                    ms = min(DAY_MS - 1, ms + rnd.randrange(2_000, 180_000))
                feature = pick(rnd, FEATURES, FEATURE_CUM)
                event = {"event_type": "page_view" if step == 0 else pick(rnd, TYPE_NAMES, TYPE_CUM),
                         "ts": iso_ms(prefix, ms), "feature": feature,
                         "url": f"/{feature}/{rnd.randrange(40)}"}
                if rnd.random() >= a.anon:
                    event["user_id"] = f"user{user}"
                if rnd.random() < a.meta:
                    event["metadata"] = {"referrer": f"https://example.com/r/{rnd.randrange(20)}",
                                         "button_id": f"b{rnd.randrange(9)}"}
                yield prefix, ms, event


def stored_line(rnd, prefix, ms, event):
    """The event as telemetryd's canonical line: ts, event_type, id, user_id, feature, url, metadata, received_at."""
    line = {"ts": event["ts"], "event_type": event["event_type"], "id": str(uuid.UUID(int=rnd.getrandbits(128), version=4))}
    for key in ("user_id", "feature", "url", "metadata"):
        if key in event:
            line[key] = event[key]
    line["received_at"] = iso_ms(prefix, min(DAY_MS - 1, ms + 50 + rnd.randrange(1_000)))
    return line


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--days", type=int, default=30, help="UTC dates, ending --end")
    p.add_argument("--dau", type=int, default=1000, help="distinct users active each date")
    p.add_argument("--users", type=int, default=5000, help="distinct users overall")
    p.add_argument("--per-user", type=int, default=5, help="events per active user per date")
    p.add_argument("--end", default=dt.datetime.now(dt.timezone.utc).date().isoformat(), help="last UTC date (default today)")
    p.add_argument("--anon", type=float, default=0.05, help="fraction of events without user_id")
    p.add_argument("--meta", type=float, default=0.3, help="fraction of events with metadata")
    p.add_argument("--seed", type=int, default=1)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--batches", type=int, default=0, metavar="N", help="write POST bodies of N events (1-100) instead")
    mode.add_argument("--stored", action="store_true", help="write stored-style lines (id, received_at) instead")
    a = p.parse_args()
    if a.days < 1 or a.dau < 0 or a.users < 1 or a.per_user < 1:
        p.error("--days, --users and --per-user must be at least 1, --dau at least 0")
    if a.batches and not 1 <= a.batches <= 100:
        p.error("--batches takes 1 to 100 events per body (the event endpoint's limit)")

    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    out = sys.stdout
    stream = events(a)
    if a.batches:
        while True:
            batch = [event for _, _, event in itertools.islice(stream, a.batches)]
            if not batch:
                break
            out.write(encode({"events": batch}) + "\n")
    elif a.stored:
        ids = random.Random(f"ids-{a.seed}")
        for prefix, ms, event in stream:
            out.write(encode(stored_line(ids, prefix, ms, event)) + "\n")
    else:
        for _, _, event in stream:
            out.write(encode(event) + "\n")


if __name__ == "__main__":
    main()
