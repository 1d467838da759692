// The edgeloop dashboard: one page over the server's /v1 API (the registry's models and channels,
// the store's devices, results, alarms, labels, drift and retraining decisions). Charts by Chart.js.
import Chart from 'chart.js/auto';

const REFRESH_MS = 5000;
const COLORS = ['#2b6cb0', '#d69e2e', '#c53030', '#2f855a', '#6b46c1', '#dd6b20', '#319795', '#718096'];
const state = { token: localStorage.getItem('edgeloop.token') || '', selected: null, charts: {} };
globalThis.edgeloopCharts = state.charts;  // the browser test reads what each chart drew
const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  if (options.body) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { ...options, headers });
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = { error: { message: text } }; }
  if (!res.ok) {
    const err = new Error((body && body.error && body.error.message) || res.statusText);
    err.status = res.status;
    throw err;
  }
  return body;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
  return e;
}

function ago(t) {
  if (!t) return '—';
  const s = Math.round((Date.now() - Date.parse(t)) / 1000);
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  return new Date(t).toLocaleString();
}

function chart(id, config) {
  if (state.charts[id]) {
    state.charts[id].data = config.data;
    state.charts[id].update('none');
  } else {
    config.options = { responsive: true, maintainAspectRatio: false, animation: false, ...config.options };
    state.charts[id] = new Chart($(id), config);
  }
}

function setStatus(text, cls = '') {
  $('status').textContent = text;
  $('status').className = cls || 'muted';
}

// ---- sections ---------------------------------------------------------------------------------

let stableVersions = {};  // model name -> stable version (for the rollout column)

async function loadModels() {
  const { models } = await api('/v1/models');
  const box = $('models');
  box.replaceChildren();
  stableVersions = {};
  for (const m of models) {
    const detail = await api('/v1/models/' + encodeURIComponent(m.name));
    const channels = detail.channels || {};
    if (channels.stable) stableVersions[m.name] = channels.stable.version;
    const chText = Object.entries(channels).map(([c, p]) => `${c} v${p.version}` + (c === 'canary' ? ` (${Math.round(p.share * 100)}%)` : '')).join(', ');
    const rows = (detail.versions || []).slice().reverse().map((v) => {
      const metrics = v.metrics || {};
      const acc = metrics.val_accuracy ?? metrics.accuracy;
      const tr = el('tr', { 'data-version': v.version, onclick: () => selectVersion(m.name, v) },
        el('td', {}, 'v' + v.version),
        el('td', {}, Object.entries(channels).filter(([, p]) => p.version === v.version).map(([c]) => c).join(', ')),
        el('td', {}, acc != null ? (100 * acc).toFixed(1) + ' %' : '—'),
        el('td', {}, (v.size / 1024).toFixed(1) + ' KiB'),
        el('td', {}, v.created || ''),
        el('td', { class: 'muted' }, (v.sha256 || '').slice(0, 12)));
      if (state.selected && state.selected.model === m.name && state.selected.version === v.version) tr.className = 'selected';
      return tr;
    });
    box.append(el('div', { class: 'model' },
      el('h3', {}, m.name + ' ', el('span', { class: 'muted' }, chText || 'no channel set')),
      el('table', { class: 'versions' },
        el('thead', {}, el('tr', {}, ...['version', 'channels', 'val accuracy', 'size', 'created', 'sha256'].map((h) => el('th', {}, h)))),
        el('tbody', {}, ...rows))));
    if (!state.selected && detail.versions && detail.versions.length) {
      selectVersion(m.name, detail.versions[detail.versions.length - 1]);
    }
  }
  if (!models.length) box.append(el('p', { class: 'muted' }, 'No models published yet.'));
}

