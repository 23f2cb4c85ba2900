import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';

/// Console errors that are not faults: a refusal the server answered with a 4xx status (the
/// tests check what the page says about it), and Playwright's tracing being kept out of the
/// sandboxed template preview, which is meant to run no script.
const expected = [
  /^Failed to load resource: the server responded with a status of 4\d\d/,
  /^Blocked script execution in 'about:srcdoc' because the document's frame is sandboxed/,
];

/// Playwright's `test`, failing any test whose page threw or logged an error: a panic in the
/// WASM bundle, a hydration mismatch, a part of the bundle that did not load, a server error.
export const test = base.extend({
  page: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !expected.some((re) => re.test(m.text()))) {
        errors.push(`${page.url()}: ${m.text()}`);
      }
    });
    await use(page);
    expect(errors, 'errors in the page').toEqual([]);
  },
});
export { expect };

export const ADMIN = { email: 'admin@demo.herald.test', password: 'herald-demo' };

export const withJs = (info: TestInfo) => info.project.name === 'js';

/// Waits until the WASM bundle has hydrated the page (JavaScript runs only): the app marks the
/// document when it is done, then whatever it fetched on the way settles. (A campaign's page
/// keeps its live stream open, so the network is never idle there: that wait is bounded.)
export async function hydrated(page: Page) {
  await page.waitForFunction(() => document.documentElement.dataset.hydrated === '1');
  await page.waitForLoadState('networkidle', { timeout: 2000 }).catch(() => {});
}

export async function signIn(page: Page, info: TestInfo, who = ADMIN) {
  await page.goto('/login');
  if (withJs(info)) await hydrated(page);
  await page.getByLabel('Email address').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/campaigns$/);
  if (withJs(info)) await hydrated(page);
}

const root = '..';
/// The instance's directory, relative to `root` (see playwright.config.ts).
const dir = process.env.HERALD_E2E_DIR ?? 'target/e2e';
const dataDir = `${dir}/data`;

/// The `herald` binary under test: bin/build's (the dev profile, as `cargo test` builds it), or
/// $HERALD_BIN.
export const HERALD_BIN = process.env.HERALD_BIN ?? './target/debug/herald';

/// Runs `herald` against the test server's data (SQLite takes a second process).
export function herald(args: string[]): string {
  return execFileSync(HERALD_BIN, args, {
    cwd: root,
    env: { ...process.env, HERALD_DATA_DIR: dataDir, HERALD_LOG: 'error' },
  }).toString();
}

/// Runs `query` on the test server's database (committing what it changes) and answers the
/// first column of the first row.
export function sql(query: string): string {
  return execFileSync(
    'python3',
    ['-c', [
      'import sqlite3,sys',
      'db=sqlite3.connect(sys.argv[1], timeout=10)',
      'r=db.execute(sys.argv[2]).fetchone()',
      'db.commit()',
      'print("" if r is None else r[0], end="")',
    ].join('\n'), `${dataDir}/herald.db`, query],
    { cwd: root },
  ).toString();
}

/// The demo organisation's id, in SQL.
export const DEMO = "(SELECT id FROM organisation WHERE slug = 'demo')";

/// Publishes `zone` in the DNS server the test instance asks (tools/dns-double, started by
/// playwright.config.ts), as the zone file `name`.json, replacing the previous one of that name.
/// It is read on the next question.
export function publishDns(name: string, zone: { records: [string, string, string][] }) {
  const zones = `${root}/${dir}/dns`;
  mkdirSync(zones, { recursive: true });
  writeFileSync(`${zones}/${name}.json.tmp`, JSON.stringify(zone));
  renameSync(`${zones}/${name}.json.tmp`, `${zones}/${name}.json`);
}
