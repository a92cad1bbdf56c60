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

--web (a flag of its own: without it every output above is byte-identical to before) makes the
dimension-rich traffic of a public site plus its app, from a random stream of its own:

  gen_events.py --web --days 90 --dau 20000 --users 100000 --per-user 5 --end 2026-11-24 --stored > seg.ndjson
  gen_events.py --web ... --batches 100 > bodies.tsv   # <User-Agent>\t<client IPv4>\t<body> per line

- Each active user makes 1-3 visits that date (60/30/10 %, so 1.5 on average), each a new `session_id`
  (16 hex digits) of a geometric number of events with mean --per-user (so about 1.5 x --per-user
  events per active user and date), 5 s to 4 min apart, starting at an hour that follows a daily curve
  in the user's own time zone; a visit may run past midnight into the next date (not past --end, where
  its events stop at 23:59:59.999). A visit opens with a `page_view`; later page views move to other pages.
- About 4,000 pages: landing pages, /docs/..., /blog/... and app pages /<feature>/<n>[/edit] with a
  Zipf-like popularity (entry pages lean to landing, blog and docs pages). `feature` is the page's first
  segment (`home` for `/`). Entry URLs sometimes carry `?utm_source=&utm_medium=&utm_campaign=` (now and
  then utm_term, utm_content, percent-encoded or `+` values), `?ref=`/`?source=`, a `#fragment`, or are
  absolute URLs of the site's host `https://www.acme.io/...`.
