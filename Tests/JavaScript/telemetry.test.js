// Unit tests of static/js/telemetry.js with node's test runner: a fake clock, fake fetch, fake storage.
// Runs on Node 18 (Debian 12) and later: the clock is written here rather than taken from mock.timers,
// whose API differs between 18.x and 20+ and is missing from early 18.x.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const source = fs.readFileSync(path.join(__dirname, '../../static/js/telemetry.js'), 'utf8');

// Virtual time for the client's setTimeout, clearTimeout and Date: nothing fires until tick(ms), which
// runs every timer due by then in due-time order (in insertion order for equal times), at its due time.
function fakeClock(start = Date.UTC(2025, 9, 21, 10, 0, 0)) {
  let now = start;
  let seq = 0;
  const timers = new Map();
  const clock = {
    setTimeout(fn, ms = 0, ...args) {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, Number(ms) || 0), seq: id, fn, args });
      return id;
    },
    clearTimeout(id) { timers.delete(id); },
    now: () => now,
    tick(ms) {
      const until = now + ms;
      for (;;) {
        let next = null;
        for (const [id, t] of timers) {
          if (t.at <= until && (!next || t.at < next[1].at || (t.at === next[1].at && t.seq < next[1].seq))) next = [id, t];
        }
        if (!next) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].fn(...next[1].args);
      }
      now = until;
    },
  };
  const RealDate = Date;
  clock.Date = class extends RealDate {
    constructor(...args) { if (args.length) super(...args); else super(now); }
    static now() { return now; }
  };
  return clock;
}

function fakeStorage(initial = {}) {
  const data = { ...initial };
  return {
    data,
    getItem: (k) => (k in data ? data[k] : null),
    setItem: (k, v) => { data[k] = String(v); },
    removeItem: (k) => { delete data[k]; },
  };
}

// Loads the client into a fresh window. `respond(body)` returns {status, headers} or throws (network error).
// `sessionStorage` is the tab's (a new tab has a fresh one); null makes reading it throw, as when storage is blocked.
function load({ clock = fakeClock(), storage = fakeStorage(), sessionStorage = fakeStorage(), respond = () => ({ status: 200 }), pathname = '/dashboard/x', search = '', host = 'app.example.com', referrer = '', attrs = {}, nav = {} } = {}) {
  const sent = [];
  const beacons = [];
  const listeners = {};
  const location = { pathname, search, host };
  const history = {
    pushState(s, t, url) { location.pathname = url; },
    replaceState(s, t, url) { location.pathname = url; },
  };
  const tag = {
    getAttribute: (n) => (n.startsWith('data-') && attrs[n.slice(5)] !== undefined && attrs[n.slice(5)] !== true ? String(attrs[n.slice(5)]) : null),
    hasAttribute: (n) => n.startsWith('data-') && attrs[n.slice(5)] !== undefined,
  };
  const window = {
    navigator: { sendBeacon: (url, blob) => { beacons.push(blob); return true; }, ...nav },
    localStorage: storage,
    location, history,
    crypto: { randomUUID: (() => { let n = 0; return () => `id-${++n}-${Math.random()}`; })() },
    addEventListener: (t, f) => { (listeners[t] = listeners[t] || []).push(f); },
    fetch: (url, init) => {
      const body = JSON.parse(init.body);
      sent.push(body);
      try {
        const r = respond(body);
        const headers = r.headers || {};
        return Promise.resolve({ status: r.status, headers: { get: (k) => headers[k] ?? null } });
      } catch (e) {
        return Promise.reject(e);
      }
    },
    Blob: class { constructor(parts, o) { this.text = parts.join(''); this.type = o.type; } },
    setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, Date: clock.Date,
    Promise, JSON, Math, String, Object, Array,
  };
  const document = {
    currentScript: tag,
    querySelector: () => tag,
    addEventListener: (t, f) => { (listeners['doc:' + t] = listeners['doc:' + t] || []).push(f); },
    visibilityState: 'visible',
    referrer,
  };
  window.window = window;
  window.document = document;
  window.localStorage = storage;
  if (sessionStorage) window.sessionStorage = sessionStorage;
  else Object.defineProperty(window, 'sessionStorage', { get() { throw new Error('SecurityError: storage is blocked'); } });
  const context = vm.createContext(window);
  vm.runInContext(source, context);
  return { api: context.EchoPilot, sent, beacons, listeners, window, document, storage, clock };
}

