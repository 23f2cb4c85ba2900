import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Page } from '@playwright/test';
import { expect, hydrated, signIn, sql, test, withJs } from './helpers';

const CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

/// The HTML part of a raw MIME message, quoted-printable decoded.
function htmlOf(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/// A demo message that was sent with links and is neither opened nor clicked yet, with its
/// campaign, recipient and tracking URLs as the recipient got them.
function untouchedMessage(project: string) {
  // The two projects take different messages.
  const offset = project === 'js' ? 0 : 1;
  const id = sql(
    `SELECT m.id FROM message m JOIN mailbox_message b ON b.message_id = m.id
     WHERE m.first_opened_at IS NULL AND m.first_clicked_at IS NULL AND NOT m.seed
       AND m.state IN ('sent', 'delivered') AND b.raw LIKE '%/c/%'
     ORDER BY m.id DESC LIMIT 1 OFFSET ${offset}`,
  );
  const campaign = sql(`SELECT campaign_id FROM message WHERE id = ${id}`);
  const recipient = sql(`SELECT recipient FROM message WHERE id = ${id}`);
  const html = htmlOf(sql(`SELECT raw FROM mailbox_message WHERE message_id = ${id}`));
  const pixel = html.match(/https?:\/\/[^"'\s<>]+\/o\/[A-Za-z0-9_-]+/)![0];
  const click = html.match(/https?:\/\/[^"'\s<>]+\/c\/[A-Za-z0-9_-]+/)![0];
  return { id, campaign, recipient, pixel, click };
}

const count = async (page: Page, card: string) =>
  Number((await page.getByTestId(card).locator('.value').innerText()).replace(/,/g, ''));

test('the cards follow opens and clicks live, and the table shows them', async ({ page }, info) => {
  test.skip(!withJs(info), 'live updates need JavaScript');
  const m = untouchedMessage(info.project.name);
  await signIn(page, info);
  await page.goto(`/campaigns/${m.campaign}`);
  await hydrated(page);
  await expect(page.getByTestId('cards')).toHaveAttribute('data-live', 'on');
  const opened = await count(page, 'card-opened');
  const clicked = await count(page, 'card-clicked');

  // The recipient's mail client loads the pixel: the card moves, no reload.
  const pixel = await page.request.get(m.pixel, { headers: { 'user-agent': CHROME } });
  expect(pixel.status()).toBe(200);
  expect(pixel.headers()['content-type']).toBe('image/gif');
  await expect.poll(() => count(page, 'card-opened')).toBe(opened + 1);
  // A click goes where the link pointed.
  const click = await page.request.get(m.click, { headers: { 'user-agent': CHROME }, maxRedirects: 0 });
  expect(click.status()).toBe(302);
  expect(click.headers()['location']).toMatch(/^https:\/\/northwind\.example\//);
  await expect.poll(() => count(page, 'card-clicked')).toBe(clicked + 1);

  // The per-recipient table shows the open and the click.
  await page.goto(`/campaigns/${m.campaign}?filter=opened&search=${encodeURIComponent(m.recipient)}`);
  const row = page.locator(`tr[data-message="${m.id}"]`);
  await expect(row).toHaveClass(/good/);
  await expect(row.getByTestId('opened')).toContainText('1×');
  await expect(row.getByTestId('clicked')).toContainText('1×');
});

test('the per-recipient table filters, sorts, pages and exports as CSV', async ({ page }, info) => {
  await signIn(page, info);
  const campaign = sql(
    `SELECT campaign_id FROM message GROUP BY campaign_id ORDER BY COUNT(*) DESC LIMIT 1`,
  );
  await page.goto(`/campaigns/${campaign}`);
  if (withJs(info)) await hydrated(page);
  await expect(page.getByTestId('recipient-count')).toContainText('page 1 of');
  // Bounced rows are red.
  await page.getByLabel('Show').selectOption('bounced');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/filter=bounced/);
  const rows = page.getByTestId('recipient-table').locator('tbody tr');
  await expect(rows.first()).toHaveClass(/bad/);
  // Sorted by opens, largest first.
  await page.goto(`/campaigns/${campaign}?filter=opened`);
  await page.getByRole('link', { name: 'Opened' }).click();
  await expect(page).toHaveURL(/sort=opens&desc=true/);
  const first = await page.getByTestId('opened').first().innerText();
  const last = await page.getByTestId('opened').last().innerText();
  const times = (s: string) => Number(s.match(/(\d+)×/)![1]);
  expect(times(first)).toBeGreaterThanOrEqual(times(last));
  // The export downloads the filtered table.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('csv-export').click(),
  ]);
  expect(download.suggestedFilename()).toBe(`campaign-${campaign}-recipients.csv`);
  const csv = readFileSync(await download.path(), 'utf8');
  const lines = csv.trim().split('\n');
  expect(lines[0]).toContain('name,recipient,contact_id,status');
  expect(lines.length).toBeGreaterThan(1);
});

test('the chart spans a campaign from its first opens, in evenly spaced periods', async ({ page }, info) => {
  await signIn(page, info);
  // The demo campaign whose opens and clicks span the longest time.
  const campaign = sql(
    `SELECT campaign_id FROM campaign_hour GROUP BY campaign_id
     ORDER BY MAX(hour) > MIN(hour) DESC, COUNT(*) DESC LIMIT 1`,
  );
  const firstHour = new Date(sql(`SELECT MIN(hour) FROM campaign_hour WHERE campaign_id = ${campaign}`).replace(' ', 'T'));
  const opens = Number(sql(`SELECT SUM(opens) FROM campaign_hour WHERE campaign_id = ${campaign}`));
  await page.goto(`/campaigns/${campaign}`);
  const legend = await page.locator('.legend').innerText();
  const m = legend.match(/clicks per (hour|\d+ hours|day|week) \(UTC\) · ([\d,]+) opens and [\d,]+ clicks from (\S+ \S+) UTC/);
  expect(m, legend).not.toBeNull();
  // Every open is drawn, from the first one's period on (not only the latest hours).
  expect(Number(m![2].replace(/,/g, ''))).toBe(opens);
  const from = new Date(`${m![3].replace(' ', 'T')}:00Z`);
  expect(from.getTime()).toBeLessThanOrEqual(firstHour.getTime());
  expect(firstHour.getTime() - from.getTime()).toBeLessThan(7 * 24 * 3600 * 1000);
  const bars = await page.getByTestId('chart').locator('g').count();
  expect(bars).toBeGreaterThan(1);
  expect(bars).toBeLessThanOrEqual(72);
});

test('the weekly volume has a row for every week of the last 90 days, quiet ones too', async ({ page }, info) => {
  await signIn(page, info);
  await page.goto('/reports');
  const weeks = await page.getByTestId('weeks').locator('tbody td.when').allInnerTexts();
  // 90 days reach into 13 or 14 weeks.
  expect(weeks.length).toBeGreaterThanOrEqual(13);
  expect(weeks.length).toBeLessThanOrEqual(14);
  const days = weeks.map((w) => Date.parse(`${w}T00:00:00Z`) / 86_400_000);
  for (let i = 1; i < days.length; i++) expect(days[i] - days[i - 1], weeks[i]).toBe(7);
  const today = new Date();
  const monday = Math.floor(today.getTime() / 86_400_000) - ((today.getUTCDay() + 6) % 7);
  expect(days[days.length - 1], 'the last row is this week').toBe(monday);
});

const reportPages = async (page: Page) => {
  const campaign = sql(
    `SELECT campaign_id FROM message GROUP BY campaign_id ORDER BY COUNT(*) DESC LIMIT 1`,
  );
  return ['/campaigns', `/campaigns/${campaign}`, '/reports'];
};

test('report pages fit a 390 px phone', async ({ page }, info) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, info);
  for (const path of await reportPages(page)) {
    await page.goto(path);
    if (withJs(info)) await hydrated(page);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, path).toBeLessThanOrEqual(390);
  }
});

test('report pages and the template editor have no accessibility violations', async ({ page }, info) => {
  test.skip(!withJs(info), 'axe runs as a script in the page');
  test.setTimeout(120_000);
  await signIn(page, info);
  const template = sql(`SELECT id FROM template WHERE kind = 'welcome' ORDER BY id LIMIT 1`);
  for (const path of [...(await reportPages(page)), `/templates/${template}`, '/templates/new', '/campaigns/new', '/contacts', '/messages', '/actions', '/settings/sending']) {
    await page.goto(path);
    if (withJs(info)) await hydrated(page);
    // axe-core's WCAG 2 A and AA rules, on the page itself (the template preview is a
    // sandboxed frame that runs no script).
    await page.addScriptTag({ path: createRequire(__filename).resolve('axe-core/axe.min.js') });
    const violations = await page.evaluate(async () => {
      const axe = (window as any).axe;
      const results = await axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] },
        iframes: false,
      });
      return results.violations.map(
        (v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`,
      );
    });
    expect(violations, path).toEqual([]);
  }
});
