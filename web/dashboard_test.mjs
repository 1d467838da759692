// The dashboard in headless Chromium (Debian's chromium driven by playwright-core from
// test/tools): a real `edgeloop serve` with real signed models; the page asks for a token, then
// renders the registry's models, versions, channels and metrics; screenshots are saved.
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

let browser;
try {
  edgeloop('keys', 'init', '--data', data);
  const token = edgeloop('token', 'create', '--data', data, '--role', 'admin', '--name', 'browser').trim().split('\n').pop();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawn(path.join(bin, 'edgeloop'), ['serve', '--data', data, '--listen', `127.0.0.1:${port}`], { stdio: 'inherit' });
  children.push(server);
  await waitHttp(url + '/healthz');

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
  if (Array.isArray(v1.metrics.confusion_matrix)) {
    check(cm.length === 4 && cm[1].includes('70') && cm[2].includes('17'), 'confusion matrix of v1 rendered');
  } else {
    check(cm.length === 1 && cm[0].includes('no confusion matrix'), 'v1 has no stored confusion matrix and the page says so');
  }
  check(Math.abs(v1.metrics.val_accuracy - 0.931) < 1e-9, 'metrics stored with the version');
  const curvePoints = await page.evaluate(() => {
    const c = document.getElementById('curves-chart');
    return c.width > 0 && c.height > 0;
  });
  check(curvePoints, 'training curves chart drawn');
  check(await page.evaluate(() => localStorage.getItem('edgeloop.token') !== null), 'token kept in localStorage');
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