const flushMicrotasks = async () => { for (let i = 0; i < 10; i++) await Promise.resolve(); };
const MINUTE = 60 * 1000;
// Every event the page has sent so far, in order.
const sentEvents = (c) => c.sent.flatMap((b) => b.events);

test('a page view on load, with the first path segment as feature', async () => {
  const clock = fakeClock();
  const c = load({ clock, pathname: '/dashboard/x' });
  clock.tick(1000);
  await flushMicrotasks();
  assert.equal(c.sent.length, 1);
  const e = c.sent[0].events[0];
  assert.equal(e.event_type, 'page_view');
  assert.equal(e.feature, 'dashboard');
  assert.equal(e.url, '/dashboard/x');
  assert.ok(c.sent[0].sent_at);
  assert.ok(e.id);
});

test('home for the root path, and SPA navigation tracks page views', async () => {
  const clock = fakeClock();
  const c = load({ clock, pathname: '/' });
  c.window.history.pushState({}, '', '/reports/1');
  c.window.history.replaceState({}, '', '/settings');
  clock.tick(1000);
  await flushMicrotasks();
  assert.deepEqual(c.sent[0].events.map((e) => e.feature), ['home', 'reports', 'settings']);
});

test('debounce: events go out 1 s after the last one', async () => {
  const clock = fakeClock();
  const c = load({ clock });
  for (let i = 0; i < 5; i++) { c.api.track('action', 'x'); clock.tick(500); }
  await flushMicrotasks();
  assert.equal(c.sent.length, 0);
  clock.tick(500);
  await flushMicrotasks();
  assert.equal(c.sent.length, 1);
  assert.equal(c.sent[0].events.length, 6);
});

test('a burst of 250 leaves as three requests at once', async () => {
  const clock = fakeClock();
  const c = load({ clock });
  for (let i = 0; i < 249; i++) c.api.track('action', 'burst', { i });
  clock.tick(1000);
  await flushMicrotasks();
  assert.deepEqual(c.sent.map((b) => b.events.length), [100, 100, 50]);
});

test('5xx and network errors retry with backoff; Retry-After is honoured', async () => {
  const clock = fakeClock();
  let mode = 'down';
  const c = load({ clock, respond: () => { if (mode === 'down') throw new Error('offline'); if (mode === '503') return { status: 503, headers: { 'Retry-After': '5' } }; return { status: 200 }; } });
  c.api.track('action', 'a');
  clock.tick(1000);
  await flushMicrotasks();
  assert.equal(c.sent.length, 1);
  assert.equal(c.api.stats().retry, 2);
  mode = '503';
  clock.tick(1000); // first backoff is 0.5–1 s
  await flushMicrotasks();
  assert.equal(c.sent.length, 2);
  mode = 'up';
  clock.tick(4900);
  await flushMicrotasks();
  assert.equal(c.sent.length, 2, 'waits the 5 s of Retry-After');
  clock.tick(100);
  await flushMicrotasks();
  assert.equal(c.sent.length, 3);
  assert.equal(c.api.stats().retry, 0);
  assert.deepEqual(c.sent[2].events.map((e) => e.id), c.sent[0].events.map((e) => e.id), 'same ids, so the server drops repeats');
});

test('other 4xx drop the batch', async () => {
  const clock = fakeClock();
  const c = load({ clock, respond: () => ({ status: 400 }) });
  clock.tick(1000);
  await flushMicrotasks();
  assert.equal(c.api.stats().retry, 0);
  assert.equal(c.api.stats().queued, 0);
});

test('the retry queue holds at most maxQueue events, dropping the oldest and counting drops', async () => {
  const clock = fakeClock();
  const c = load({ clock, respond: () => { throw new Error('offline'); }, attrs: { 'max-queue': 30 } });
  for (let i = 0; i < 49; i++) c.api.track('action', 'f', { i });
  clock.tick(1000);
  await flushMicrotasks();
  assert.deepEqual(c.api.stats(), { queued: 0, retry: 30, dropped: 20 });
});

