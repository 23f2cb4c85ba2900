import { defineConfig } from '@playwright/test';

// Herald's browser tests: Debian's Chromium (never a downloaded browser) against bin/build's
// build (the optimised bundle and the server `cargo test` builds; $HERALD_BIN for another),
// started fresh with demo data in a throw-away data directory. Every test runs twice: hydrated
// (JavaScript on, project `js`) and server-rendered only (JavaScript off, project `nojs`).
//
// One run of this configuration is one instance of Herald and the DNS server it asks, on the
// ports and in the directory below: bin/test runs the two projects side by side, each with its
// own instance (HERALD_E2E_PORT, HERALD_E2E_DNS_PORT, HERALD_E2E_DIR), since tests change the
// demo data and count what they changed.
const port = Number(process.env.HERALD_E2E_PORT ?? 3107);
const baseURL = `http://127.0.0.1:${port}`;
// Relative to the repository: the instance's data directory and the DNS server's zone files
// (tests publish records with helpers.ts' publishDns). helpers.ts reads the same variable.
const dir = process.env.HERALD_E2E_DIR ?? 'target/e2e';
const dataDir = `${dir}/data`;
const herald = process.env.HERALD_BIN ?? './target/debug/herald';
const dnsPort = Number(process.env.HERALD_E2E_DNS_PORT ?? 3153);
const dnsZones = `${dir}/dns`;

export default defineConfig({
  testDir: './tests',
  outputDir: `../${dir}/results`,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    },
  },
  projects: [
    { name: 'js', use: { javaScriptEnabled: true } },
    { name: 'nojs', use: { javaScriptEnabled: false } },
  ],
  webServer: [{
    cwd: '..',
    command: `rm -rf ${dnsZones} && exec .venv/bin/python tools/dns-double --port ${dnsPort} --dir ${dnsZones}`,
    port: dnsPort,
    timeout: 30_000,
    reuseExistingServer: false,
  }, {
    cwd: '..',
    command: `rm -rf ${dataDir} && ${herald} demo && exec ${herald} serve`,
    url: `${baseURL}/healthz`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    env: {
      HERALD_DATA_DIR: dataDir,
      HERALD_LISTEN: `127.0.0.1:${port}`,
      HERALD_LOG: 'warn',
      HERALD_DNS_RESOLVER: `127.0.0.1:${dnsPort}`,
    },
  }],
});