function selectVersion(model, v) {
  state.selected = { model, version: v.version };
  document.querySelectorAll('.model tr.selected').forEach((r) => { r.className = ''; });
  const metrics = v.metrics || {};
  $('cm-title').textContent = `${model} v${v.version}`;
  $('curves-title').textContent = `${model} v${v.version}`;
  // Confusion matrix: rows = true class, columns = predicted.
  const cm = metrics.confusion_matrix;
  const labels = metrics.labels || (cm ? cm.map((_, i) => 'class ' + i) : []);
  const table = $('confusion');
  table.replaceChildren();
  if (Array.isArray(cm) && cm.length) {
    const max = Math.max(1, ...cm.flat());
    table.append(el('tr', {}, el('th', {}, 'true \\ predicted'), ...labels.map((l) => el('th', {}, l))));
    cm.forEach((row, i) => {
      table.append(el('tr', {}, el('th', {}, labels[i]), ...row.map((n, j) => {
        const td = el('td', {}, n);
        const a = n / max;
        td.style.background = i === j ? `rgba(47,133,90,${0.15 + 0.6 * a})` : `rgba(197,48,48,${a ? 0.1 + 0.6 * a : 0})`;
        return td;
      })));
    });
  } else {
    table.append(el('tr', {}, el('td', { class: 'muted' }, 'no confusion matrix in this version\'s metrics')));
  }
  const epochs = Array.isArray(metrics.epochs) ? metrics.epochs : [];
  const series = (key) => epochs.map((e) => e[key] ?? null);
  chart('curves-chart', {
    type: 'line',
    data: {
      labels: epochs.map((e) => e.epoch),
      datasets: [
        { label: 'loss', data: series('loss'), borderColor: COLORS[0], yAxisID: 'loss' },
        { label: 'val_loss', data: series('val_loss'), borderColor: COLORS[1], yAxisID: 'loss' },
        { label: 'accuracy', data: series('accuracy'), borderColor: COLORS[3], yAxisID: 'acc' },
        { label: 'val_accuracy', data: series('val_accuracy'), borderColor: COLORS[4], yAxisID: 'acc' },
      ],
    },
    options: { scales: { loss: { position: 'left', title: { display: true, text: 'loss' } },
      acc: { position: 'right', min: 0, max: 1, title: { display: true, text: 'accuracy' } } } },
  });
}

async function loadFleet() {
  const { devices } = await api('/v1/devices');
  const body = $('fleet').tBodies[0];
  let online = 0;
  const byVersion = {};
  body.replaceChildren(...devices.map((d) => {
    if (d.online) online++;
    const model = d.model || {};
    const key = model.name ? `${model.name} v${model.version}` : 'none';
    byVersion[key] = (byVersion[key] || 0) + 1;
    const stable = stableVersions[model.name];
    let rollout = '—';
    if (stable != null && model.version != null) {
      rollout = model.version === stable ? 'current' : model.version < stable ? `updating to v${stable}` : 'canary';
    }
    return el('tr', { 'data-device': d.device_id },
      el('td', {}, d.device_id), el('td', {}, d.fleet || ''),
      el('td', { class: d.online ? 'online' : 'offline' }, d.online ? 'online' : 'offline'),
      el('td', {}, ago(d.last_seen)), el('td', {}, key), el('td', {}, rollout),
      el('td', {}, d.results ?? ''), el('td', { class: d.alarms_open ? 'error' : '' }, d.alarms_open ?? ''));
  }));
  $('fleet-summary').textContent = `${devices.length} devices, ${online} online · ` +
    Object.entries(byVersion).map(([k, n]) => `${k}: ${n}`).join(', ');
}

async function loadResults() {
  const since = new Date(Date.now() - 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const stats = await api(`/v1/results/stats?since=${encodeURIComponent(since)}&bucket_s=60`);
  const labels = stats.labels || [];
  chart('results-chart', {
    type: 'bar',
    data: {
      labels: stats.buckets.map((b) => new Date(b.t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })),
      datasets: labels.map((l, i) => ({ label: l, data: stats.buckets.map((b) => (b.counts || {})[l] || 0),
        backgroundColor: COLORS[i % COLORS.length] })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'results' } } } },
  });
}

async function verdict(alarm, v, button) {
  button.disabled = true;
  try {
    await api('/v1/labels', { method: 'POST', body: JSON.stringify({ alarm_id: alarm.id, verdict: v, by: 'dashboard' }) });
    setStatus(`alarm ${alarm.id} ${v === 'confirm' ? 'confirmed' : 'rejected'}`, 'ok');
    await loadAlarms();
  } catch (e) {
    setStatus(`label for alarm ${alarm.id}: ${e.message}`, 'error');
    button.disabled = false;
  }
}

