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
function load({ clock = fakeClock(), storage = fakeStorage(), respond = () => ({ status: 200 }), pathname = '/dashboard/x', attrs = {}, nav = {} } = {}) {
  const sent = [];
  const beacons = [];
  const listeners = {};
  const location = { pathname };
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
  };
  window.window = window;
  window.document = document;
  window.localStorage = storage;
  const context = vm.createContext(window);
  vm.runInContext(source, context);
  return { api: context.EchoPilot, sent, beacons, listeners, window, document, storage, clock };
}

const flushMicrotasks = async () => { for (let i = 0; i < 10; i++) await Promise.resolve(); };

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
