/* telemetry.js: the telemetryd browser client (docs/api.md). No dependencies, no cookies. */
(function (w, d) {
  'use strict';
  if (w.EchoPilot) return;
  var nav = w.navigator, tag = d.currentScript || d.querySelector('script[src*="telemetry.js"]');
  var attr = function (n) { return tag && tag.getAttribute('data-' + n); };
  var cfg = {
    endpoint: attr('endpoint') || '/api/analytics/event',
    debounceMs: +attr('debounce') || 1000,
    maxQueue: +attr('max-queue') || 100,
    site: attr('site')
  };
  var off = tag && tag.hasAttribute('data-respect-privacy-signals') &&
    (nav.globalPrivacyControl || nav.doNotTrack == '1' || w.doNotTrack == '1');
  var UID = 'echopilot_uid', KEY = 'echopilot_queue', SID = 'echopilot_sid';
  // buf: unsent; retry: failed; fly: sent, unanswered.
  var buf = [], retry = [], fly = {}, drops = 0, attempt = 0, timer, retryTimer, loaded, db, sess = {}, seen = {};
  var uid = safe(function () { return localStorage.getItem(UID); });

  function safe(f, a, b, c) { try { return f(a, b, c); } catch (e) { } }
  // webdriver: a driven browser (a bot)
  function pack(e) {
    return JSON.stringify({ sent_at: new Date().toISOString(), site: cfg.site || void 0, webdriver: nav.webdriver || void 0, events: e });
  }
  function id() {
    var c = w.crypto;
    return c && c.randomUUID ? c.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  // Per tab; renewed after 30 idle minutes.
  function session() {
    var now = Date.now(), s = safe(function () { return JSON.parse(sessionStorage.getItem(SID)); }) || sess;
    if (!(now - s.t < 18e5)) s = { i: id() };
    s.t = now;
    sess = s;
    safe(function () { sessionStorage.setItem(SID, JSON.stringify(s)); });
    return s.i;
  }
  function flying() { var all = []; for (var k in fly) all = all.concat(fly[k]); return all; }

  // IndexedDB, else localStorage.
  function state() { return JSON.stringify({ b: buf, r: retry.concat(flying()), d: drops }); }
  function save() {
    if (!loaded) return;
    var s = state();
    if (db) safe(function () { db.transaction('q', 'readwrite').objectStore('q').put(s, KEY); });
    else safe(function () { localStorage.setItem(KEY, s); });
  }
  function restore(s) {
    var o = safe(JSON.parse, s || '{}') || {};
    buf = (o.b || []).concat(buf);
    retry = (o.r || []).concat(retry);
    drops += o.d || 0;
    loaded = 1;
    save();
    if (buf.length || retry.length) schedule(cfg.debounceMs);
  }
  function open() {
    var fallback = function () { db = null; restore(safe(function () { return localStorage.getItem(KEY); })); };
    var r = safe(function () { return w.indexedDB.open('echopilot', 1); });
    if (!r) return fallback();
    r.onupgradeneeded = function () { r.result.createObjectStore('q'); };
    r.onerror = fallback;
    r.onsuccess = function () {
      db = r.result;
      var g = safe(function () { return db.transaction('q').objectStore('q').get(KEY); });
      if (!g) return fallback();
      g.onsuccess = function () { restore(g.result); };
      g.onerror = fallback;
    };
  }

  function schedule(ms) { clearTimeout(timer); timer = setTimeout(flush, ms); }

  function track(type, feature, metadata, referrer, url) {
    if (off || !type) return;
    var e = { event_type: type, id: id(), ts: new Date().toISOString(), url: url || location.pathname, session_id: session() };
    if (feature != null) e.feature = String(feature);
    if (metadata && typeof metadata == 'object') e.metadata = metadata;
    if (uid) e.user_id = uid;
    if (referrer) e.referrer = referrer;
    buf.push(e);
    save();
    schedule(cfg.debounceMs);
  }

  function send(events) {
    var key = id();
    fly[key] = events;
    var done = function (ok, retryable, wait) {
      delete fly[key];
      if (ok) attempt = 0;
      else if (retryable) {
        retry = retry.concat(events);
        if (retry.length > cfg.maxQueue) { drops += retry.length - cfg.maxQueue; retry = retry.slice(-cfg.maxQueue); }
        backoff(wait);
      }
      save();
    };
    return fetch(cfg.endpoint, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, credentials: 'omit',
      body: pack(events)
    }).then(function (r) {
      var s = r.status;
      done(s < 300, s == 429 || s >= 500, +r.headers.get('Retry-After'));
    }, function () { done(0, 1); });
  }

  function backoff(seconds) {
    if (retryTimer) return;
    var ms = seconds > 0 ? seconds * 1000 : Math.min(60000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
    attempt++;
    retryTimer = setTimeout(function () { retryTimer = 0; flushRetry(); }, ms);
  }
  function flushRetry() {
    var batch = retry;
    retry = [];
    return chunks(batch);
  }
  function chunks(events) {
    var sent = [];
    for (var i = 0; i < events.length; i += 100) sent.push(send(events.slice(i, i + 100)));
    save();
    return Promise.all(sent);
  }

  function flush() {
    clearTimeout(timer);
    var batch = buf;
    buf = [];
    return chunks(retryTimer ? batch : retry.splice(0).concat(batch)).then(function () { });
  }

  // Beacons on leaving; events stay queued until a send is answered.
  function leave() {
    var all = retry.concat(flying(), buf), i = 0, n = 100, body;
    while (i < all.length) {
      body = pack(all.slice(i, i + n));
      if (body.length > 60000 && n > 1) { n = n >> 1; continue; }
      var blob = new Blob([body], { type: 'text/plain' });
      if (!(nav.sendBeacon && safe(function () { return nav.sendBeacon(cfg.endpoint, blob); })))
        safe(function () { fetch(cfg.endpoint, { method: 'POST', body: blob, keepalive: true, credentials: 'omit' }).catch(function () { }); });
      i += n;
    }
    save();
  }

  function expose(x, v) {
    var k = JSON.stringify([x, v]);
    if (x != null && !seen[k]) {
      seen[k] = 1;
      track('experiment_exposure', null, { experiment: String(x), variant: String(v) });
    }
  }

  // The first page view: referrer and campaign query.
  function pageView(r) {
    var p = location.pathname, q = location.search;
    track('page_view', p.split('/')[1] || 'home', null, r && r.split('/')[2] != location.host && r.slice(0, 2048),
      r != null && /[?&](utm_|ref=|source=)/.test(q) && p + q);
  }
  function wrap(name) {
    var orig = history[name];
    history[name] = function () {
      var before = location.pathname, r = orig.apply(this, arguments);
      if (location.pathname != before) safe(pageView);
      return r;
    };
  }

  var api = {
    track: function (t, f, m) { safe(track, t, f, m); },
    setUserId: function (v) {
      uid = v == null ? null : String(v);
      safe(function () { uid ? localStorage.setItem(UID, uid) : localStorage.removeItem(UID); });
    },
    expose: function (x, v) { safe(expose, x, v); },
    flush: function () { return safe(flush) || Promise.resolve(); },
    init: function (o) { for (var k in o) if (k in cfg && o[k] != null) cfg[k] = o[k]; },
    stats: function () { return { queued: buf.length, retry: retry.length, dropped: drops }; }
  };
  w.EchoPilot = api;

  safe(function () {
    open();
    wrap('pushState');
    wrap('replaceState');
    w.addEventListener('popstate', function () { safe(pageView); });
    d.addEventListener('click', function (ev) {
      var el = ev.target && ev.target.closest && ev.target.closest('[data-track]');
      if (el) api.track('action', el.getAttribute('data-track'), { action: el.getAttribute('data-action') || 'click' });
    }, true);
    w.addEventListener('pagehide', function () { safe(leave); });
    d.addEventListener('visibilitychange', function () { if (d.visibilityState == 'hidden') safe(leave); });
    pageView(d.referrer);
  });
})(window, document);