test('the queue survives a reload (localStorage fallback) and is sent by the next page', async () => {
  const clock = fakeClock();
  const storage = fakeStorage();
  const first = load({ clock, storage, respond: () => { throw new Error('offline'); } });
  first.api.track('action', 'offline_event');
  clock.tick(1000);
  await flushMicrotasks();
  const second = load({ clock, storage });
  clock.tick(1000);
  await flushMicrotasks();
  const features = second.sent.flatMap((b) => b.events.map((e) => e.feature));
  assert.ok(features.includes('offline_event'), features.join(','));
});

test('setUserId is persisted and null clears it', async () => {
  const clock = fakeClock();
  const storage = fakeStorage();
  const c = load({ clock, storage });
  c.api.setUserId('user_1');
  c.api.track('action', 'x');
  const again = load({ clock, storage });
  again.api.track('action', 'y');
  again.api.setUserId(null);
  again.api.track('action', 'z');
  clock.tick(1000);
  await flushMicrotasks();
  const events = again.sent.flatMap((b) => b.events).filter((e) => e.event_type === 'action');
  // 'x' of the first page was still queued there, so the second page sends it too (the server drops repeats by id).
  assert.deepEqual(events.map((e) => [e.feature, e.user_id]), [['x', 'user_1'], ['y', 'user_1'], ['z', undefined]]);
});

test('leaving the page sends beacons as text/plain and keeps the events queued', async () => {
  const clock = fakeClock();
  const c = load({ clock });
  c.api.track('action', 'last_click');
  c.listeners.pagehide.forEach((f) => f());
  assert.equal(c.beacons.length, 1);
  assert.equal(c.beacons[0].type, 'text/plain');
  assert.ok(JSON.parse(c.beacons[0].text).events.some((e) => e.feature === 'last_click'));
  assert.equal(c.api.stats().queued, 2);
});

test('large queues are split into beacons under 64 KiB', async () => {
  const clock = fakeClock();
  const c = load({ clock });
  for (let i = 0; i < 99; i++) c.api.track('action', 'big', { blob: 'x'.repeat(2000) });
  c.listeners.pagehide.forEach((f) => f());
  assert.ok(c.beacons.length > 1, `beacons: ${c.beacons.map((b) => b.text.length)}`);
  assert.ok(c.beacons.every((b) => b.text.length < 65536));
  assert.equal(c.beacons.reduce((n, b) => n + JSON.parse(b.text).events.length, 0), 100);
});

test('privacy signals: nothing is sent when asked to respect them', async () => {
  const clock = fakeClock();
  const c = load({ clock, attrs: { 'respect-privacy-signals': true }, nav: { globalPrivacyControl: true } });
  c.api.track('action', 'x');
  clock.tick(2000);
  await flushMicrotasks();
  assert.equal(c.sent.length, 0);
});

test('never throws into the host page', async () => {
  const clock = fakeClock();
  const c = load({ clock });
  c.window.fetch = () => { throw new Error('boom'); };
  assert.doesNotThrow(() => c.api.track('action', 'x', { a: 1 }));
  assert.doesNotThrow(() => c.api.track());
  await assert.doesNotReject(c.api.flush());
});

test('flush returns a Promise that resolves after the send', async () => {
  const c = load();
  c.api.track('action', 'now');
  await c.api.flush();
  assert.ok(c.sent.flatMap((b) => b.events).some((e) => e.feature === 'now'));
});

test('every event carries a session id, the same for the events of a tab, kept in sessionStorage', async () => {
  const clock = fakeClock();
  const c = load({ clock });
  c.api.track('action', 'a');
  c.window.history.pushState({}, '', '/reports');
  clock.tick(1000);
  await flushMicrotasks();
  const events = sentEvents(c);
  assert.equal(events.length, 3);
  const sid = events[0].session_id;
  assert.equal(typeof sid, 'string');
  assert.ok(/^id-\d+-/.test(sid), 'made by the event-id generator');
  assert.ok(events.every((e) => e.session_id === sid));
  assert.ok(events.every((e) => e.id !== sid));
  assert.deepEqual(JSON.parse(c.window.sessionStorage.getItem('echopilot_sid')), { i: sid, t: clock.now() - 1000 });
  assert.ok(!Object.keys(c.storage.data).some((k) => k.includes('sid')), 'nothing of the session in localStorage');
});

