import { expect, hydrated, signIn, test, withJs } from './helpers';

// Most pages live in parts of the bundle fetched when first shown (one part per area). A page
// loaded directly must hydrate with its part: the `test` of ./helpers fails on any error in
// the page, and a link clicked afterwards must be followed in the page, not by a new load.
const pages = [
  '/campaigns',
  '/campaigns/new',
  '/reports',
  '/templates',
  '/templates/new',
  '/contacts',
  '/contacts/groups',
  '/contacts/segments',
  '/contacts/lists',
  '/contacts/import',
  '/settings',
  '/settings/system',
  '/settings/sending',
  '/contacts/send?all=1',
  '/messages',
  '/messages?list=valid_pass',
  '/mailbox',
  '/actions',
  '/notifications',
];

test('every area hydrates when its page is the first one loaded', async ({ page }, info) => {
  test.skip(!withJs(info), 'hydration needs JavaScript');
  // Two dozen pages, each loaded and hydrated from scratch.
  test.setTimeout(120_000);
  await signIn(page, info);
  // Detail pages of each area, found from their lists.
  const details: string[] = [];
  for (const [list, link] of [
    ['/campaigns', 'Welcome series'],
    ['/templates', 'Welcome to Northwind'],
    ['/contacts', null],
    ['/contacts/lists', null],
  ] as const) {
    await page.goto(list);
    const anchor = link
      ? page.getByRole('main').getByRole('link', { name: link }).first()
      : page.getByRole('main').locator('tbody tr a').first();
    details.push((await anchor.getAttribute('href'))!);
  }
  expect(details.every((href) => href.startsWith('/'))).toBe(true);

  for (const path of [...pages, ...details]) {
    await page.goto(path);
    await hydrated(page);
    await expect(page.locator('main.page')).not.toBeEmpty();
    // A marker on `window` survives only a navigation the hydrated router made itself.
    await page.evaluate((marker) => { (window as any).heraldMarker = marker; }, path);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
    await expect(page).toHaveURL(/\/reports$/);
    expect(await page.evaluate(() => (window as any).heraldMarker), `${path} hydrated`).toBe(path);
  }
});
