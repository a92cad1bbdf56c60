/* The telemetryd dashboard (docs/dashboard.md): plain script, charts drawn as inline SVG, every number from the
   keyed API. The dash key stays in this tab's sessionStorage; a share token comes in the URL (?share=). */
(function () {
  'use strict';
  var d = document, $ = function (id) { return d.getElementById(id); };
  var q = new URLSearchParams(location.search);
  var S = {
    site: q.get('site') || '', win: q.get('days') || '30', from: q.get('from') || '', to: q.get('to') || '',
    filters: q.getAll('filter'), tab: q.get('tab') || 'overview', share: q.get('share') || '', embed: q.get('embed') || '',
    metric: q.get('metric') || 'users', prop: q.get('prop') || 'plan', steps: q.get('steps') || '', exp: q.get('experiment') || ''
  };
  var key = sessionStorage.getItem('dash_key') || '';
  var sites = [], generation = 0, liveTimer = 0, healthTimer = 0, healthSample = null;
  var NAMES = {
    page: 'Page', entry_page: 'Entry page', exit_page: 'Exit page', referrer: 'Referrer', channel: 'Channel', utm_source: 'Source',
    utm_medium: 'Medium', utm_campaign: 'Campaign', utm_term: 'Term', utm_content: 'Content', country: 'Country', browser: 'Browser',
    browser_version: 'Browser version', os: 'System', os_version: 'System version', device: 'Device', platform: 'Platform',
    feature: 'Feature', event_type: 'Event type', client_version: 'Client version'
  };
  var PANELS = [
    { id: 'pages', title: 'Pages', dims: ['page', 'entry_page', 'exit_page'] },
    { id: 'sources', title: 'Sources', dims: ['referrer', 'channel'] },
    { id: 'campaigns', title: 'Campaigns', dims: ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] },
    { id: 'countries', title: 'Countries', dims: ['country'] },
    { id: 'browsers', title: 'Browsers', dims: ['browser', 'browser_version'] },
    { id: 'systems', title: 'Operating systems', dims: ['os', 'os_version'] },
    { id: 'devices', title: 'Devices', dims: ['device', 'platform', 'client_version'] },
    { id: 'featurelist', title: 'Features', dims: ['feature'] },
    { id: 'types', title: 'Event types', dims: ['event_type'] },
    { id: 'props', title: 'Custom properties', prop: true }
  ];

  // ---- formatting ----
  function num(n) { return n == null ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: 2 }); }
  function pct(x, places) { return x == null ? '–' : (x * 100).toFixed(places == null ? 1 : places) + '%'; }
  function secs(s) { s = Math.round(s || 0); return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s'; }
  function change(now, before) { return before ? (now - before) / before : null; }
  function delta(c, label) {
    if (c == null) return '<span class="c muted">' + esc(label || 'no earlier data') + '</span>';
    var cls = c > 0 ? 'up' : c < 0 ? 'down' : 'muted';
    return '<span class="c ' + cls + '">' + (c > 0 ? '▲ +' : c < 0 ? '▼ −' : '') + Math.abs(c * 100).toFixed(1) + '%</span>';
  }
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }
  function flag(code) {
    if (!/^[A-Z]{2}$/.test(code || '')) return '';
    return String.fromCodePoint(0x1F1E6 + code.charCodeAt(0) - 65, 0x1F1E6 + code.charCodeAt(1) - 65) + ' ';
  }
  function label(dim, v) {
    if (v == null) return dim === 'referrer' ? 'Direct / none' : '(none)';
    return dim === 'country' ? flag(v) + v : v;
  }
  function iso(date) { return date.toISOString().slice(0, 10); }
  function addDays(s, n) { var t = new Date(s + 'T00:00:00Z'); t.setUTCDate(t.getUTCDate() + n); return iso(t); }

  // ---- the window, the URL and the API ----
  function range() {
    var today = iso(new Date());
    if (S.win === 'custom' && S.from && S.to && S.from <= S.to) {
      var days = Math.round((Date.parse(S.to) - Date.parse(S.from)) / 864e5) + 1;
      return { days: Math.min(365, days), end: S.to > today ? today : S.to };
    }
    return { days: S.win === 'custom' ? 30 : +S.win || 30, end: today };
  }
  function saveURL() {
    var p = new URLSearchParams();
    if (S.share) p.set('share', S.share);
    if (S.site) p.set('site', S.site);
    if (S.win !== '30') p.set('days', S.win);
    if (S.win === 'custom') { p.set('from', S.from); p.set('to', S.to); }
    S.filters.forEach(function (f) { p.append('filter', f); });
    if (S.tab !== 'overview') p.set('tab', S.tab);
    if (S.metric !== 'users') p.set('metric', S.metric);
    if (S.embed) p.set('embed', S.embed);
    history.replaceState(null, '', location.pathname + (p.toString() ? '?' + p : ''));
  }
  function Failure(status, message) { this.status = status; this.message = message; }
  function api(path, params, options) {
    var p = new URLSearchParams();
    Object.keys(params || {}).forEach(function (k) { if (params[k] != null) p.set(k, params[k]); });
    if (S.site) p.set('site', S.site);
    if (!options || options.filters !== false) S.filters.forEach(function (f) { p.append('filter', f); });
    var h = S.share ? { 'X-Share-Token': S.share } : { 'X-Dash-Key': key };
    return fetch('/api/analytics/' + path + '?' + p, { method: (options && options.method) || 'GET', headers: h }).then(function (r) {
      var type = r.headers.get('Content-Type') || '';
      if (type.indexOf('json') < 0) return r.ok ? r.text() : Promise.reject(new Failure(r.status, 'HTTP ' + r.status));
      return r.json().then(function (j) { if (!r.ok || !j.ok) throw new Failure(r.status, j.error || 'HTTP ' + r.status); return j; });
    }, function () { throw new Failure(0, 'unreachable'); });
  }

  // ---- states ----
  function banner(html) { $('banner').innerHTML = html ? '<div class="state">' + html + '</div>' : ''; }
  function failed(e) {
    if (e.status === 0) {
      banner('<h2>The daemon does not answer</h2><p>Nothing answers at ' + esc(location.origin) + '. Is telemetryd running? ' +
        '<code>systemctl status telemetryd</code> tells.</p><button type="button" data-retry>Retry</button>');
      return true;
    }
    if (e.status === 503 && /no dash key/.test(e.message)) {
      $('views').hidden = true;
      banner('<h2>No dash key is configured</h2><p>This daemon answers no analytics until it has a key. Start it with ' +
        '<code>--dash-key KEY</code> (or <code>TELEMETRY_DASH_KEYS</code>, or <code>--dash-key-file</code> for a systemd credential) and reload this page.</p>');
      return true;
    }
    if (e.status === 401) {
      $('views').hidden = true;
      if (S.share) { banner('<h2>This share link does not open</h2><p>It was revoked or mistyped. Ask for a new link.</p>'); return true; }
      sessionStorage.removeItem('dash_key');
      key = '';
      showLogin('That key was not accepted.');
      return true;
    }
    return false;
  }
  function showLogin(message) {
    $('login').hidden = false;
    $('views').hidden = true;
    $('login-error').textContent = message || '';
    $('key').focus();
  }

  // ---- panels ----
  function body(id) { return $(id).querySelector('[data-body]'); }
  function load(id, promise, render) {
    var el = body(id), mine = generation;
    el.setAttribute('aria-busy', 'true');
    return promise.then(function (data) {
      if (mine !== generation) return;
      el.removeAttribute('aria-busy');
      render(el, data);
    }, function (e) {
      if (mine !== generation || failed(e)) return;
      el.removeAttribute('aria-busy');
      el.innerHTML = '<p class="error">Could not load: ' + esc(e.message) + '</p><button type="button" data-retry>Retry</button>';
    });
  }
  function table(head, rows, caption) {
    return '<table>' + (caption ? '<caption class="sr">' + esc(caption) + '</caption>' : '') + '<thead><tr>' + head.map(function (h, i) {
      return '<th scope="col"' + (i ? ' class="n"' : '') + '>' + esc(h) + '</th>';
    }).join('') + '</tr></thead><tbody>' + rows.join('') + '</tbody></table>';
  }

  // Line chart: series of {name, values, color, dash}; labels per x; a table twin for screen readers.
  function lineChart(labels, series, caption, width) {
    var W = Math.max(300, width || 640), H = 200, P = 34, max = 1;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v > max) max = v; }); });
    var n = Math.max(labels.length - 1, 1);
    function x(i) { return P + (W - P - 6) * i / n; }
    function y(v) { return H - 18 - (H - 30) * v / max; }
    var svg = '<svg viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="' + esc(caption) + '">';
    [0, .5, 1].forEach(function (f) {
      svg += '<line class="grid-line" x1="' + P + '" x2="' + W + '" y1="' + y(max * f) + '" y2="' + y(max * f) + '"/>' +
        '<text x="2" y="' + (y(max * f) + 4) + '">' + esc(compact(max * f)) + '</text>';
    });
    [0, Math.floor(n / 2), n].forEach(function (i) {
      if (labels[i] != null) svg += '<text x="' + Math.min(x(i), W - 70) + '" y="' + (H - 3) + '">' + esc(labels[i]) + '</text>';
    });
    series.forEach(function (s) {
      var pts = s.values.map(function (v, i) { return v == null ? null : x(i).toFixed(1) + ',' + y(v).toFixed(1); }).filter(Boolean);
      svg += '<polyline fill="none" stroke="' + s.color + '" stroke-width="' + (s.width || 2) + '"' + (s.dash ? ' stroke-dasharray="' + s.dash + '"' : '') +
        ' points="' + pts.join(' ') + '"/>';
    });
    svg += '</svg><div class="legend">' + series.map(function (s) {
      return '<span><i style="background:' + s.color + '"></i>' + esc(s.name) + '</span>';
    }).join('') + '</div>';
    var rows = labels.map(function (l, i) {
      return '<tr><td>' + esc(l) + '</td>' + series.map(function (s) { return '<td class="n">' + num(s.values[i]) + '</td>'; }).join('') + '</tr>';
    });
    return '<figure>' + svg + '<details><summary class="muted">Table</summary>' + table(['Date'].concat(series.map(function (s) { return s.name; })), rows, caption) + '</details></figure>';
  }
  function barChart(values, labels, caption, width) {
    var W = Math.max(300, width || 640), H = 150, max = Math.max.apply(null, values.concat([1])), w = W / values.length;
    var svg = '<svg viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="' + esc(caption) + '">' + values.map(function (v, i) {
      var h = (H - 20) * v / max;
      return '<rect x="' + (i * w + 1).toFixed(1) + '" y="' + (H - 16 - h).toFixed(1) + '" width="' + Math.max(1, w - 2).toFixed(1) +
        '" height="' + h.toFixed(1) + '" rx="2" fill="var(--accent)"><title>' + esc(labels[i] + ': ' + v) + '</title></rect>';
    }).join('') + '<text x="0" y="' + (H - 2) + '">' + esc(labels[0]) + '</text><text x="' + (W - 60) + '" y="' + (H - 2) + '">' + esc(labels[labels.length - 1]) + '</text></svg>';
    return '<figure>' + svg + '<details><summary class="muted">Table</summary>' + table(['Time', 'Events'], values.map(function (v, i) {
      return '<tr><td>' + esc(labels[i]) + '</td><td class="n">' + num(v) + '</td></tr>';
    }), caption) + '</details></figure>';
  }
  function compact(v) { return v >= 1e6 ? (v / 1e6).toFixed(1) + 'M' : v >= 1e4 ? (v / 1e3).toFixed(0) + 'k' : String(Math.round(v)); }

  // ---- overview ----
  function tile(title, value, c, extra) {
    return '<div class="tile"><h3>' + esc(title) + '</h3><div class="v">' + value + '</div>' + (c || '') + (extra ? ' <span class="c muted">' + extra + '</span>' : '') + '</div>';
  }
  function overview() {
    var r = range(), prevEnd = addDays(r.end, -r.days), p = { days: r.days, end: r.end };
    var types = api('breakdown', { by: 'event_type', days: r.days, end: r.end, compare: 'previous', top: 1000 });
    var tiles = Promise.all([
      api('usage', p), api('usage', { days: r.days, end: prevEnd }), api('visits', p), api('visits', { days: r.days, end: prevEnd }),
      types, api('breakdown', { by: 'event_type', days: r.days, end: prevEnd, top: 1 }), api('daily', { days: 8, end: iso(new Date()) })
    ]);
    var mine = generation;
    tiles.then(function (a) {
      if (mine !== generation) return;
      var u = a[0], pu = a[1], v = a[2].total, pv = a[3].total, t = a[4], pt = a[5], today = a[6].days[7], lastWeek = a[6].days[0];
      var pageViews = (t.values.filter(function (x) { return x.value === 'page_view'; })[0]) || { events: 0, previous: { events: 0 } };
      var empty = u.total_events === 0 && u.mau === 0 && !S.filters.length;
      $('empty').hidden = !empty;
      if (empty) $('empty').innerHTML = '<h2>No events yet</h2><p>Paste this into the pages of the site' + (S.site ? ' <b>' + esc(S.site) + '</b>' : '') +
        ', before <code>&lt;/body&gt;</code>; events show here within seconds.</p><pre>' + esc('<script src="' + location.origin + '/static/js/telemetry.js" data-endpoint="' +
        location.origin + '/api/analytics/event"' + (S.site && S.site !== 'default' ? ' data-site="' + S.site + '"' : '') + ' defer></script>') + '</pre>';
      $('tiles').innerHTML = [
        tile('Users', num(t.total.users), delta(change(t.total.users, pt.total.users)), 'in the window'),
        tile('Daily active users', num(u.dau), delta(change(u.dau, pu.dau)), 'WAU ' + num(u.wau) + ' · MAU ' + num(u.mau)),
        tile('Stickiness', u.mau ? pct(u.dau / u.mau) : '–', delta(u.mau && pu.mau ? change(u.dau / u.mau, pu.dau / pu.mau) : null), 'DAU ÷ MAU'),
        tile('Visits', num(v.visits), delta(change(v.visits, pv.visits))),
        tile('Page views', num(pageViews.events), delta(change(pageViews.events, (pageViews.previous || {}).events))),
        tile('Bounce rate', pct(v.bounce_rate), delta(pv.bounce_rate ? change(v.bounce_rate, pv.bounce_rate) : null)),
        tile('Visit duration', secs(v.duration_median_s), delta(change(v.duration_median_s, pv.duration_median_s)), 'median'),
        tile('Events today', num(today.events), delta(change(today.events, lastWeek.events)), 'vs a week ago')
      ].join('');
      if (performance.mark && !performance.getEntriesByName('tiles').length) performance.mark('tiles');
      $('tiles').querySelectorAll('.tile').forEach(function (el, i) { el.id = 'tile-' + ['users', 'dau', 'stickiness', 'visits', 'pageviews', 'bounce', 'duration', 'today'][i]; });
    }, function (e) { if (mine === generation && !failed(e)) $('tiles').innerHTML = '<p class="error">Could not load the figures: ' + esc(e.message) + '</p>'; });
    chart(r);
    PANELS.forEach(function (panel) { breakdown(panel, r); });
    load('p-when', api('hours', p), function (el, h) { heat(el, h.hours); });
    return tiles;
  }
  function chart(r) {
    var head = $('p-chart').querySelector('h2');
    if (!head.querySelector('select')) {
      head.insertAdjacentHTML('beforeend', '<select id="metric" aria-label="Metric"><option value="users">Users</option><option value="events">Events</option></select>');
      $('metric').addEventListener('change', function () { S.metric = this.value; saveURL(); chart(range()); });
    }
    $('metric').value = S.metric;
    if (S.win === '1') {
      // The last 24 hours, by hour, from the weekday × hour grid of today and yesterday.
      return load('p-chart', api('hours', { days: 2 }), function (el, h) {
        var now = new Date(), wd = (now.getUTCDay() + 6) % 7, hour = now.getUTCHours(), values = [], labels = [];
        for (var i = 23; i >= 0; i--) {
          var at = hour - i, day = at < 0 ? (wd + 6) % 7 : wd;
          values.push(h.hours[day][(at + 24) % 24]);
          labels.push(String((at + 24) % 24).padStart(2, '0') + ':00');
        }
        el.innerHTML = barChart(values, labels, 'Events per hour, last 24 hours', el.clientWidth);
      });
    }
    var metric = S.metric;
    return load('p-chart', Promise.all([api('daily', { days: Math.min(365, r.days * 2), end: r.end }), api('trends', { days: r.days, end: r.end })]), function (el, a) {
      var days = a[0].days, cur = days.slice(-r.days), prev = days.slice(0, days.length - r.days);
      while (prev.length < cur.length) prev.unshift(null);
      var avg = a[1].days.map(function (t) { return metric === 'users' ? t.users_avg28 : t.events_avg28; });
      el.innerHTML = lineChart(cur.map(function (x) { return x.date; }), [
        { name: metric === 'users' ? 'Users' : 'Events', values: cur.map(function (x) { return x[metric]; }), color: 'var(--accent)', width: 2.5 },
        { name: '28-day average', values: avg, color: 'var(--muted)', dash: '5 4' },
        { name: 'Previous period', values: prev.map(function (x) { return x ? x[metric] : null; }), color: 'var(--faint)', width: 1.5 }
      ], (metric === 'users' ? 'Users' : 'Events') + ' per day', el.clientWidth);
    });
  }
  function breakdown(panel, r) {
    var el = $('p-' + panel.id);
    if (!el) {
      $('breakdowns').insertAdjacentHTML('beforeend', '<div class="panel" id="p-' + panel.id + '"><h2>' + esc(panel.title) + '<span class="grow"></span>' +
        (panel.prop ? '<input id="prop-key" aria-label="Property key" size="10" value="' + esc(S.prop) + '">' :
          panel.dims.length > 1 ? '<select id="dim-' + panel.id + '" aria-label="Breakdown of ' + esc(panel.title) + '">' +
            panel.dims.map(function (x) { return '<option value="' + x + '">' + esc(NAMES[x]) + '</option>'; }).join('') + '</select>' : '') +
        '</h2><div data-body></div></div>');
      el = $('p-' + panel.id);
      var control = el.querySelector('select, input');
      if (control) control.addEventListener('change', function () { if (panel.prop) S.prop = this.value.trim() || 'plan'; breakdown(panel, range()); });
    }
    var dim = panel.prop ? 'prop:' + S.prop : el.querySelector('select') ? el.querySelector('select').value : panel.dims[0];
    return load('p-' + panel.id, api('breakdown', { by: dim, days: r.days, end: r.end, top: 10, compare: 'previous' }), function (b, x) {
      if (!x.values.length) { b.innerHTML = '<p class="muted">No events with this in the window.</p>'; return; }
      var rows = x.values.map(function (v) {
        var filterable = v.value !== '(other)';
        var text = esc(v.value === '(other)' ? 'Other values' : label(dim, v.value));
        return '<tr><td class="v"><span class="bar" style="width:' + (100 * Math.min(1, v.share)).toFixed(1) + '%"></span>' +
          (filterable ? '<button type="button" data-filter="' + esc(dim + ':' + (v.value == null ? '(none)' : v.value)) + '" title="Filter by this">' + text + '</button>' : '<span class="t">' + text + '</span>') +
          '</td><td class="n">' + num(v.users) + '</td><td class="n">' + num(v.events) + '</td><td class="n">' + delta(v.change, 'new') + '</td></tr>';
      });
      b.innerHTML = table([NAMES[dim] || dim, 'Users', 'Events', 'Change'], rows, panel.title + ' by users');
    });
  }
  function heat(el, grid) {
    var max = 1, days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
    grid.forEach(function (row) { row.forEach(function (v) { if (v > max) max = v; }); });
    el.innerHTML = '<div style="overflow:auto"><table class="heat"><caption class="sr">Events by weekday and hour, UTC</caption><thead><tr><th scope="col">Day</th>' +
      grid[0].map(function (_, h) { return '<th scope="col">' + h + '</th>'; }).join('') + '</tr></thead><tbody>' + grid.map(function (row, i) {
        return '<tr><th scope="row">' + days[i] + '</th>' + row.map(function (v, h) {
          var a = v / max;
          return '<td style="background:rgba(47,84,209,' + (a * 0.4 + (v ? .05 : 0)).toFixed(2) + ')" title="' + days[i] + ' ' + h + ':00 — ' + v + ' events">' +
            (v ? compact(v) : '') + '</td>';
        }).join('') + '</tr>';
      }).join('') + '</tbody></table></div>';
  }

  // ---- product ----
  function product() {
    var r = range();
    load('p-features', api('breakdown', { by: 'feature', days: 7, compare: 'previous', top: 15 }), function (el, x) {
      el.innerHTML = x.values.length ? table(['Feature', 'Users', 'Events', 'Week over week'], x.values.map(function (v) {
        return '<tr><td>' + esc(label('feature', v.value)) + '</td><td class="n">' + num(v.users) + '</td><td class="n">' + num(v.events) + '</td><td class="n">' + delta(v.change, 'new') + '</td></tr>';
      }), 'Features, last 7 days') : '<p class="muted">No features in the last 7 days.</p>';
    });
    funnelBuilder(r);
    load('p-retention', api('retention', { weeks: 8, end: r.end }), function (el, x) {
      var width = x.cohorts.length;
      el.innerHTML = '<div style="overflow:auto">' + table(['Cohort', 'Users'].concat(Array.apply(null, Array(width)).map(function (_, i) { return 'Week ' + i; })), x.cohorts.map(function (c) {
        return '<tr><th scope="row">' + esc(c.week) + '</th><td class="n">' + num(c.users) + '</td>' + c.active.map(function (a) {
          var f = c.users ? a / c.users : 0;
          return '<td class="n" style="background:rgba(47,84,209,' + (f * .45).toFixed(2) + ')">' + pct(f, 0) + '</td>';
        }).join('') + '</tr>';
      }), 'Share of each weekly cohort active in the weeks after') + '</div>';
    });
    experiments(r);
  }
  function funnelBuilder(r) {
    var el = body('p-funnel');
    if (!el.querySelector('form')) {
      el.innerHTML = '<form class="inline" id="funnel-form"><div class="steps" id="steps"></div>' +
        '<label for="within">Within</label><select id="within"><option value="3600">1 hour</option><option value="86400" selected>1 day</option><option value="604800">7 days</option><option value="2592000">30 days</option></select>' +
        '<button type="button" id="add-step">Add step</button><button>Show</button></form><datalist id="step-options"></datalist><div id="funnel-out" aria-live="polite"></div>';
      var steps = (S.steps || 'page_view,signup,conversion').split(',');
      steps.forEach(addStep);
      $('add-step').addEventListener('click', function () { if ($('steps').children.length < 8) addStep(''); });
      $('funnel-form').addEventListener('submit', function (e) { e.preventDefault(); runFunnel(); });
    }
    Promise.all([api('breakdown', { by: 'event_type', days: r.days, end: r.end, top: 100 }), api('breakdown', { by: 'feature', days: r.days, end: r.end, top: 100 })]).then(function (a) {
      var types = a[0].values.map(function (v) { return v.value; }).filter(function (v) { return v && v !== '(other)'; });
      var features = a[1].values.map(function (v) { return v.value; }).filter(function (v) { return v && v !== '(other)'; });
      $('step-options').innerHTML = types.concat(features.map(function (f) { return 'action:' + f; })).map(function (o) { return '<option value="' + esc(o) + '">'; }).join('');
      runFunnel();
    }, function () { runFunnel(); });
  }
  function addStep(value) {
    var n = $('steps').children.length + 1, id = 'step-' + n + '-' + Math.random().toString(36).slice(2, 6);
    $('steps').insertAdjacentHTML('beforeend', '<span><label for="' + id + '">Step ' + n + '</label> <input id="' + id + '" list="step-options" value="' + esc(value) + '" placeholder="event_type or event_type:feature"></span>');
  }
  function runFunnel() {
    var r = range(), steps = Array.prototype.map.call($('steps').querySelectorAll('input'), function (i) { return i.value.trim(); }).filter(Boolean);
    var out = $('funnel-out');
    if (steps.length < 2) { out.innerHTML = '<p class="muted">Pick at least two steps.</p>'; return; }
    S.steps = steps.join(',');
    api('funnel', { steps: S.steps, within: $('within').value, days: Math.min(r.days, 90), end: r.end }).then(function (x) {
      var first = x.steps[0].users || 0;
      out.innerHTML = table(['Step', 'Users', 'Conversion', 'Drop-off'], x.steps.map(function (s, i) {
        var prev = i ? x.steps[i - 1].users : s.users, drop = prev ? 1 - s.users / prev : 0;
        return '<tr><td class="v"><span class="bar" style="width:' + (first ? 100 * s.users / first : 0).toFixed(1) + '%"></span><span class="t">' + esc(s.step) +
          '</span></td><td class="n">' + num(s.users) + '</td><td class="n">' + pct(s.conversion) + '</td><td class="n">' + (i ? pct(drop) : '–') + '</td></tr>';
      }), 'Funnel');
    }, function (e) { if (!failed(e)) out.innerHTML = '<p class="error">' + esc(e.message) + '</p>'; });
  }
  function experiments(r) {
    var el = body('p-experiment');
    if (!el.querySelector('form')) {
      el.innerHTML = '<form class="inline" id="exp-form"><label for="exp-name">Experiment</label><input id="exp-name" list="exp-options" value="' + esc(S.exp) + '">' +
        '<datalist id="exp-options"></datalist><label for="exp-goal">Goal</label><input id="exp-goal" value="conversion" size="14"><button>Show</button></form><div id="exp-out" aria-live="polite"></div>';
      $('exp-form').addEventListener('submit', function (e) { e.preventDefault(); runExperiment(); });
    }
    api('breakdown', { by: 'prop:experiment', days: r.days, end: r.end, top: 20 }).then(function (x) {
      var names = x.values.map(function (v) { return v.value; }).filter(function (v) { return v && v !== '(other)'; });
      $('exp-options').innerHTML = names.map(function (n) { return '<option value="' + esc(n) + '">'; }).join('');
      if (!$('exp-name').value && names.length) $('exp-name').value = names[0];
      runExperiment();
    }, function () { runExperiment(); });
  }
  function runExperiment() {
    var r = range(), name = $('exp-name').value.trim(), out = $('exp-out');
    if (!name) { out.innerHTML = '<p class="muted">No experiment exposures yet: send <code>EchoPilot.expose(name, variant)</code> from telemetry.js.</p>'; return; }
    S.exp = name;
    api('experiments/' + encodeURIComponent(name), { goal: $('exp-goal').value.trim() || 'conversion', days: Math.min(r.days, 90), end: r.end }).then(function (x) {
      var control = x.variants.filter(function (v) { return v.variant === 'control'; })[0] || x.variants[0];
      var lo = -0.1, hi = 0.1;
      x.variants.forEach(function (v) { if (v.ci95) { lo = Math.min(lo, v.ci95[0]); hi = Math.max(hi, v.ci95[1]); } });
      var span = Math.max(Math.abs(lo), Math.abs(hi));
      var verdicts = [];
      var rows = x.variants.map(function (v) {
        var bar = '';
        if (v.ci95) {
          var a = 50 + 50 * v.ci95[0] / span, b = 50 + 50 * v.ci95[1] / span;
          bar = '<div class="ci" role="img" aria-label="95% interval of the uplift: ' + pct(v.ci95[0]) + ' to ' + pct(v.ci95[1]) + '"><i style="left:' + a.toFixed(1) + '%;width:' + Math.max(1, b - a).toFixed(1) + '%"></i><b></b></div>';
          verdicts.push(v.p_value < 0.05 ? (v.uplift > 0 ? v.variant + ' beats ' + control.variant : v.variant + ' loses to ' + control.variant) + ', p = ' + v.p_value.toFixed(3)
            : v.variant + ' vs ' + control.variant + ': not significant yet (p = ' + v.p_value.toFixed(2) + ')');
        }
        return '<tr><td>' + esc(v.variant) + '</td><td class="n">' + num(v.users) + '</td><td class="n">' + num(v.converted) + '</td><td class="n">' + pct(v.rate) +
          '</td><td class="n">' + (v.uplift == null ? '–' : (v.uplift >= 0 ? '+' : '') + pct(v.uplift)) + '</td><td>' + bar + '</td></tr>';
      });
      out.innerHTML = x.variants.length ? '<p id="verdict"><b>' + esc(verdicts.join('; ') || 'Only one variant so far.') + '</b></p>' +
        table(['Variant', 'Users', 'Converted', 'Rate', 'Uplift', '95% interval'], rows, 'Experiment ' + name) : '<p class="muted">No exposures of ' + esc(name) + ' in the window.</p>';
    }, function (e) { if (!failed(e)) out.innerHTML = '<p class="error">' + esc(e.message) + '</p>'; });
  }

  // ---- live and health ----
  function live() {
    clearTimeout(liveTimer);
    if (S.tab !== 'live' && S.embed !== 'live') return;
    api('live', {}, { filters: false }).then(function (x) {
      $('live-tiles').innerHTML = tile('Events, last 5 minutes', num(x.events_5m)) + tile('Users, last 5 minutes', num(x.users_5m)) +
        tile('Updated', esc(x.ts.slice(11, 19)) + ' UTC');
      var now = Date.parse(x.ts), labels = x.per_minute.map(function (_, i) { return new Date(now - (29 - i) * 6e4).toISOString().slice(11, 16); });
      body('p-live').innerHTML = barChart(x.per_minute, labels, 'Events per minute, last 30 minutes', body('p-live').clientWidth);
    }, function (e) { failed(e); });
    liveTimer = setTimeout(live, 10000);
  }
  function metric(text, name) {
    var sum = 0, found = false;
    text.split('\n').forEach(function (line) {
      if (line.indexOf(name) === 0 && /^[a-z_]+(\{[^}]*\})? /.test(line) && line.split(/[ {]/)[0] === name) { sum += parseFloat(line.split(' ').pop()); found = true; }
    });
    return found ? sum : null;
  }
  function health() {
    Promise.all([fetch('/health').then(function (r) { return r.json(); }), fetch('/metrics').then(function (r) { return r.text(); }),
      api('rollups', { days: 3 }, { filters: false }).catch(function () { return { rollups: [] }; })]).then(function (a) {
      var h = a[0], m = a[1], rollup = a[2].rollups[a[2].rollups.length - 1], now = Date.now(), accepted = metric(m, 'telemetry_events_accepted_total');
      var rate = healthSample && accepted != null ? (accepted - healthSample.accepted) / ((now - healthSample.at) / 1000) : null;
      healthSample = { at: now, accepted: accepted };
      $('health-tiles').innerHTML = tile('Daemon', h.ok ? 'Healthy' : 'Failing', '<span class="c muted">version ' + esc(h.version) + ', up ' + secs(h.uptime_s) + '</span>') +
        tile('Ingest rate', rate == null ? '…' : num(Math.max(0, rate)) + '/s', '<span class="c muted">' + num(accepted) + ' accepted since start</span>') +
        tile('Rejected', num(metric(m, 'telemetry_events_rejected_total')), '<span class="c muted">since start</span>') +
        tile('Bots', num(metric(m, 'telemetry_events_bot_total')), '<span class="c muted">since start, dropped or kept as device=bot</span>') +
        tile('Last rollup', rollup ? esc(rollup.end) : 'none yet', rollup ? '<span class="c muted">at ' + esc(rollup.ts.slice(0, 16).replace('T', ' ')) + ' UTC, took ' + num(rollup.duration_ms) + ' ms</span>' : '');
      clearTimeout(healthTimer);
      if (S.tab === 'health') healthTimer = setTimeout(function () { if (S.tab === 'health') health(); }, 10000);
    }, function () { failed(new Failure(0, 'unreachable')); });
    if (S.share) { $('p-alerts').hidden = true; $('p-privacy').hidden = true; return; }
    load('p-alerts', api('alerts', {}, { filters: false }), function (el, x) {
      el.innerHTML = x.alerts.length ? table(['Alert', 'Since', 'Value'], x.alerts.map(function (a) {
        return '<tr><td><b>' + esc(a.kind) + '</b><br><span class="muted">' + esc(a.message) + '</span></td><td class="n">' + esc(a.since.replace('T', ' ')) + '</td><td class="n">' + num(a.value) + '</td></tr>';
      }), 'Active alerts') : '<p>No alert is active.</p>';
    });
    var el = body('p-privacy');
    if (!el.querySelector('form')) {
      el.innerHTML = '<p class="muted">Answer an access or erasure request for one user id.</p><form class="inline" id="privacy-form"><label for="user-id">User id</label><input id="user-id" required>' +
        '<button type="button" id="export-user">Export events</button><button type="button" id="erase-user">Erase</button></form><p id="privacy-out" role="status"></p>';
      $('export-user').addEventListener('click', function () {
        var id = $('user-id').value.trim();
        if (id) api('users/' + encodeURIComponent(id) + '/events', {}, { filters: false }).then(function (text) {
          var a = d.createElement('a');
          a.href = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
          a.download = 'user-events.ndjson';
          a.click();
          $('privacy-out').textContent = text.split('\n').filter(Boolean).length + ' events exported.';
        }, function (e) { $('privacy-out').textContent = e.message; });
      });
      $('erase-user').addEventListener('click', function () {
        var id = $('user-id').value.trim();
        if (id && confirm('Erase every event of ' + id + '? This cannot be undone.')) api('users/' + encodeURIComponent(id), {}, { filters: false, method: 'DELETE' }).then(function (x) {
          $('privacy-out').textContent = x.deleted + ' events erased.';
        }, function (e) { $('privacy-out').textContent = e.message; });
      });
    }
  }

  // ---- wiring ----
  function chips() {
    $('chips').innerHTML = S.filters.map(function (f, i) {
      var at = f.indexOf(':'), dim = f.slice(0, at).replace(/!$/, ''), not = f.charAt(at - 1) === '!', value = f.slice(at + 1);
      return '<button type="button" class="chip" data-unfilter="' + i + '" aria-label="Remove filter ' + esc(f) + '">' + esc((NAMES[dim] || dim) + (not ? ' is not ' : ' is ') + label(dim, value === '(none)' ? null : value)) + ' ✕</button>';
    }).join('');
  }
  function render() {
    generation++;
    saveURL();
    chips();
    d.querySelectorAll('[data-view]').forEach(function (s) { s.hidden = s.getAttribute('data-view') !== S.tab; });
    d.querySelectorAll('#tabs button').forEach(function (b) { b.setAttribute('aria-pressed', String(b.getAttribute('data-tab') === S.tab)); });
    if (S.tab === 'overview') overview();
    if (S.tab === 'product') product();
    if (S.tab === 'health') health();
    live();
    if (S.embed) embed();
  }
  function embed() {
    d.body.classList.add('embed');
    var target = $('p-' + S.embed) || $('tiles');
    d.querySelectorAll('.panel, .tiles').forEach(function (p) { if (p !== target && !p.contains(target)) p.hidden = true; });
  }
  function start() {
    $('login').hidden = true;
    banner('');
    api('sites', {}, { filters: false }).then(function (x) {
      sites = x.sites.map(function (s) { return s.id; });
      if (!S.site || sites.indexOf(S.site) < 0) S.site = sites.indexOf('default') >= 0 ? 'default' : sites[0] || '';
      $('site').innerHTML = sites.map(function (s) { return '<option>' + esc(s) + '</option>'; }).join('');
      $('site').value = S.site;
      $('site').hidden = sites.length < 2;
      $('views').hidden = false;
      $('signout').hidden = !!S.share;
      $('share').hidden = !!S.share;
      render();
    }, function (e) { if (!failed(e)) banner('<p class="error">' + esc(e.message) + '</p>'); });
  }

  d.addEventListener('click', function (e) {
    var t = e.target.closest('button');
    if (!t) return;
    if (t.hasAttribute('data-filter')) {
      var f = t.getAttribute('data-filter');
      if (S.filters.indexOf(f) < 0) S.filters.push(f);
      render();
    } else if (t.hasAttribute('data-unfilter')) {
      S.filters.splice(+t.getAttribute('data-unfilter'), 1);
      render();
    } else if (t.hasAttribute('data-tab')) {
      S.tab = t.getAttribute('data-tab');
      render();
    } else if (t.hasAttribute('data-retry')) {
      banner('');
      start();
    }
  });
  $('window').value = S.win;
  $('custom').hidden = S.win !== 'custom';
  $('from').value = S.from;
  $('to').value = S.to;
  $('window').addEventListener('change', function () { S.win = this.value; $('custom').hidden = S.win !== 'custom'; if (S.win !== 'custom') render(); });
  ['from', 'to'].forEach(function (id) { $(id).addEventListener('change', function () { S.from = $('from').value; S.to = $('to').value; if (S.from && S.to) render(); }); });
  $('site').addEventListener('change', function () { S.site = this.value; S.filters = []; render(); });
  $('signout').addEventListener('click', function () { sessionStorage.removeItem('dash_key'); key = ''; showLogin(''); });
  $('share').addEventListener('click', function () {
    api('share', {}, { filters: false, method: 'POST' }).then(function (x) {
      var link = location.origin + '/dashboard?share=' + encodeURIComponent(x.token) + '&site=' + encodeURIComponent(x.site);
      banner('<h2>Read-only link</h2><p>Anyone with this link sees this site\'s numbers, and nothing else. Revoke it with <code>telemetryd share revoke</code>.</p><pre id="share-link">' + esc(link) + '</pre>');
    }, function (e) { if (!failed(e)) banner('<p class="error">' + esc(e.message) + '</p>'); });
  });
  $('login-form').addEventListener('submit', function (e) {
    e.preventDefault();
    key = $('key').value;
    sessionStorage.setItem('dash_key', key);
    start();
  });
  if (key || S.share) start(); else showLogin('');
})();
