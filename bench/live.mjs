// Live latency: from a pixel hit to the campaign page's card changing in the browser.
//
// Loads the demo into a fresh SQLite data directory with a known secret key, starts the release
// `herald serve`, signs in with headless Debian Chromium (playwright-core from end2end/), opens
// the campaign with the most sent messages and waits for its live stream; then, HITS times, hits
// the open pixel of a message of that campaign nobody opened yet (signed as the sender signs it)
// and measures until the "Opened" card shows one more. Prints the median and p95 (goal: p95
// under 1 s) and, for scale, the round trip of the pixel request alone.
//
//   bin/build --production && node bench/live.mjs [HITS]      (default 40)

import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(join(root, 'end2end', 'package.json'));
const { chromium } = require('playwright-core');

const HITS = Number(process.argv[2] ?? 40);
const PORT = 3196;
const KEY = 'bench-secret-key-bench-secret-key-0123456789';
const base = `http://127.0.0.1:${PORT}`;
const herald = join(root, 'target', 'release', 'herald');
const data = mkdtempSync(join(tmpdir(), 'herald-bench-live-'));
const env = { ...process.env, HERALD_DATA_DIR: data, HERALD_LISTEN: `127.0.0.1:${PORT}`, HERALD_LOG: 'warn', HERALD_SECRET_KEY: KEY };

const sql = (query) =>
  execFileSync('python3', ['-c', 'import sqlite3,sys,json; print(json.dumps(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()))', join(data, 'herald.db'), query]).toString();

function token(messageId) {
  const hmac = (data) => createHmac('sha256', KEY).update(data).digest();
  const kid = hmac(Buffer.from('herald key id v1')).subarray(0, 2);
  const id = Buffer.alloc(8);
  id.writeBigInt64BE(BigInt(messageId));
  const body = Buffer.concat([kid, Buffer.from('o'), id]);
  const tag = hmac(Buffer.concat([Buffer.from('herald.track.v1:'), body])).subarray(0, 16);
  return Buffer.concat([body, tag]).toString('base64url');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];

execFileSync(herald, ['demo'], { env, stdio: 'ignore' });
const [[campaign]] = JSON.parse(sql("SELECT campaign_id FROM message WHERE state IN ('sent','delivered') GROUP BY campaign_id ORDER BY count(*) DESC LIMIT 1"));
const ids = JSON.parse(sql(`SELECT id FROM message WHERE campaign_id = ${campaign} AND first_opened_at IS NULL AND sent_at IS NOT NULL AND NOT seed LIMIT ${HITS}`)).map((r) => r[0]);
const server = spawn(herald, ['serve'], { env, stdio: 'ignore' });
try {
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${base}/livez`)).ok) break; } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  const page = await browser.newPage();
  await page.goto(`${base}/login`);
  await page.waitForFunction(() => document.documentElement.dataset.hydrated === '1');
  await page.getByLabel('Email address').fill('admin@demo.herald.test');
  await page.getByLabel('Password').fill('herald-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/campaigns$/);
  await page.goto(`${base}/campaigns/${campaign}`);
  await page.waitForSelector('[data-testid=cards][data-live=on]');
  const opened = () => page.evaluate(() => Number(document.querySelector('[data-testid=card-opened] .value').textContent.replace(/,/g, '')));
  const latencies = [];
  const requests = [];
  for (const id of ids) {
    const before = await opened();
    const t0 = performance.now();
    const r = await fetch(`${base}/o/${token(id)}`, { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0' } });
    await r.arrayBuffer();
    requests.push(performance.now() - t0);
    await page.waitForFunction((b) => Number(document.querySelector('[data-testid=card-opened] .value').textContent.replace(/,/g, '')) > b, before, { timeout: 10_000, polling: 'raf' });
    latencies.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
  }
  await browser.close();
  console.log(`${latencies.length} hits on campaign ${campaign}`);
  console.log(`pixel hit to card changed: median ${median(latencies).toFixed(0)} ms, p95 ${p95(latencies).toFixed(0)} ms (goal: p95 under 1000 ms)`);
  console.log(`the pixel request alone:   median ${median(requests).toFixed(1)} ms, p95 ${p95(requests).toFixed(1)} ms`);
  process.exitCode = p95(latencies) < 1000 ? 0 : 1;
} finally {
  server.kill('SIGTERM');
  rmSync(data, { recursive: true, force: true });
}
