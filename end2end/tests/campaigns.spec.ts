import { ADMIN, expect, hydrated, signIn, test, withJs } from './helpers';

test('sign in, see the demo campaigns, filter to Active, open one, sign out', async ({ page }, info) => {

  // Signed-out visitors are sent to the sign-in page.
  await page.goto('/campaigns');
  await expect(page).toHaveURL(/\/login$/);

  await signIn(page, info);
  await expect(page.getByRole('heading', { name: 'Campaigns' })).toBeVisible();
  await expect(page.getByTestId('current-user')).toHaveText('Ada Admin');

  const rows = page.getByTestId('campaign-table').locator('tbody tr');
  // The eleven demo campaigns (other tests may have added their own).
  await expect(rows.filter({ hasText: 'Monthly newsletter' })).toHaveCount(1);
  expect(await rows.count()).toBeGreaterThanOrEqual(11);
  await expect(page.getByRole('link', { name: 'Welcome series' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Untitled' }).first()).toBeVisible();
  // Numbers with rates, from the message history.
  const welcome = rows.filter({ hasText: 'Welcome series' });
  await expect(welcome.locator('td.num .rate').first()).toHaveText(/%$/);

  if (withJs(info)) {
    // Once hydrated, filtering is client-side navigation: the page is not reloaded.
    await page.evaluate(() => ((window as any).__stillHere = true));
  }
  await page.getByRole('navigation', { name: 'Filter campaigns' }).getByRole('link', { name: 'Active', exact: true }).click();
  await expect(page).toHaveURL(/\/campaigns\?status=active$/);
  // The demo's five active campaigns (and any that other tests activated, such as the
  // transactional "API: …" campaigns): every row active, the completed ones gone.
  await expect(page.getByRole('link', { name: 'Spring offer', exact: true })).toHaveCount(0);
  await expect(rows.filter({ hasText: 'Welcome series' })).toHaveCount(1);
  expect(await rows.count()).toBeGreaterThanOrEqual(5);
  for (const status of await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status')))) {
    expect(status).toBe('active');
  }
  if (withJs(info)) {
    expect(await page.evaluate(() => (window as any).__stillHere)).toBe(true);
  }

  await page.getByRole('link', { name: 'Welcome series' }).click();
  await expect(page.getByRole('heading', { name: 'Welcome series' })).toBeVisible();
  for (const label of ['Recipients', 'Sent', 'Delivered', 'Opened', 'Clicked']) {
    await expect(page.locator('.metric .label', { hasText: new RegExp(`^${label}$`) })).toBeVisible();
  }

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/campaigns');
  await expect(page).toHaveURL(/\/login$/);
});

test('a wrong password is refused with a clear message', async ({ page }, info) => {
  await page.goto('/login');
  if (withJs(info)) await hydrated(page);
  await page.getByLabel('Email address').fill(ADMIN.email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong email address or password.');
  await expect(page).toHaveURL(/\/login/);
});

test('the reports page shows deliverability, volume and engagement', async ({ page }, info) => {
  await signIn(page, info);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
  await expect(page.getByRole('heading', { name: 'Reports', exact: true })).toBeVisible();
  await expect(page.getByTestId('bounce-rate')).toContainText('%');
  await expect(page.getByTestId('complaint-rate')).toContainText('%');
  // Against each provider's line, Gmail's and SES's.
  const lines = page.getByTestId('complaint-line');
  await expect(lines.nth(0)).toContainText('Gmail and Yahoo: keep under 0.1 %, never reach 0.3 %.');
  await expect(lines.nth(1)).toContainText('Amazon SES: keep under 0.1 %, never reach 0.5 %.');
  await expect(page.getByTestId('unsubscribes')).toContainText('Gmail and Yahoo');
  await expect(page.getByTestId('weeks').locator('tbody tr').first()).toBeVisible();
  await expect(page.getByTestId('engagement').locator('tbody tr').first()).toBeVisible();
  if (!withJs(info)) {
    // The builder is interactive; without JavaScript it says so instead of half-working.
    await page.goto('/campaigns/new');
    await expect(page.getByTestId('needs-js')).toHaveText('The campaign builder needs JavaScript.');
  }
});