test('a session is renewed after 30 minutes without an event', async () => {
  const clock = fakeClock();
  const c = load({ clock });
  clock.tick(29 * MINUTE);
  c.api.track('action', 'at_29');
  clock.tick(29 * MINUTE);
  c.api.track('action', 'at_58'); // 58 min after the first event, 29 after the last
  clock.tick(30 * MINUTE - 1);
  c.api.track('action', 'just_under');
  clock.tick(30 * MINUTE);
  c.api.track('action', 'after_30');
  c.api.track('action', 'same_new');
  clock.tick(1000);
  await flushMicrotasks();
  const ids = sentEvents(c).map((e) => e.session_id);
  assert.equal(ids.length, 6);
  assert.deepEqual(ids.slice(0, 4), Array(4).fill(ids[0]));
  assert.notEqual(ids[4], ids[0]);
  assert.equal(ids[5], ids[4]);
});

test('a reload in the same tab keeps the session; a new tab or a reload after 30 minutes starts another', async () => {
  const clock = fakeClock();
  const tab = fakeStorage();
  const sessionOf = async (c) => { clock.tick(1000); await flushMicrotasks(); return sentEvents(c)[0].session_id; };
  const first = await sessionOf(load({ clock, sessionStorage: tab }));
  const reload = await sessionOf(load({ clock, sessionStorage: tab }));
  const otherTab = await sessionOf(load({ clock, sessionStorage: fakeStorage() }));
  clock.tick(30 * MINUTE);
  const later = await sessionOf(load({ clock, sessionStorage: tab }));
  assert.equal(reload, first);
  assert.notEqual(otherTab, first);
  assert.notEqual(later, first);
  assert.notEqual(later, otherTab);
});

test('without a usable sessionStorage the session is kept in memory', async () => {
  const throwing = () => { throw new Error('QuotaExceededError'); };
  for (const sessionStorage of [null, { getItem: throwing, setItem: throwing, removeItem: throwing }]) {
    const clock = fakeClock();
    const c = load({ clock, sessionStorage });
    c.api.track('action', 'a');
    clock.tick(10 * MINUTE);
    c.api.track('action', 'b');
    clock.tick(30 * MINUTE);
    c.api.track('action', 'c');
    clock.tick(1000);
    await flushMicrotasks();
    const ids = sentEvents(c).map((e) => e.session_id);
    assert.equal(ids.length, 4);
    assert.ok(ids[0]);
    assert.deepEqual(ids.slice(0, 3), [ids[0], ids[0], ids[0]]);
    assert.ok(ids[3] && ids[3] !== ids[0]);
  }
});

test('the page view of the load names a referrer of another host; SPA navigations and other events none', async () => {
  const clock = fakeClock();
  const referrer = 'https://news.example.org/item?id=1#top';
  const c = load({ clock, referrer, host: 'app.example.com' });
  c.api.track('action', 'a');
  c.window.history.pushState({}, '', '/reports');
  c.listeners.popstate.forEach((f) => f({}));
  clock.tick(1000);
  await flushMicrotasks();
  const events = sentEvents(c);
  assert.deepEqual(events.map((e) => e.event_type), ['page_view', 'action', 'page_view', 'page_view']);
  assert.equal(events[0].referrer, referrer, 'the full document.referrer');
  assert.ok(events.slice(1).every((e) => !('referrer' in e)));
});