- About 55 % of visits come from one of about 330 referrers (search engines with their query, news and
  social sites, t.co and lnkd.in short links, a long tail of blogs, a few with `www.`, upper case, a port,
  an app scheme, or the site's own host); three quarters send it as the event field `referrer` of the
  visit's first event, the rest as `metadata.referrer`.
- Per user (deterministic in --seed and the user): a User-Agent, a client address, one of 24 channels
  (15 % of visits use another one; visits of server-side channels such as `api` or `webhook` carry no
  `session_id`), one of ~20 platforms, one of 40 client versions, a plan, a `device_id`, and a variant in
  each of 4 experiments. --anon is the fraction of visits made signed out (no `user_id` on any of their
  events); 12 % of signed-in visits sign in after their first event or two.
- --meta is the fraction of events with metadata: `plan`, per type `button_id` (300 values), `items` and
  `amount` (numbers) and `currency`, `query` and `results`, `code` and `fatal` (boolean), now and then
  `dark_mode` (boolean), a long `note` (over 256 bytes), a nested `ctx`, an array `tags`, a null `coupon`.
  A quarter of visits shows the user an experiment: an `experiment_exposure` event (no feature) with
  `metadata.experiment` and `metadata.variant` (1 % without variant); variants other than `control`
  convert a little more often.
- User-Agents: 30 real strings (desktop Chrome, Edge, Firefox, Safari, Opera on Windows 10/7, macOS,
  Linux and ChromeOS; iPhone Safari, Chrome and Firefox, Android Chrome, Samsung Internet, Firefox, Edge,
  Opera, the Facebook and Instagram in-app browsers; iPad Safari, Android tablets, Kindle Silk), in
  USER_AGENTS with the browser, browser_version, os, os_version and device that --stored writes for them.
- Client addresses: 1-254 in one of these /24 blocks, by the user's country (the country --stored writes):
      1.0.0.0/24 US     81.2.69.0/24 GB     5.9.0.0/24 DE        103.21.244.0/24 IN
      200.160.2.0/24 BR 89.160.20.0/24 SE   175.16.199.0/24 CN   202.196.224.0/24 PH
      192.0.2.0/24 (TEST-NET-1, no country)
  so a test country database that maps these blocks gives the same countries: `gen_events.py --networks`
  prints them as JSON for scripts/lib/make_mmdb.py (`gen_events.py --networks | make_mmdb.py geo.mmdb --ip-version 4`).
- --batches N: each body holds the events of one user and date (at most N; a user's longer day takes
  several bodies), since its User-Agent and address are the request's. Bodies are therefore mostly
  smaller than N.
- --stored: the canonical line with the derived dimensions, keys in the daemon's order: ts, event_type,
  id, user_id, feature, url, session_id, channel, platform, device_id, client_version, page, referrer,
  utm_source, utm_medium, utm_campaign, utm_term, utm_content, browser, browser_version, os, os_version,
  device, country, metadata, received_at. page, referrer and utm_* are derived from url, referrer and
  metadata.referrer as docs/dimensions.md says (the code mirrors Sources/Telemetry/Dimensions/WebDimensions.swift);
  browser ... device from USER_AGENTS; country from the address block.
"""
import argparse
import bisect
import datetime as dt
import itertools
import json
import random
import sys
import uuid
from json.encoder import encode_basestring as quote  # a JSON string literal, non-ASCII kept (as ensure_ascii=False)

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


# ----------------------------------------------------------------------------------------------------- --web
# (weight, User-Agent, (browser, browser_version, os, os_version, device)); None = the User-Agent does not say.
USER_AGENTS = (
    (16, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
     ("Chrome", "131", "Windows", "10", "desktop")),
    (6, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
     ("Chrome", "130", "Windows", "10", "desktop")),
    (8, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
     ("Chrome", "131", "macOS", "10", "desktop")),
    (2, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
     ("Chrome", "131", "Linux", None, "desktop")),
    (5, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
     ("Edge", "131", "Windows", "10", "desktop")),
    (1, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
     ("Edge", "130", "macOS", "10", "desktop")),
    (3, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
     ("Firefox", "133", "Windows", "10", "desktop")),
    (1, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:132.0) Gecko/20100101 Firefox/132.0",
     ("Firefox", "132", "macOS", "10", "desktop")),
    (1, "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
     ("Firefox", "133", "Linux", None, "desktop")),
    (5, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
     ("Safari", "18", "macOS", "10", "desktop")),
    (2, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
     ("Safari", "17", "macOS", "10", "desktop")),
    (1, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 OPR/114.0.0.0",
     ("Opera", "114", "Windows", "10", "desktop")),
    (1, "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
     ("Chrome", "131", "ChromeOS", None, "desktop")),
    (1, "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
     ("Chrome", "109", "Windows", "7", "desktop")),
    (12, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
     ("Safari", "18", "iOS", "18", "mobile")),
    (4, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
     ("Safari", "17", "iOS", "17", "mobile")),
    (2, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
     ("Chrome", "131", "iOS", "18", "mobile")),
    (1, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/132.0 Mobile/15E148 Safari/605.1.15",
     ("Firefox", "132", "iOS", "17", "mobile")),
    (10, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
     ("Chrome", "131", "Android", "10", "mobile")),
    (3, "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.107 Mobile Safari/537.36",
     ("Chrome", "130", "Android", "14", "mobile")),
    (3, "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
     ("Samsung Internet", "26", "Android", "14", "mobile")),
    (1, "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
     ("Firefox", "133", "Android", "14", "mobile")),
    (1, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0",
     ("Edge", "131", "Android", "10", "mobile")),
    (1, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 OPR/85.0.0.0",
     ("Opera", "85", "Android", "10", "mobile")),
    (2, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
        "[FBAN/FBIOS;FBAV/485.0.0.44.105;FBBV/652512468;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.6;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
     ("Facebook", "485", "iOS", "17", "mobile")),
    (1, "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
        "Chrome/130.0.6723.102 Mobile Safari/537.36 Instagram 355.0.0.37.103 Android (33/13; 450dpi; 1080x2177; samsung; SM-A536B; a53x; s5e8825; en_GB; 660463419)",
     ("Instagram", "355", "Android", "13", "mobile")),
    (3, "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
     ("Safari", "17", "iPadOS", "17", "tablet")),
    (1, "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
     ("Chrome", "131", "iPadOS", "18", "tablet")),
    (1, "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
     ("Chrome", "131", "Android", "14", "tablet")),
    (1, "Mozilla/5.0 (Linux; Android 11; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/130.4.1 like Chrome/130.0.6723.102 Safari/537.36",
     ("Silk", "130", "Android", "11", "tablet")),
)
# (first three octets, country, share of users, UTC offset of the daily curve in hours).
IP_BLOCKS = (("1.0.0", "US", 34, -6), ("81.2.69", "GB", 12, 0), ("5.9.0", "DE", 10, 1), ("103.21.244", "IN", 9, 5),
             ("200.160.2", "BR", 8, -3), ("89.160.20", "SE", 6, 1), ("175.16.199", "CN", 5, 8), ("202.196.224", "PH", 5, 8),
             ("192.0.2", None, 11, 0))
# Share of a day's visits that start in each local hour (0-23).
DAY_CURVE = (2, 1, 1, 1, 1, 2, 4, 7, 10, 12, 13, 13, 12, 12, 13, 13, 12, 11, 10, 9, 8, 6, 4, 3)
CHANNELS = ("web", "mobile", "desktop", "slack", "teams", "chrome_extension", "cli", "vscode", "email", "api", "jetbrains",
            "discord", "zapier", "embed", "push", "webhook", "intercom", "sms", "sdk_python", "whatsapp", "sdk_node", "agent",
            "sdk_go", "cron")
SERVER_CHANNELS = frozenset(("api", "email", "zapier", "webhook", "sdk_python", "sdk_node", "sdk_go", "cron"))
PLATFORM_BY_OS = {"Windows": "windows", "macOS": "macos", "Linux": "linux", "ChromeOS": "chromeos", "iOS": "ios",
                  "iPadOS": "ipados", "Android": "android"}
OTHER_PLATFORMS = ("electron", "react-native", "flutter", "web", "pwa", "tauri", "capacitor", "unity", "roku", "tvos",
                   "watchos", "wearos", "tizen", "freebsd")
CLIENT_VERSIONS = tuple(f"3.{minor}.{patch}" for minor in range(9, -1, -1) for patch in range(3, -1, -1))
PLANS = ("free", "pro", "team", "trial", "enterprise", "starter", "education", "nonprofit")
EXPERIMENTS = (("new_onboarding", ("control", "b")), ("pricing_page", ("control", "annual_first", "monthly_first")),
               ("checkout_button", ("control", "green")), ("search_ranking", ("control", "bm25", "semantic")))
WEB_LATER_TYPES = (("page_view", 0.50), ("action", 0.28), ("conversion", 0.07), ("search", 0.06), ("signup", 0.03),
                   ("error", 0.03), ("share", 0.03))
WORDS = ("alpha", "blue", "cloud", "data", "edge", "flow", "green", "hyper", "iron", "jade", "kite", "lumen", "metro",
         "nova", "ocean", "pixel", "quant", "rapid", "solar", "tidal", "ultra", "vivid", "wave", "zen")
TLDS = ("com", "io", "dev", "org", "net", "co.uk", "de", "fr", "blog", "app")
CURRENCIES = ("USD", "EUR", "GBP", "INR", "BRL", "SEK")


def zipf_cum(n, s=1.0):
    return cumulative(1.0 / (rank ** s) for rank in range(1, n + 1))


def build_pages():
    """(entry-page picker, inner-page picker): each a (pages, cumulative weights) pair."""
    landing = ["/", "/pricing", "/features", "/signup", "/login", "/about", "/customers", "/integrations", "/changelog",
               "/contact", "/security", "/enterprise", "/careers", "/status", "/partners", "/templates"]
    docs = [f"/docs/{a}/{b}-{c}" for a in WORDS[:12] for b in WORDS[12:] for c in ("intro", "guide", "api")]
    blog = [f"/blog/{2023 + i % 3}/{WORDS[i % 24]}-{WORDS[(i * 7) % 24]}-{i}" for i in range(400)]
    app, app_w = [], []
    for rank, feature in enumerate(FEATURES, 1):
        app.append(f"/{feature}")
        app_w.append(3.0 / rank)
        for n in range(250):
            app.append(f"/{feature}/{n}")
            app_w.append(1.0 / rank / (n + 1) ** 1.1)
        for n in range(60):
            app.append(f"/{feature}/{n}/edit")
            app_w.append(0.3 / rank / (n + 1) ** 1.1)
    groups = ((landing, zipf_cum(len(landing))), (docs, zipf_cum(len(docs), 0.9)), (blog, zipf_cum(len(blog), 0.9)),
              (app, cumulative(app_w)))
    return groups, cumulative((0.40, 0.15, 0.25, 0.20)), cumulative((0.05, 0.10, 0.05, 0.80))


PAGE_GROUPS, ENTRY_GROUP_CUM, INNER_GROUP_CUM = build_pages()


def build_referrers():
    """About 330 referrer kinds, most popular first: (weight, template); {q}, {n}, {w} are filled per visit."""
    big = [(30, "https://www.google.com/search?q={q}"), (6, "https://www.bing.com/search?q={q}"),
           (4, "https://duckduckgo.com/?q={q}"), (3, "https://www.google.co.uk/"), (2, "https://www.google.de/"),
           (5, "https://news.ycombinator.com/item?id={n}"), (1, "https://www.News.ycombinator.com/item?id={n}"),
           (5, "https://www.reddit.com/r/{w}/comments/{n}/"), (1, "https://old.reddit.com/r/{w}/"),
           (4, "https://t.co/{n}"), (2, "https://x.com/{w}/status/{n}"), (1, "https://twitter.com/{w}"),
           (3, "https://www.linkedin.com/feed/"), (1, "https://lnkd.in/{n}"), (2, "https://l.facebook.com/l.php?u=x"),
           (1, "https://m.facebook.com/"), (3, "https://github.com/{w}/{w}"), (2, "https://stackoverflow.com/questions/{n}"),
           (1, "https://dev.to/{w}"), (1, "https://medium.com/@{w}/{w}-{n}"), (1, "https://www.producthunt.com/posts/acme"),
           (1, "https://www.youtube.com/watch?v={n}"), (1, "https://app.slack.com/client/T{n}"),
           (1, "https://outlook.live.com/"), (1, "https://mail.google.com/"), (1, "https://www.baidu.com/s?wd={q}"),
           (1, "https://yandex.ru/search/?text={q}"), (1, "https://www.ecosia.org/search?q={q}"),
           (1, "https://search.brave.com/search?q={q}"), (1, "https://chatgpt.com/"), (1, "https://www.perplexity.ai/"),
           (1, "android-app://com.google.android.gm/"), (1, "http://localhost:3000/"), (1, "google.com/search?q={q}"),
           (1, "https://user:pw@Forum.Example.net:8443/t/{n}"), (1, "https://acme.io/blog/"),
           (1, "https://www.acme.io/pricing")]
    tail = [(1.0 / (i + 2), f"https://{'www.' if i % 5 == 0 else ''}{WORDS[i % 24]}{WORDS[(i * 5 + i // 24) % 24]}.{TLDS[i % 10]}/{{w}}-{{n}}")
            for i in range(300)]
    refs = big + tail
    return [t for _, t in refs], cumulative(w for w, _ in refs)


REFERRERS, REFERRER_CUM = build_referrers()
QUERIES = tuple(f"{a} {b}" for a in WORDS for b in WORDS[::3])  # 192 search terms
CAMPAIGNS = (("google", "cpc", "brand_search"), ("newsletter", "email", "weekly_digest"), ("twitter", "social", "launch+week"),
             ("facebook", "paid_social", "retarget%20q4"), ("linkedin", "social", "webinar"), ("partner", "referral", "caf%C3%A9"),
             ("bing", "cpc", "competitor"), ("producthunt", "launch", "ph_2025"), ("youtube", "video", "tutorial"),
             ("newsletter", "email", "black+friday"))
WEB_TYPE_NAMES = [name for name, _ in WEB_LATER_TYPES]
WEB_TYPE_CUM = cumulative(w for _, w in WEB_LATER_TYPES)
WEB_TYPE_CUM_BOOST = cumulative(w * (1.3 if name == "conversion" else 1.0) for name, w in WEB_LATER_TYPES)
UA_CUM = cumulative(w for w, _, _ in USER_AGENTS)
BLOCK_CUM = cumulative(share for _, _, share, _ in IP_BLOCKS)
CHANNEL_CUM = zipf_cum(len(CHANNELS), 1.3)
CLIENT_VERSION_CUM = zipf_cum(len(CLIENT_VERSIONS), 0.8)
PLAN_CUM = zipf_cum(len(PLANS), 1.2)
BUTTON_CUM = zipf_cum(300)
EXPERIMENT_CUM = zipf_cum(len(EXPERIMENTS))
# Per block, the cumulative share of visit starts by UTC hour.
HOUR_CUM = [cumulative(DAY_CURVE[(h + offset) % 24] for h in range(24)) for _, _, _, offset in IP_BLOCKS]


class Visitor:
    """What stays the same for a user (or a user's signed-out visits): deterministic in the seed and the user."""
    __slots__ = ("user_id", "ua", "ip", "block", "channel", "platform", "client_version", "plan", "device_id", "variants", "boost")

    def __init__(self, seed, user):
        r = random.Random(f"web-user-{seed}-{user}")
        self.user_id = f"user{user}"
        self.ua = min(bisect.bisect_left(UA_CUM, r.random()), len(USER_AGENTS) - 1)
        self.block = min(bisect.bisect_left(BLOCK_CUM, r.random()), len(IP_BLOCKS) - 1)
        self.ip = f"{IP_BLOCKS[self.block][0]}.{1 + r.randrange(254)}"
        self.channel = pick(r, CHANNELS, CHANNEL_CUM)
        os_name = USER_AGENTS[self.ua][2][2]
        self.platform = r.choice(OTHER_PLATFORMS) if r.random() < 0.2 else PLATFORM_BY_OS[os_name]
        self.client_version = pick(r, CLIENT_VERSIONS, CLIENT_VERSION_CUM)
        self.plan = pick(r, PLANS, PLAN_CUM)
        self.device_id = f"d-{r.getrandbits(48):012x}"
        self.variants = [variants[r.randrange(len(variants))] for _, variants in EXPERIMENTS]
        self.boost = any(v != "control" for v in self.variants[:2])


def campaign_query(rnd):
    source, medium, campaign = CAMPAIGNS[rnd.randrange(len(CAMPAIGNS))]
    q = f"utm_source={source}&utm_medium={medium}&utm_campaign={campaign}"
    x = rnd.random()
    if x < 0.2:
        q += f"&utm_term={QUERIES[rnd.randrange(len(QUERIES))].replace(' ', '+')}"
    elif x < 0.3:
        q += f"&utm_content=banner_{rnd.randrange(12)}"
    elif x < 0.33:
        q = "ref=" + source + "&" + q  # ref= does not override a utm_source
    return q


def entry_url(rnd, page):
    x = rnd.random()
    if x < 0.15:
        return f"{page}?{campaign_query(rnd)}"
    if x < 0.18:
        return f"{page}?ref={('producthunt', 'hn', 'newsletter', 'github')[rnd.randrange(4)]}"
    if x < 0.19:
        return f"{page}?source=partner_{rnd.randrange(30)}&utm_source="
    if x < 0.22:
        return f"https://www.acme.io{page}"
    if x < 0.24:
        return f"{page}#{WORDS[rnd.randrange(24)]}"
    return page


def referrer_url(rnd):
    t = pick(rnd, REFERRERS, REFERRER_CUM)
    if "{" not in t:
        return t
    return (t.replace("{q}", QUERIES[rnd.randrange(len(QUERIES))].replace(" ", "+"))
            .replace("{n}", str(rnd.randrange(1, 99_999))).replace("{w}", WORDS[rnd.randrange(24)]))


def web_metadata(rnd, visitor, event_type):
    m = {}
    if rnd.random() < 0.7:
        m["plan"] = visitor.plan
    if event_type == "action":
        m["button_id"] = f"b{bisect.bisect_left(BUTTON_CUM, rnd.random())}"
    elif event_type == "conversion":
        m["items"] = 1 + rnd.randrange(12)
        m["amount"] = rnd.randrange(500, 50_000) / 100
        m["currency"] = CURRENCIES[rnd.randrange(len(CURRENCIES))]
    elif event_type == "search":
        m["query"] = QUERIES[rnd.randrange(len(QUERIES))]
        m["results"] = rnd.randrange(60)
    elif event_type == "error":
        m["code"] = (400, 401, 403, 404, 429, 500, 502, 503)[rnd.randrange(8)]
        m["fatal"] = rnd.random() < 0.2
    x = rnd.random()
    if x < 0.3:
        m["dark_mode"] = x < 0.12
    elif x < 0.31:
        m["ctx"] = {"tab": WORDS[rnd.randrange(24)], "depth": rnd.randrange(5)}
    elif x < 0.32:
        m["tags"] = [WORDS[rnd.randrange(24)], WORDS[rnd.randrange(24)]]
    elif x < 0.325:
        m["coupon"] = None
    elif x < 0.327:
        m["note"] = "lorem ipsum " * 25
    return m


def web_visits(a):
    """Yields (visitor, [(date index, ms after that date's midnight, event), ...]): one user's events of one date."""
    rnd = random.Random(f"web-{a.seed}")
    active = min(a.dau, a.users)
    visitors = {}
    go_on = 1.0 - 1.0 / a.per_user  # geometric visit length with mean --per-user
    for index in range(a.days):
        for user in rnd.sample(range(a.users), active):
            visitor = visitors.get(user)
            if visitor is None:
                visitor = visitors[user] = Visitor(a.seed, user)
            x = rnd.random()
            starts = sorted(
                bisect.bisect_left(HOUR_CUM[visitor.block], rnd.random()) * 3_600_000 + rnd.randrange(3_600_000)
                for _ in range(1 if x < 0.6 else 2 if x < 0.9 else 3))
            out = []
            for ms in starts:
                channel = visitor.channel if rnd.random() >= 0.15 else pick(rnd, CHANNELS, CHANNEL_CUM)
                session = None if channel in SERVER_CHANNELS else f"{rnd.getrandbits(64):016x}"
                signed_out = rnd.random() < a.anon
                anonymous_first = 0 if signed_out or rnd.random() >= 0.12 else 1 + rnd.randrange(2)
                n = 1
                while rnd.random() < go_on and n < 200:
                    n += 1
                page = pick(rnd, *PAGE_GROUPS[pick(rnd, range(4), ENTRY_GROUP_CUM)])
                day, expose = index, rnd.random() < 0.25
                for step in range(n + (1 if expose else 0)):
                    if step:
                        ms += rnd.randrange(5_000, 240_000)
                        if ms >= DAY_MS:
                            if day + 1 < a.days:
                                day, ms = day + 1, ms - DAY_MS
                            else:
                                ms = DAY_MS - 1
                    meta = rnd.random() < a.meta
                    if step == 0:
                        event_type, url = "page_view", entry_url(rnd, page)
                    elif expose and step == 1:
                        event_type, url = "experiment_exposure", page
                    else:
                        event_type = pick(rnd, WEB_TYPE_NAMES, WEB_TYPE_CUM_BOOST if visitor.boost else WEB_TYPE_CUM)
                        if event_type == "page_view":
                            page = pick(rnd, *PAGE_GROUPS[pick(rnd, range(4), INNER_GROUP_CUM)])
                        url = page
                    event = {"event_type": event_type, "ts": None}
                    if event_type != "experiment_exposure":
                        segment = page.split("/")[1]
                        event["feature"] = segment or "home"
                    event["url"] = url
                    if not signed_out and step >= anonymous_first:
                        event["user_id"] = visitor.user_id
                    if session:
                        event["session_id"] = session
                    event["channel"] = channel
                    event["platform"] = visitor.platform
                    event["device_id"] = visitor.device_id
                    event["client_version"] = visitor.client_version
                    metadata = web_metadata(rnd, visitor, event_type) if meta else None
                    if step == 0 and rnd.random() < 0.55:
                        referrer = referrer_url(rnd)
                        if rnd.random() < 0.75:
                            event["referrer"] = referrer
                        else:
                            metadata = metadata or {}
                            metadata["referrer"] = referrer
                    if event_type == "experiment_exposure":
                        k = pick(rnd, range(len(EXPERIMENTS)), EXPERIMENT_CUM)
                        metadata = metadata or {}
                        metadata["experiment"] = EXPERIMENTS[k][0]
                        if rnd.random() >= 0.01:
                            metadata["variant"] = visitor.variants[k]
                    if metadata is not None:
                        event["metadata"] = metadata
                    out.append((day, ms, event))
            yield visitor, out


# Derived dimensions, as Sources/Telemetry/Dimensions/WebDimensions.swift computes them (docs/dimensions.md).
def _authority_start(u):
    if u[:2] == b"//":
        return 2
    i = 0
    while i < len(u):
        c = u[i]
        if not ((0x61 <= c | 0x20 <= 0x7A) or (i > 0 and (0x30 <= c <= 0x39 or c in b"+-."))):
            break
        i += 1
    return i + 3 if i > 0 and u[i:i + 3] == b"://" else None


def split_url(u):
    """(host range or None, path bytes, query bytes or None) of a URL's bytes."""
    n, i, host = len(u), 0, None
    authority = _authority_start(u)
    if authority is not None:
        end = authority
        while end < n and u[end] not in b"/?#":
            end += 1
        host, i = (authority, end), end
    start = i
    while i < n and u[i] not in b"?#":
        i += 1
    path, query = u[start:i], None
    if i < n and u[i] == 0x3F:
        end = u.find(b"#", i + 1)
        query = u[i + 1:] if end < 0 else u[i + 1:end]
    return host, path, query


def host_of(u, start, end):
    """The host of an authority: credentials, port and a leading www. off, lower case; None when unusable."""
    at = u.rfind(b"@", start, end)
    if at >= 0:
        start = at + 1
    if start < end and u[start] == 0x5B:
        close = u.find(b"]", start, end)
        if close >= 0:
            end = close + 1
    else:
        colon = u.find(b":", start, end)
        if colon >= 0:
            end = colon
    host = u[start:end].lower()  # ASCII letters only
    if host.startswith(b"www.") and len(host) > 4:
        host = host[4:]
    host = host.rstrip(b".")
    if not host or any(c <= 0x20 or c in b'"\\' for c in host):
        return None
    return host


def referrer_host(r):
    host, _, _ = split_url(r)
    if host is not None:
        return host_of(r, *host)
    end = 0
    while end < len(r) and r[end] not in b"/?#":
        end += 1
    if end == 0 or b"." not in r[:end]:
        return None
    return host_of(r, 0, end)


def decode_component(s):
    out, i, n = bytearray(), 0, len(s)
    while i < n:
        c = s[i]
        if c == 0x25 and i + 2 < n and all(h in b"0123456789abcdefABCDEF" for h in s[i + 1:i + 3]):
            out.append(int(s[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(0x20 if c == 0x2B else c)
            i += 1
    try:
        return out.decode()
    except UnicodeDecodeError:
        return None


CAMPAIGN_KEYS = {b"utm_source": "utm_source", b"utm_medium": "utm_medium", b"utm_campaign": "utm_campaign",
                 b"utm_term": "utm_term", b"utm_content": "utm_content", b"ref": None, b"source": None}
encode_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
URL_FIELDS = ("page", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def url_dimensions(url):
    """(host of the URL or None, {page, utm_*} of the URL)."""
    u = url.encode()
    host, path, query = split_url(u)
    found = {}
    if path:
        found["page"] = path.decode()
    elif host is not None:
        found["page"] = "/"
    fallback = None
    for part in (query.split(b"&") if query is not None else ()):
        key, eq, value = part.partition(b"=")
        if not eq or key not in CAMPAIGN_KEYS:
            continue
        value = decode_component(value)
        if not value:
            continue
        field = CAMPAIGN_KEYS[key]
        if field is None:
            fallback = fallback or value
        elif field not in found:
            found[field] = value
    if "utm_source" not in found and fallback is not None:
        found["utm_source"] = fallback
    return (host_of(u, *host) if host is not None else None), found


def web_stored_line(ids, prefixes, day, ms, event, visitor, caches):
    """The canonical line of a --web event, with the dimensions the daemon derives (a str, built from cached parts)."""
    url_cache, ref_cache, tail_cache = caches
    n = ids.getrandbits(128) & ~(0xF000 << 64) | (0x4000 << 64)  # as uuid.UUID(int=..., version=4)
    h = f"{n & ~(0xC000 << 48) | (0x8000 << 48):032x}"
    line = [f'{{"ts":"{iso_ms(prefixes[day], ms)}","event_type":{quote(event["event_type"])},'
            f'"id":"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"']
    for key in ("user_id", "feature", "url", "session_id", "channel", "platform", "device_id", "client_version"):
        if key in event:
            line.append(f',"{key}":{quote(event[key])}')
    url = event.get("url")
    derived = url_cache.get(url)
    if derived is None:
        host, fields = url_dimensions(url) if url is not None else (None, {})
        derived = url_cache[url] = (host, "".join(f',"{k}":{quote(fields[k])}' for k in URL_FIELDS[:1] if k in fields),
                                    "".join(f',"{k}":{quote(fields[k])}' for k in URL_FIELDS[1:] if k in fields))
    url_host, page, campaign = derived
    line.append(page)
    metadata = event.get("metadata")
    referrer = event.get("referrer")
    if referrer is None and metadata is not None and isinstance(metadata.get("referrer"), str):
        referrer = metadata["referrer"]
    if referrer is not None:
        host = ref_cache.get(referrer, False)
        if host is False:
            host = ref_cache[referrer] = referrer_host(referrer.encode())
        if host != url_host and host is not None:
            line.append(f',"referrer":{quote(host.decode())}')
    line.append(campaign)
    tail = tail_cache.get((visitor.ua, visitor.block))
    if tail is None:
        values = zip(("browser", "browser_version", "os", "os_version", "device", "country"),
                     USER_AGENTS[visitor.ua][2] + (IP_BLOCKS[visitor.block][1],))
        tail = tail_cache[(visitor.ua, visitor.block)] = "".join(f',"{k}":{quote(v)}' for k, v in values if v is not None)
    line.append(tail)
    if metadata is not None:
        line.append(f',"metadata":{encode_compact(metadata)}')
    received = ms + 50 + ids.randrange(1_000)
    line.append(f',"received_at":"{iso_ms(prefixes[day + received // DAY_MS], received % DAY_MS)}"}}')
    return "".join(line)


def write_web(a, out, encode):
    end = dt.date.fromisoformat(a.end)
    prefixes = [(end - dt.timedelta(days=back)).isoformat() + "T" for back in range(a.days - 1, -2, -1)]
    visits = web_visits(a)
    if a.batches:
        for visitor, events in visits:
            head = f"{USER_AGENTS[visitor.ua][1]}\t{visitor.ip}\t"
            for i in range(0, len(events), a.batches):
                batch = []
                for day, ms, event in events[i:i + a.batches]:
                    event["ts"] = iso_ms(prefixes[day], ms)
                    batch.append(event)
                out.write(head + encode({"events": batch}) + "\n")
    elif a.stored:
        ids = random.Random(f"web-ids-{a.seed}")
        caches = ({}, {}, {})
        for visitor, events in visits:
            out.write("".join(web_stored_line(ids, prefixes, day, ms, event, visitor, caches) + "\n" for day, ms, event in events))
    else:
        for visitor, events in visits:
            for day, ms, event in events:
                event["ts"] = iso_ms(prefixes[day], ms)
                out.write(encode(event) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--days", type=int, default=30, help="UTC dates, ending --end")
    p.add_argument("--dau", type=int, default=1000, help="distinct users active each date")
    p.add_argument("--users", type=int, default=5000, help="distinct users overall")
    p.add_argument("--per-user", type=int, default=5, help="events per active user per date (--web: per visit, on average)")
    p.add_argument("--end", default=dt.datetime.now(dt.timezone.utc).date().isoformat(), help="last UTC date (default today)")
    p.add_argument("--anon", type=float, default=0.05, help="fraction of events without user_id")
    p.add_argument("--meta", type=float, default=0.3, help="fraction of events with metadata")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--web", action="store_true", help="dimension-rich visits (pages, referrers, campaigns, sessions, "
                   "User-Agents, addresses, properties): see above")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--batches", type=int, default=0, metavar="N", help="write POST bodies of N events (1-100) instead")
    mode.add_argument("--stored", action="store_true", help="write stored-style lines (id, received_at) instead")
    mode.add_argument("--networks", action="store_true", help="print the --web address blocks as JSON {\"CIDR\": \"CC\"} "
                      "(scripts/lib/make_mmdb.py's input) and exit")
    a = p.parse_args()
    if a.days < 1 or a.dau < 0 or a.users < 1 or a.per_user < 1:
        p.error("--days, --users and --per-user must be at least 1, --dau at least 0")
    if a.batches and not 1 <= a.batches <= 100:
        p.error("--batches takes 1 to 100 events per body (the event endpoint's limit)")

    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    out = sys.stdout
    if a.networks:
        out.write(json.dumps({f"{block}.0/24": country for block, country, _, _ in IP_BLOCKS if country}) + "\n")
        return
    if a.web:
        write_web(a, out, encode)
        return
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