async function loadAlarms() {
  const { alarms } = await api('/v1/alarms?state=all&limit=50');
  $('alarms').tBodies[0].replaceChildren(...alarms.map((a) => {
    const actions = el('td', {});
    if (!a.verdict) {
      const c = el('button', { class: 'confirm' }, 'Confirm');
      const r = el('button', { class: 'reject' }, 'Reject');
      c.addEventListener('click', () => verdict(a, 'confirm', c));
      r.addEventListener('click', () => verdict(a, 'reject', r));
      actions.append(c, ' ', r);
    }
    return el('tr', { 'data-alarm': a.id },
      el('td', {}, ago(a.raised_at)), el('td', {}, a.device_id), el('td', {}, a.label),
      el('td', {}, a.score != null ? Number(a.score).toFixed(2) : ''), el('td', {}, a.cleared_at ? ago(a.cleared_at) : 'open'),
      el('td', { class: 'verdict' }, a.verdict || '—'), actions);
  }));
}

async function loadDrift() {
  const d = await api('/v1/drift?device=fleet');
  const badge = $('drift-status');
  badge.textContent = d.status;
  badge.className = 'badge ' + d.status;
  const mix = d.class_mix || {};
  const labels = [...new Set([...Object.keys(mix.training || {}), ...Object.keys(mix.recent || {})])];
  chart('drift-chart', {
    type: 'bar',
    data: { labels, datasets: [
      { label: 'training', data: labels.map((l) => (mix.training || {})[l] || 0), backgroundColor: COLORS[0] },
      { label: 'recent', data: labels.map((l) => (mix.recent || {})[l] || 0), backgroundColor: COLORS[2] }] },
    options: { scales: { y: { title: { display: true, text: 'share of results' } } } },
  });
  const psi = d.psi || {};
  $('drift-psi').replaceChildren(el('table', {},
    el('tr', {}, el('th', {}, 'PSI mean'), el('td', {}, psi.mean != null ? psi.mean.toFixed(3) : '—')),
    el('tr', {}, el('th', {}, 'PSI std'), el('td', {}, psi.std != null ? psi.std.toFixed(3) : '—')),
    ...(psi.bands || []).map((b, i) => el('tr', {}, el('th', {}, 'band ' + i), el('td', {}, typeof b === 'number' ? b.toFixed(3) : JSON.stringify(b))))));
  const { decisions } = await api('/v1/retrain/decisions');
  $('decisions').tBodies[0].replaceChildren(...decisions.map((x) => el('tr', {},
    el('td', {}, ago(x.time)), el('td', {}, x.model),
    el('td', {}, `v${x.candidate_version} (${(100 * x.candidate_accuracy).toFixed(1)} %)`),
    el('td', {}, x.champion_version ? `v${x.champion_version} (${(100 * x.champion_accuracy).toFixed(1)} %)` : '—'),
    el('td', {}, x.decision), el('td', {}, x.reason))));
}

let generation = 0;  // a refresh started before a token change must not report afterwards
async function refresh() {
  const mine = ++generation;
  const sections = [['models', loadModels], ['fleet', loadFleet], ['results', loadResults], ['alarms', loadAlarms], ['drift', loadDrift]];
  const errors = [];
  for (const [name, fn] of sections) {
    try {
      await fn();
    } catch (e) {
      if (mine !== generation) return;
      if (e.status === 401 || e.status === 403) {
        askToken(e.message);
        return;
      }
      errors.push(`${name}: ${e.message}`);
    }
  }
  if (mine !== generation) return;
  if (errors.length) setStatus(errors.join(' · '), 'error');
  else setStatus('updated ' + new Date().toLocaleTimeString());
  document.body.dataset.loaded = 'true';
}

function askToken(why) {
  $('token-form').hidden = false;
  setStatus(why ? 'token needed: ' + why : 'token needed', 'warning');
}

$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  state.token = $('token-input').value.trim();
  localStorage.setItem('edgeloop.token', state.token);
  $('token-form').hidden = true;
  $('forget-token').hidden = false;
  refresh();
});
$('forget-token').addEventListener('click', () => {
  localStorage.removeItem('edgeloop.token');
  state.token = '';
  askToken();
});
$('forget-token').hidden = !state.token;

refresh();
setInterval(refresh, REFRESH_MS);