test('the page view of the load keeps a campaign query in url (utm_, ref, source); others send the path only', async () => {
  for (const [search, url] of [['?utm_source=news&utm_campaign=spring', '/landing?utm_source=news&utm_campaign=spring'],
    ['?x=1&ref=producthunt', '/landing?x=1&ref=producthunt'], ['?source=hn', '/landing?source=hn'], ['?q=secret', '/landing'], ['', '/landing']]) {
    const clock = fakeClock();
    const c = load({ clock, pathname: '/landing', search });
    c.window.history.pushState({}, '', '/next');
    clock.tick(1000);
    await flushMicrotasks();
    const events = sentEvents(c);
    assert.equal(events[0].url, url, search);
    assert.equal(events[1].url, '/next', 'navigations send the path only');
  }
});

test('no referrer when it is empty or of the same host', async () => {
  const cases = [
    ['', 'app.example.com', false],
    ['https://app.example.com/login?next=/x', 'app.example.com', false],
    ['http://app.example.com/', 'app.example.com', false],
    ['https://app.example.com:8443/', 'app.example.com', true],
    ['https://www.example.com/', 'app.example.com', true],
    ['https://example.com/', 'localhost:8080', true],
  ];
  for (const [referrer, host, sent] of cases) {
    const clock = fakeClock();
    const c = load({ clock, referrer, host });
    clock.tick(1000);
    await flushMicrotasks();
    const e = sentEvents(c)[0];
    assert.equal(e.event_type, 'page_view');
    assert.equal('referrer' in e, sent, `${referrer} on ${host}`);
    if (sent) assert.equal(e.referrer, referrer);
  }
});

test('expose sends an experiment_exposure once per experiment and variant per page load', async () => {
  const clock = fakeClock();
  const tab = fakeStorage();
  const c = load({ clock, sessionStorage: tab });
  c.api.setUserId('user_1');
  c.api.expose('new_onboarding', 'b');
  c.api.expose('new_onboarding', 'b');
  c.api.expose('new_onboarding', 'control');
  c.api.expose('pricing', 2);
  assert.doesNotThrow(() => c.api.expose());
  assert.doesNotThrow(() => c.api.expose({ toString() { throw new Error('boom'); } }, 'a'));
  clock.tick(1000);
  await flushMicrotasks();
  const exposures = sentEvents(c).filter((e) => e.event_type === 'experiment_exposure');
  assert.deepEqual(exposures.map((e) => e.metadata), [
    { experiment: 'new_onboarding', variant: 'b' },
    { experiment: 'new_onboarding', variant: 'control' },
    { experiment: 'pricing', variant: '2' },
  ]);
  const sid = sentEvents(c)[0].session_id;
  for (const e of exposures) {
    assert.deepEqual(Object.keys(e).sort(), ['event_type', 'id', 'metadata', 'session_id', 'ts', 'url', 'user_id']);
    assert.equal(e.user_id, 'user_1');
    assert.equal(e.session_id, sid);
    assert.equal(e.url, '/dashboard/x');
  }
  // A new page load sends it again; the server keeps the user's first exposure.
  const next = load({ clock, sessionStorage: tab });
  next.api.expose('new_onboarding', 'b');
  clock.tick(1000);
  await flushMicrotasks();
  assert.deepEqual(sentEvents(next).filter((e) => e.event_type === 'experiment_exposure').map((e) => e.metadata),
    [{ experiment: 'new_onboarding', variant: 'b' }]);
});

test('a referrer longer than the server accepts is cut to 2048 characters, so the page view is not rejected', async () => {
  const clock = fakeClock();
  const referrer = 'https://search.example.org/?q=' + 'x'.repeat(3000);
  const c = load({ clock, referrer });
  clock.tick(1000);
  await flushMicrotasks();
  assert.equal(sentEvents(c)[0].referrer, referrer.slice(0, 2048));
});

test('data-site names the site of every batch, and a driven browser says so', async () => {
  const clock = fakeClock();
  const c = load({ clock, attrs: { site: 'blog' }, nav: { webdriver: true } });
  clock.tick(1000);
  await flushMicrotasks();
  assert.equal(c.sent[0].site, 'blog');
  assert.equal(c.sent[0].webdriver, true);
  const plain = load({ clock: fakeClock() });
  plain.clock.tick(1000);
  await flushMicrotasks();
  assert.equal('site' in plain.sent[0], false);
  assert.equal('webdriver' in plain.sent[0], false);
});
