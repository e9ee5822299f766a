// Status page: polls the admin API every second and renders with DOM calls only (textContent:
// template texts and examples are log data and never become markup).
'use strict';
(function () {
  var NEW_MS = 60000; // a template first seen within the last minute is marked new
  var HISTORY_MS = 300000; // error chart span
  var TOKEN_KEY = 'olp-token';
  var errorHistory = []; // [{t, perSecond}]
  var lastErrors; // {t, total}
  var lastCounts = new Map(); // template id -> {t, count}
  var sort = { key: 'rate', asc: false };
  var rows = [];

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { e.append(c); });
    return e;
  }
  function fmt(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(1) + 'M';
    if (n >= 1e4) return (n / 1e3).toFixed(1) + 'k';
    return Number.isInteger(n) ? String(n) : n.toFixed(1);
  }
  function mib(b) { return (b / 1048576).toFixed(0) + ' MiB'; }
  function ago(now, t) {
    if (!t) return '–';
    var s = Math.max(0, Math.round((now - t) / 1000));
    return s < 60 ? s + 's ago' : s < 3600 ? Math.round(s / 60) + 'm ago' : Math.round(s / 3600) + 'h ago';
  }

  function api(path) {
    var token = sessionStorage.getItem(TOKEN_KEY);
    return fetch(path, { headers: token ? { authorization: 'Bearer ' + token } : {}, cache: 'no-store' }).then(function (r) {
      if (r.status === 401) {
        document.getElementById('auth').hidden = false;
        throw new Error('a bearer token is required');
      }
      if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
      return r.json();
    });
  }

  function node(kind, name, lines, fill) {
    var children = [el('div', { class: 'kind' }, [kind]), el('div', { class: 'name' }, [name])];
    lines.forEach(function (l) { children.push(el('div', { class: 'rate' }, [l])); });
    if (fill !== undefined) {
      var level = el('div', {});
      // A CSSOM property, not a style attribute: the page's policy allows no inline styles.
      level.style.width = Math.min(100, fill * 100).toFixed(1) + '%';
      children.push(el('div', { class: 'bar', title: 'queue fill ' + Math.round(fill * 100) + '%' }, [level]));
    }
    return el('div', { class: 'node', id: kind + '-' + name }, children);
  }

  function renderStatus(s) {
    document.getElementById('summary').textContent =
      'v' + s.version + ' · up ' + s.uptimeSeconds + ' s · ' + s.workers.threads + ' worker threads · RSS ' + mib(s.memory.rssBytes) + ' · heap ' + mib(s.memory.heapUsedBytes);
    document.getElementById('window').textContent = String(s.rateWindowSeconds);
    var spike = s.processors.some(function (p) { return p.events.error_spikes && p.events.error_spikes.perSecond > 0; });
    var state = document.getElementById('state');
    state.textContent = spike ? 'ERROR SPIKE' : '';
    state.className = spike ? 'state spike' : 'state';
    var col = function (nodes) { return el('div', { class: 'column' }, nodes); };
    var arrow = function () { return el('div', { class: 'arrow' }, ['→']); };
    var parts = [col(s.receivers.map(function (r) {
      return node('receiver', r.transport, [fmt(r.accepted.perSecond) + ' /s in', fmt(r.refused.perSecond) + ' /s refused']);
    }))];
    s.processors.forEach(function (p) {
      parts.push(arrow(), col([node('processor', p.name, [fmt(p.incoming.perSecond) + ' → ' + fmt(p.outgoing.perSecond) + ' /s'])]));
    });
    parts.push(arrow(), col(s.exporters.map(function (e) {
      var fill = e.queue.capacity > 0 ? e.queue.size / e.queue.capacity : 0;
      return node('exporter', e.name, [fmt(e.sent.perSecond) + ' /s sent', 'queue ' + fmt(e.queue.size) + ' / ' + fmt(e.queue.capacity), fmt(e.failedRequests.perSecond) + ' failed req/s'], fill);
    })));
    document.getElementById('pipeline').replaceChildren.apply(document.getElementById('pipeline'), parts);
    var body = document.querySelector('#drops tbody');
    body.replaceChildren.apply(body, s.drops.length === 0
      ? [el('tr', {}, [el('td', { colspan: '4' }, ['none'])])]
      : s.drops.map(function (d) {
        return el('tr', {}, [el('td', {}, [d.component]), el('td', {}, [d.reason]), el('td', { class: 'num' }, [fmt(d.count.total)]), el('td', { class: 'num' }, [fmt(d.count.perSecond)])]);
      }));
  }

  function renderTemplates(t) {
    var now = t.now;
    var errors = 0;
    rows = [];
    t.processors.forEach(function (p) {
      p.templates.forEach(function (x) {
        errors += x.severities.error + x.severities.fatal;
        var prev = lastCounts.get(x.id);
        var rate = prev && now > prev.t ? (x.count - prev.count) * 1000 / (now - prev.t) : 0;
        lastCounts.set(x.id, { t: now, count: x.count });
        var mix = ['error', 'fatal', 'warn', 'info', 'debug', 'trace', 'unspecified']
          .filter(function (k) { return x.severities[k] > 0; })
          .map(function (k) { return k + ' ' + Math.round(x.severities[k] * 100 / x.count) + '%'; }).join(', ');
        rows.push({ id: x.id, rate: Math.max(0, rate), count: x.count, text: x.text, severity: mix, firstSeen: x.firstSeen, lastSeen: x.lastSeen, example: x.example, isNew: x.firstSeen > 0 && now - x.firstSeen < NEW_MS });
      });
    });
    document.getElementById('templates-note').textContent = rows.length + ' shown (top by count per processor)';
    if (lastErrors && now > lastErrors.t) errorHistory.push({ t: now, perSecond: Math.max(0, errors - lastErrors.total) * 1000 / (now - lastErrors.t) });
    lastErrors = { t: now, total: errors };
    while (errorHistory.length > 0 && errorHistory[0].t < now - HISTORY_MS) errorHistory.shift();
    drawTable(now);
    drawChart(now);
  }

  function drawTable(now) {
    var k = sort.key;
    var sorted = rows.slice().sort(function (a, b) {
      var d = typeof a[k] === 'string' ? a[k].localeCompare(b[k]) : a[k] - b[k];
      return sort.asc ? d : -d;
    });
    var body = document.querySelector('#templates tbody');
    body.replaceChildren.apply(body, sorted.map(function (r) {
      return el('tr', { class: r.isNew ? 'new' : '', 'data-id': r.id }, [
        el('td', { class: 'num' }, [fmt(r.rate)]), el('td', { class: 'num' }, [fmt(r.count)]), el('td', { class: 'text' }, [r.text]),
        el('td', {}, [r.severity]), el('td', {}, [ago(now, r.firstSeen)]), el('td', {}, [ago(now, r.lastSeen)]), el('td', { class: 'example' }, [r.example]),
      ]);
    }));
    document.querySelectorAll('#templates th').forEach(function (th) {
      th.className = th.dataset.key === k ? (sort.asc ? 'sorted asc' : 'sorted') : '';
    });
  }

  function drawChart(now) {
    var svg = document.getElementById('errors');
    var ns = 'http://www.w3.org/2000/svg';
    var max = errorHistory.reduce(function (m, p) { return Math.max(m, p.perSecond); }, 1);
    var line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', errorHistory.map(function (p) {
      return (300 - (now - p.t) * 300 / HISTORY_MS).toFixed(1) + ',' + (75 - p.perSecond * 65 / max).toFixed(1);
    }).join(' '));
    var label = document.createElementNS(ns, 'text');
    label.setAttribute('x', '3');
    label.setAttribute('y', '10');
    label.textContent = 'max ' + fmt(max) + '/s · now ' + fmt(errorHistory.length ? errorHistory[errorHistory.length - 1].perSecond : 0) + '/s';
    svg.replaceChildren(line, label);
  }

  function tick() {
    Promise.all([api('/api/status'), api('/api/templates?limit=100')]).then(
      function (r) {
        document.getElementById('auth').hidden = true;
        renderStatus(r[0]);
        renderTemplates(r[1]);
      },
      function (e) {
        var state = document.getElementById('state');
        state.textContent = e.message;
        state.className = 'state error';
      },
    ).finally(function () { setTimeout(tick, 1000); });
  }

  document.querySelectorAll('#templates th').forEach(function (th) {
    th.addEventListener('click', function () {
      sort = { key: th.dataset.key, asc: sort.key === th.dataset.key ? !sort.asc : false };
      drawTable(Date.now());
    });
  });
  document.getElementById('auth').addEventListener('submit', function (ev) {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value);
  });
  tick();
})();
