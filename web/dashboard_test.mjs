// The dashboard in headless Chromium (Debian's chromium driven by playwright-core from
// test/tools): a real `edgeloop serve --mqtt --db` with real signed models and a real Mosquitto;
// results and alarms published over MQTT (mosquitto_pub) reach the store through the server's
// collector. The page asks for a token, then renders the models, versions, channels, metrics,
// fleet, results, alarms and drift from the store; Confirm and Reject write labels, checked
// through the API; screenshots are saved.
// Usage: node web/dashboard_test.mjs BUILD_DIR   (exit 0 = pass)
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import os from 'node:os';

const build = path.resolve(process.argv[2] || 'build');
const bin = path.join(build, 'bin');
const artifacts = path.join(build, 'test-artifacts');
mkdirSync(artifacts, { recursive: true });
const require = createRequire(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../test/tools/package.json'));
const { chromium } = require('playwright-core');

const tmp = mkdtempSync(path.join(os.tmpdir(), 'edgeloop-dashboard-'));
const data = path.join(tmp, 'registry');
const children = [];
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}
function edgeloop(...args) {
  return execFileSync(path.join(bin, 'edgeloop'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}
async function waitHttp(url) {
  for (let i = 0; i < 100; i++) {
    try { await fetch(url); return; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  throw new Error('no server at ' + url);
}

const LABELS = ['normal', 'warning', 'failure'];
function resultJson(device, seq, cls) {
  const scores = Object.fromEntries(LABELS.map((l) => [l, l === cls ? 0.9 : 0.05]));
  return JSON.stringify({ device_id: device, seq, timestamp: Date.now() - (40 - seq) * 1000, prediction: cls,
    confidence: 0.9, all_scores: scores, inference_ms: 0.4, model: { name: 'vib', version: 1 },
    raw_data: Array.from({ length: 10 }, (_, i) => Math.sin(i + seq) * (cls === 'failure' ? 3 : 1)) });
}
function alarmJson(device, seq, resultSeq) {
  return JSON.stringify({ device_id: device, seq, timestamp: Date.now(), event: 'raised', label: 'failure', score: 0.9,
    threshold: 0.8, count: 3, n: 3, m: 5, result_seq: resultSeq, model: { name: 'vib', version: 1 } });
}
async function waitFor(what, fn) {
  for (let i = 0; i < 100; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting for ' + what + (globalThis.lastDead ? '; dead letters: ' + globalThis.lastDead : ''));
}

let browser;
try {
  const mqttPort = await freePort();
  const mq = path.join(tmp, 'mosquitto.conf');
  writeFileSync(mq, `listener ${mqttPort} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  children.push(spawn('mosquitto', ['-c', mq], { stdio: 'inherit' }));
  edgeloop('keys', 'init', '--data', data);
  const token = edgeloop('token', 'create', '--data', data, '--role', 'admin', '--name', 'browser').trim().split('\n').pop();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const db = 'sqlite:' + path.join(tmp, 'store.db');
  await new Promise((r) => setTimeout(r, 300));  // mosquitto listening
  const server = spawn(path.join(bin, 'edgeloop'), ['serve', '--data', data, '--listen', `127.0.0.1:${port}`,
    '--mqtt', `tcp://127.0.0.1:${mqttPort}`, '--db', db], { stdio: 'inherit' });
  children.push(server);
  await waitHttp(url + '/healthz');
  const get = async (p) => (await fetch(url + p, { headers: { Authorization: 'Bearer ' + token } })).json();

  // Two real signed versions with training metrics (curves and a confusion matrix).
  execFileSync(path.join(bin, 'bench_fleet_models'), [tmp]);
  const report = {
    val_accuracy: 0.931, val_loss: 0.21, labels: ['normal', 'warning', 'failure'],
    confusion_matrix: [[70, 2, 0], [3, 17, 1], [0, 1, 9]],
    epochs: [1, 2, 3].map((e) => ({ epoch: e, loss: 1 / e, accuracy: 0.6 + 0.1 * e, val_loss: 1.1 / e, val_accuracy: 0.55 + 0.12 * e, seconds: 0.1 })),
  };
  writeFileSync(path.join(tmp, 'report.json'), JSON.stringify(report));
  const cli = ['--server', url, '--token', token];
  edgeloop('publish', path.join(tmp, 'v1.tflite'), '--name', 'vib', '--channel', 'stable', '--metrics', path.join(tmp, 'report.json'), ...cli);
  edgeloop('publish', path.join(tmp, 'v2.tflite'), '--name', 'vib', '--channel', 'canary', '--share', '0.25', ...cli);

  // The field: 3 devices' results (press-03 sees failures) and two raised alarms, over real MQTT.
  const devices = ['press-01', 'press-02', 'press-03'];
  for (const [d, dev] of devices.entries()) {
    const lines = [];
    for (let seq = 1; seq <= 30; seq++) lines.push(resultJson(dev, seq, d === 2 && seq > 20 ? 'failure' : LABELS[seq % 2]));
    execFileSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mqttPort), '-q', '1', '-l',
      '-t', `edgeloop/plant/devices/${dev}/results`], { input: lines.join('\n') + '\n' });
  }
  execFileSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mqttPort), '-q', '1', '-l',
    '-t', 'edgeloop/plant/devices/press-03/alarms'], { input: alarmJson('press-03', 1, 23) + '\n' + alarmJson('press-03', 2, 27) + '\n' });
  await waitFor('90 results and 2 alarms in the store', async () => {
    if (globalThis.lastDead === undefined) globalThis.lastDead = null;
    globalThis.lastDead = JSON.stringify((await get('/v1/dead-letters')).dead_letters.slice(0, 2).map((d) => d.reason));
    const { devices: ds } = await get('/v1/devices');
    const { alarms } = await get('/v1/alarms?state=all');
    return ds.reduce((n, x) => n + (x.results || 0), 0) === 90 && alarms.length === 2;
  });
  check(true, '90 results and 2 alarms stored by the collector');
  const trainCsv = path.join(tmp, 'train.csv');
  edgeloop('data', 'generate', '--samples', '300', '--length', '16', '--seed', '3', '-o', trainCsv);
  edgeloop('drift', 'baseline', trainCsv, '--model', 'vib', '--db', db);

  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url + '/');
  await page.waitForSelector('#token-form:not([hidden])', { timeout: 10000 });
  check(true, 'without a token the page asks for one');
  await page.fill('#token-input', token);
  await page.click('#token-form button');
  await page.waitForSelector('.model table tbody tr', { timeout: 10000 });
  const rows = await page.$$eval('.model table tbody tr', (trs) => trs.map((tr) => tr.innerText));
  check(rows.length === 2, `two versions listed (${rows.length})`);
  check(rows.some((r) => r.includes('v1') && r.includes('stable') && r.includes('93.1')), 'v1 on stable with its val accuracy');
  check(rows.some((r) => r.includes('v2') && r.includes('canary')), 'v2 on canary');
  const heading = await page.textContent('.model h3');
  check(heading.includes('canary v2 (25%)'), `channels shown with the canary share (${heading})`);
  // Select v1: its confusion matrix and training curves (a Chart.js canvas).
  await page.click('.model table tbody tr:has-text("v1")');
  const cm = await page.$$eval('#confusion tr', (trs) => trs.map((tr) => tr.innerText));
  // The registry keeps what `publish --metrics` stores; the matrix is drawn when it is there.
  const v1 = await (await fetch(url + '/v1/models/vib/versions/1', { headers: { Authorization: 'Bearer ' + token } })).json();
  check(Array.isArray(v1.metrics.confusion_matrix) && v1.metrics.epochs.length === 3, 'publish --metrics kept the confusion matrix and curves');
  check(cm.length === 4 && cm[1].includes('70') && cm[2].includes('17'), 'confusion matrix of v1 rendered');
  check(Math.abs(v1.metrics.val_accuracy - 0.931) < 1e-9, 'metrics stored with the version');
  const curvePoints = await page.evaluate(() => {
    const c = document.getElementById('curves-chart');
    return c.width > 0 && c.height > 0;
  });
  check(curvePoints, 'training curves chart drawn');
  check(await page.evaluate(() => localStorage.getItem('edgeloop.token') !== null), 'token kept in localStorage');
  // Fleet, results, alarms and drift panels from the store.
  await page.waitForSelector('tr[data-device="press-03"]', { timeout: 10000 });
  const fleetRows = await page.$$eval('tr[data-device]', (trs) => trs.map((tr) => tr.innerText));
  check(fleetRows.length === 3 && fleetRows.every((r) => r.includes('30')) && fleetRows.some((r) => r.includes('vib')),
    `fleet: 3 devices with 30 results each on vib (${JSON.stringify(fleetRows)})`);
  const resultsBars = await page.evaluate(() => {
    const c = (globalThis.edgeloopCharts || {})['results-chart'];
    return c ? c.data.datasets.map((d) => [d.label, d.data.reduce((a, b) => a + b, 0)]) : null;
  });
  check(resultsBars !== null && resultsBars.reduce((n, [, v]) => n + v, 0) === 90 && resultsBars.some(([l]) => l === 'failure'),
    `results per class over time: 90 results charted (${JSON.stringify(resultsBars)})`);
  await page.waitForSelector('tr[data-alarm] button.confirm', { timeout: 10000 });
  const alarmRows = await page.$$('tr[data-alarm]');
  check(alarmRows.length === 2, `two alarms listed (${alarmRows.length})`);
  const driftText = await page.textContent('#drift-status');
  const drift = await get('/v1/drift?device=fleet');
  check(driftText.length > 0 && driftText === drift.status, `drift status from the store (${driftText})`);
  await page.screenshot({ path: path.join(artifacts, 'dashboard-before-verdicts.png'), fullPage: true });
  await page.click('tr[data-alarm]:nth-child(1) button.confirm');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-alarm] button.confirm').length === 1, null, { timeout: 10000 });
  await page.click('tr[data-alarm] button.reject');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-alarm] button').length === 0, null, { timeout: 10000 });
  const { labels } = await get('/v1/labels');
  const verdicts = labels.filter((l) => l.alarm_id != null).map((l) => l.verdict).sort();
  check(JSON.stringify(verdicts) === JSON.stringify(['confirmed', 'rejected']), `Confirm and Reject stored as labels (${JSON.stringify(verdicts)})`);
  const shown = await page.$$eval('tr[data-alarm] td.verdict', (tds) => tds.map((td) => td.innerText).sort());
  check(JSON.stringify(shown) === JSON.stringify(['confirmed', 'rejected']), `the page shows both verdicts (${JSON.stringify(shown)})`);
  await page.screenshot({ path: path.join(artifacts, 'dashboard.png'), fullPage: true });
  console.log('screenshot: ' + path.join(artifacts, 'dashboard.png'));
  check(pageErrors.length === 0, 'no script errors' + (pageErrors.length ? ': ' + pageErrors.join('; ') : ''));
} catch (e) {
  console.error('FAIL ' + (e.stack || e));
  failures++;
} finally {
  if (browser) await browser.close();
  for (const c of children) c.kill('SIGTERM');
}
process.exit(failures ? 1 : 0);
