import { DEMO, expect, herald, hydrated, signIn, sql, test, withJs } from './helpers';

// Sending for real into the development mailbox (the demo instance has no provider): a
// campaign activated in the builder sends and its page counts what left; a message's
// List-Unsubscribe header unsubscribes in one click (RFC 8058), and its preference centre works
// with and without JavaScript (it needs none).


test('an immediate campaign activated in the builder sends, and its page counts the messages', async ({ page }, info) => {
  test.skip(!withJs(info), 'the builder needs JavaScript');
  await signIn(page, info);
  await page.getByRole('link', { name: 'New campaign' }).click();
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Send now from the browser');
  const template = page.getByLabel('Template to send');
  const welcome = await template.locator('option', { hasText: 'Welcome to Northwind' }).getAttribute('value');
  await template.selectOption(welcome!);
  await page.getByLabel('When does it send?').selectOption('immediately');
  const number = async (id: string) => Number((await page.getByTestId(id).innerText()).replace(/\D/g, ''));
  await expect(page.getByTestId('matched')).toBeVisible();
  const everyone = await number('matched');
  await page.getByRole('button', { name: 'Add a condition' }).click();
  await page.getByLabel('Condition', { exact: true }).selectOption('credential');
  await page.getByLabel('Sender address').fill('news@northwind.example');
  await expect(page.getByTestId('problems')).toHaveText('Ready to activate.');
  // The count follows the condition (it is asked again after a pause in typing).
  await expect.poll(() => number('matched')).toBeLessThan(everyone);
  const reach = await number('reach');
  const matched = await number('matched');
  expect(reach).toBeGreaterThan(0);
  expect(reach).toBeLessThanOrEqual(matched);

  await page.getByRole('button', { name: 'Activate…' }).click();
  const dialog = page.getByRole('alertdialog', { name: 'Activate this campaign?' });
  await expect(dialog).toContainText('It starts sending to');
  await dialog.getByRole('button', { name: 'Yes, activate' }).click();
  await expect(page.getByTestId('builder-status')).toHaveText(/Active|Completed/);
  const id = page.url().match(/campaigns\/(\d+)\/edit/)![1];

  // The messages leave within seconds; the campaign page counts them (sent plus skipped is
  // everyone the audience matched).
  const metric = (label: string) => page.locator('.metric', { has: page.locator('.label', { hasText: label }) }).locator('.value');
  await expect.poll(async () => {
    await page.goto(`/campaigns/${id}`);
    return Number((await metric('Sent').innerText()).replace(/\D/g, ''));
  }, { timeout: 30_000 }).toBeGreaterThan(0);
  await expect.poll(async () => {
    await page.goto(`/campaigns/${id}`);
    return page.getByTestId('campaign-status').innerText();
  }, { timeout: 30_000 }).toBe('Completed');
  const sent = Number((await metric('Sent').innerText()).replace(/\D/g, ''));
  const inMailbox = Number(sql(`SELECT COUNT(*) FROM mailbox_message m JOIN message g ON g.id = m.message_id WHERE g.campaign_id = ${id}`));
  expect(inMailbox).toBe(sent);
  // One message row for everyone the audience matched (those not sent were skipped, each with
  // its reason), and the builder's reach was exactly who got one (the demo has no caps or
  // quiet periods that would thin a run).
  expect(Number((await metric('Recipients').innerText()).replace(/\D/g, ''))).toBe(matched);
  expect(sent).toBe(reach);
});

test('one click on a received message\'s List-Unsubscribe header unsubscribes; the preference centre saves', async ({ page, request }, info) => {
  const key = herald(['api-key', 'create', '--org', 'demo', '--name', `e2e ${info.project.name}`]).match(/hk_\S+/)![0];
  // A subscribed contact with an address on no suppression list, another per project.
  const email = sql(`SELECT email FROM contact WHERE org_id = ${DEMO} AND status = 'active' AND marketing_consent = 1
    AND email IS NOT NULL AND email NOT IN (SELECT email FROM address_list_entry)
    ORDER BY id LIMIT 1 OFFSET ${withJs(info) ? 3 : 4}`);
  const template = sql(`SELECT id FROM template WHERE org_id = ${DEMO} AND name = 'Spring offer'`);
  const sent = await request.post('/api/v1/messages', {
    headers: { Authorization: `Bearer ${key}`, 'Idempotency-Key': `e2e-${info.project.name}-${Date.now()}` },
    data: { template_id: Number(template), email, message_type: 'marketing' },
  });
  expect(sent.status()).toBe(202);
  const id = (await sent.json()).id;

  // The message arrives in the development mailbox with the RFC 8058 headers.
  let raw = '';
  await expect.poll(() => (raw = sql(`SELECT raw FROM mailbox_message WHERE message_id = ${id}`)).length, { timeout: 20_000 }).toBeGreaterThan(0);
  expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
  const url = new URL(raw.match(/^List-Unsubscribe: <([^>]+)>/m)![1]);
  const path = url.pathname;

  // Opening the link (as a link scanner does) changes nothing; the page offers the choice.
  await page.goto(path);
  await expect(page.getByRole('heading', { name: 'Email preferences' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Unsubscribe from marketing messages' })).toBeVisible();
  await expect(page.getByLabel('Marketing messages')).toBeChecked();

  // The preference centre: a plain form, the same with JavaScript and without.
  await page.getByLabel('Newsletters').uncheck();
  await page.getByRole('button', { name: 'Save preferences' }).click();
  await expect(page.getByRole('status')).toHaveText('Your preferences are saved.');
  await expect(page.getByLabel('Newsletters')).not.toBeChecked();
  await expect(page.getByLabel('Marketing messages')).toBeChecked();
  expect(sql(`SELECT newsletter_consent FROM contact WHERE email = '${email}' AND org_id = ${DEMO}`)).toBe('0');

  // One click from the mail client: a POST with no cookie, no login, no redirect.
  const oneClick = await request.post(path, { form: { 'List-Unsubscribe': 'One-Click' }, maxRedirects: 0 });
  expect(oneClick.status()).toBe(200);
  await page.goto(path);
  await expect(page.getByLabel('Marketing messages')).not.toBeChecked();
  await expect(page.getByLabel('Newsletters')).not.toBeChecked();
  expect(sql(`SELECT marketing_consent FROM contact WHERE email = '${email}' AND org_id = ${DEMO}`)).toBe('0');

  // A tampered token is a plain 404, on GET and POST.
  const tampered = path.slice(0, -3) + (path.endsWith('AAA') ? 'BBB' : 'AAA');
  expect((await request.get(tampered)).status()).toBe(404);
  expect((await request.post(tampered, { form: { 'List-Unsubscribe': 'One-Click' } })).status()).toBe(404);

  // Reports show how quickly unsubscribes took effect.
  await signIn(page, info);
  await page.goto('/reports');
  const unsubscribes = page.getByTestId('unsubscribes');
  await expect(unsubscribes).toContainText('Suppressed: the slowest took effect at once');
  await expect(unsubscribes).toContainText('no message of the kind they left reached them afterwards');
});
