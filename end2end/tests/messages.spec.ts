import { type APIRequestContext, type Page } from '@playwright/test';
import { DEMO, expect, herald, hydrated, publishDns, signIn, sql, test, withJs } from './helpers';

// Sending as people do it, against the demo instance (which sends into its development
// mailbox): send now from a selection on the contact list and read the messages in the Mailbox;
// an account manager reaches only their own contacts; a message that cannot be sent becomes an
// action, goes out once its address is fixed, and its run's notification says how it went; the
// reach breakdown follows a contact's consent.

const MANAGER = { email: 'manager@demo.herald.test', password: 'herald-demo' };

let key = '';
async function upsertContact(request: APIRequestContext, contact: Record<string, unknown>) {
  if (!key) key = herald(['api-key', 'create', '--org', 'demo', '--name', 'e2e messages']).match(/hk_\S+/)![0];
  const r = await request.post('/api/v1/contacts', {
    headers: { Authorization: `Bearer ${key}` },
    data: { contacts: [contact] },
  });
  expect(r.status()).toBe(200);
  return (await r.json()).results[0].id as number;
}

/// Searches the contact list and sends now to everyone it finds, with a message written there.
async function sendNowTo(page: Page, info: { project: { name: string } }, search: string, subject: string) {
  await page.goto(`/contacts?q=${encodeURIComponent(search)}`);
  if (withJs(info as never)) await hydrated(page);
  await page.getByRole('button', { name: /^Send now to all 1 matching/ }).click();
  await expect(page).toHaveURL(/\/contacts\/send\?/);
  if (withJs(info as never)) await hydrated(page);
  await expect(page.getByTestId('selection-size')).toHaveText('1 contacts selected');
  await page.getByLabel('Name').fill(subject);
  await page.getByLabel('Subject').fill(subject);
  await page.getByLabel('Text').fill('Hello {{ contact.first_name }},\n\nA message from the browser tests.');
  await page.getByRole('button', { name: 'Send now', exact: true }).click();
  await expect(page).toHaveURL(/\/campaigns\/\d+$/);
  return page.url().match(/campaigns\/(\d+)$/)![1];
}

test('send now from a selection: the message is in the mailbox, shown as a mail client would', async ({ page, request }, info) => {
  const email = `send-now-${info.project.name}@e2e.test`;
  await upsertContact(request, { email, first_name: 'Sunny', last_name: `Sender ${info.project.name}` });
  await signIn(page, info);
  const subject = `Sent now, ${info.project.name}`;
  const id = await sendNowTo(page, info, email, subject);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(subject);

  // Out within seconds, into the development mailbox.
  await expect.poll(async () => {
    await page.goto(`/mailbox?q=${encodeURIComponent(email)}`);
    return page.getByTestId('mailbox').locator('tbody tr').count();
  }, { timeout: 20_000 }).toBe(1);
  await page.getByRole('link', { name: subject }).click();
  await expect(page.getByTestId('mail-subject')).toHaveText(subject);
  await expect(page.getByTestId('mail-to')).toHaveText(email);
  await expect(page.getByTestId('mail-text')).toContainText('Hello Sunny,');
  const headers = page.getByTestId('mail-headers');
  await expect(headers.locator('th', { hasText: /^Message-ID$/i })).toHaveCount(1);
  await expect(headers).toContainText(subject);
  if (withJs(info)) {
    await expect(page.frameLocator('[data-testid=mail-html]').getByText('Hello Sunny,')).toBeVisible();
  }
  await expect(page.getByRole('link', { name: 'Open the campaign' })).toHaveAttribute('href', `/campaigns/${id}`);
  // The campaign was recorded when it was sent, and is in the list.
  await page.goto('/campaigns');
  await expect(page.getByRole('link', { name: subject })).toBeVisible();
});

test('an account manager sends to their own contacts and cannot reach anyone else', async ({ page, request }, info) => {
  await signIn(page, info, MANAGER);
  const mine = Number(sql(`SELECT COUNT(*) FROM contact WHERE org_id = ${DEMO} AND assigned_user_id =
    (SELECT id FROM app_user WHERE email = '${MANAGER.email}')`));
  expect(mine).toBeGreaterThan(0);
  await page.goto('/contacts');
  if (withJs(info)) await hydrated(page);
  await expect(page.getByTestId('contact-total')).toContainText(`${mine} contacts`);
  await page.getByRole('button', { name: /^Send now to all \d+ matching/ }).click();
  if (withJs(info)) await hydrated(page);
  await expect(page.getByTestId('selection-size')).toHaveText(`${mine} contacts selected`);
  const subject = `Manager's note, ${info.project.name}`;
  await page.getByLabel('Subject').fill(subject);
  await page.getByLabel('Text').fill('Hi {{ contact.first_name }}');
  await page.getByRole('button', { name: 'Send now', exact: true }).click();
  await expect(page).toHaveURL(/\/campaigns\/\d+$/);
  const id = page.url().match(/campaigns\/(\d+)$/)![1];
  // Every message is for one of the manager's contacts.
  expect(Number(sql(`SELECT COUNT(*) FROM message WHERE campaign_id = ${id}`))).toBe(mine);
  expect(Number(sql(`SELECT COUNT(*) FROM message m JOIN contact c ON c.id = m.contact_id WHERE m.campaign_id = ${id}
    AND c.assigned_user_id IS NOT (SELECT id FROM app_user WHERE email = '${MANAGER.email}')`))).toBe(0);

  // A forged request for someone else's contact sends nothing.
  const other = sql(`SELECT id FROM contact WHERE org_id = ${DEMO} AND assigned_user_id IS NULL ORDER BY id LIMIT 1`);
  const forged = await page.request.post('/api/send_now', {
    form: {
      name: 'Forged', channel: 'email', message_type: 'operational', template: 'quick', subject: 'x', body: 'x',
      audience: JSON.stringify({ filter: 'contacts', ids: [Number(other)] }),
    },
  });
  expect(forged.status()).toBe(422);
  expect(await forged.text()).toContain('None of these contacts is assigned to you');
});

test('a message without an address becomes an action, goes out once fixed, and the run is reported', async ({ page, request }, info) => {
  const last = `Nomail-${info.project.name}`;
  const name = `Nomail ${last}`;
  const id = await upsertContact(request, { email: `nomail-${info.project.name}@e2e.test`, first_name: 'Nomail', last_name: last });
  sql(`UPDATE contact SET email = NULL WHERE id = ${id}`);
  await signIn(page, info);
  const subject = `Missing address, ${info.project.name}`;
  const campaign = await sendNowTo(page, info, last, subject);

  // The campaign page says what waits in Actions.
  await expect.poll(async () => {
    await page.goto(`/campaigns/${campaign}`);
    return page.getByTestId('open-actions').count();
  }, { timeout: 20_000 }).toBe(1);
  await expect(page.getByTestId('open-actions')).toContainText('1 could not be sent');

  // The bell counts the notification; the run failed (nothing went out).
  // (The action is written by the fan-out; the run is done, and reported, once its senders
  // finish.)
  await expect.poll(async () => {
    await page.goto(`/campaigns/${campaign}`);
    return page.getByTestId('campaign-status').innerText();
  }, { timeout: 20_000 }).toBe('Completed');
  await expect(page.getByTestId('unread')).toBeVisible();
  await page.getByTestId('bell').click();
  await expect(page).toHaveURL(/\/notifications$/);
  const note = page.getByTestId('notifications').locator('li', { hasText: subject });
  await expect(note).toHaveAttribute('data-outcome', 'failed');
  await expect(note).toContainText('Campaign failed');
  await expect(note).toContainText('0 sent, 1 not sent');

  // Fix the address in Actions and send.
  await note.getByRole('link', { name: 'Its actions' }).click();
  if (withJs(info)) await hydrated(page);
  const row = page.getByTestId('actions').locator('tbody tr', { hasText: name });
  await expect(row).toContainText('No email address');
  const fixed = `fixed-${info.project.name}@e2e.test`;
  await row.getByLabel(`New email address for ${name}`).fill(fixed);
  await row.getByRole('button', { name: 'Save and send' }).click();
  if (withJs(info)) await expect(page.locator('p.notice', { hasText: '1 sent' })).toBeVisible();
  await expect(page.getByTestId('actions-empty')).toBeVisible();
  await page.goto(`/actions?campaign=${campaign}&state=sent`);
  await expect(page.getByTestId('actions').locator('tbody tr', { hasText: name })).toContainText('Sent');
  await expect.poll(() => sql(`SELECT COUNT(*) FROM mailbox_message WHERE recipient = '${fixed}'`), { timeout: 20_000 }).toBe('1');
});

test('the reach breakdown follows a contact withdrawing consent', async ({ page, request }, info) => {
  test.skip(!withJs(info), 'choosing the type live needs JavaScript (without it the page shows the reach of its defaults)');
  const email = `reach-${info.project.name}@e2e.test`;
  await upsertContact(request, { email, first_name: 'Rita', last_name: 'Reach', marketing_consent: true });
  await signIn(page, info);
  await page.goto(`/contacts?q=${encodeURIComponent(email)}`);
  await hydrated(page);
  await page.getByRole('button', { name: /^Send now to all 1 matching/ }).click();
  await hydrated(page);
  await page.getByLabel('Type of message').selectOption('marketing');
  await expect(page.getByTestId('reach')).toHaveText('1 will receive it');
  await expect(page.getByTestId('left-out')).toHaveCount(0);

  await upsertContact(request, { email, marketing_consent: false });
  // A fresh load (a reload would restore the form's choices without telling the page).
  await page.goto(page.url());
  await hydrated(page);
  await page.getByLabel('Type of message').selectOption('marketing');
  await expect(page.getByTestId('reach')).toHaveText('0 will receive it');
  await expect(page.getByTestId('left-out')).toHaveText('1 unsubscribed from marketing');
  // Operational messages do not ask for consent.
  await page.getByLabel('Type of message').selectOption('operational');
  await expect(page.getByTestId('reach')).toHaveText('1 will receive it');
});

test('Messages: a bulk message to a mailing list is sent and recorded as a campaign', async ({ page }, info) => {
  await signIn(page, info);
  await page.getByRole('link', { name: 'Messages', exact: true }).click();
  await expect(page).toHaveURL(/\/messages$/);
  if (withJs(info)) await hydrated(page);
  await page.getByLabel('Send to').selectOption('valid_pass');
  await page.getByRole('button', { name: 'Show the recipients' }).click();
  await expect(page).toHaveURL(/list=valid_pass/);
  if (withJs(info)) await hydrated(page);
  const size = page.getByTestId('selection-size');
  await expect(size).toContainText('on this mailing list');
  const holders = Number((await size.innerText()).replace(/\D/g, ''));
  // The audience engine's count of valid pass holders (the builder's).
  const counted = await page.request.post('/api/count_audience', { data: { filter: { filter: 'valid_pass' } } });
  expect(holders).toBe((await counted.json()).count);
  expect(holders).toBeGreaterThan(0);
  const subject = `Pass holders, ${info.project.name}`;
  await page.getByLabel('Subject').fill(subject);
  await page.getByLabel('Text').fill('Your pass is valid, {{ contact.first_name }}.');
  await page.getByRole('button', { name: 'Send now', exact: true }).click();
  await expect(page).toHaveURL(/\/campaigns\/\d+$/);
  const id = page.url().match(/campaigns\/(\d+)$/)![1];
  // No name: the campaign is "Untitled", with one message row per holder (written by the run's
  // job, which may still be going when the page shows).
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Untitled');
  await expect
    .poll(() => Number(sql(`SELECT COUNT(*) FROM message WHERE campaign_id = ${id}`)))
    .toBe(holders);
});

test('a test send from the template editor arrives marked as a test', async ({ page }, info) => {
  test.skip(!withJs(info), 'the template editor needs JavaScript');
  await signIn(page, info);
  await page.goto('/templates');
  await page.getByRole('link', { name: 'Welcome to Northwind' }).click();
  await hydrated(page);
  const before = Number(sql(`SELECT COUNT(*) FROM mailbox_message WHERE subject LIKE '[Test]%'`));
  const test_ = page.getByTestId('test-send');
  await test_.locator('summary').click();
  await test_.getByLabel('Send the test to').selectOption('me');
  await test_.getByRole('button', { name: 'Send the test' }).click();
  await expect(test_.locator('p.notice')).toHaveText('Test sent to admin@demo.herald.test.');
  expect(Number(sql(`SELECT COUNT(*) FROM mailbox_message WHERE subject LIKE '[Test]%'`))).toBe(before + 1);
  const raw = sql(`SELECT raw FROM mailbox_message WHERE subject LIKE '[Test]%' ORDER BY id DESC LIMIT 1`);
  expect(raw).toMatch(/^X-Herald-Test: yes/);
  expect(sql(`SELECT message_id IS NULL FROM mailbox_message WHERE subject LIKE '[Test]%' ORDER BY id DESC LIMIT 1`)).toBe('1');
});

test('Settings → Sending: a test through the provider, a sender identity, a domain, its DNS record and its check', async ({ page }, info) => {
  await signIn(page, info);
  await page.goto('/settings');
  await page.getByRole('link', { name: 'Open Sending' }).click();
  await expect(page).toHaveURL(/\/settings\/sending$/);
  if (withJs(info)) await hydrated(page);
  await expect(page.getByTestId('email-route')).toHaveText('the development mailbox');
  await page.getByRole('button', { name: 'Send a test email to me' }).click();
  if (withJs(info)) {
    await expect(page.getByTestId('check-answer')).toContainText('The development mailbox took the message to admin@demo.herald.test');
  }
  await expect(page.getByTestId('last-answer-email')).toContainText('took a message');

  const address = `news-${info.project.name}@northwind.example`;
  await page.getByLabel('From name').fill(`Northwind ${info.project.name}`);
  await page.getByLabel('From address').fill(address);
  await page.getByRole('button', { name: 'Add the identity' }).click();
  await expect(page.getByTestId('identities')).toContainText(address);

  const domain = `e2e-${info.project.name}.northwind.example`;
  await page.getByLabel('Domain', { exact: true }).fill(domain);
  await page.getByRole('button', { name: 'Add the domain' }).click();
  const card = page.getByTestId(`domain-${domain}`);
  await expect(card.getByTestId('dkim-name')).toHaveText(`herald._domainkey.${domain}`);
  await expect(card.getByTestId('dkim-value')).toContainText('v=DKIM1; k=rsa; p=');
  await expect(card).toContainText('Not checked yet');
  // The private key is never shown.
  expect(await page.content()).not.toContain('PRIVATE KEY');

  // Checked before anything is published: every rule fails, saying what to publish.
  const check = card.getByRole('button', { name: 'Check the DNS records now' });
  await check.click();
  await expect(card.getByTestId('domain-summary')).toContainText('Does not meet');
  await expect(card.getByTestId('rule-dmarc')).toContainText(`_dmarc.${domain}`);
  await expect(card.getByTestId('rule-spf')).toContainText('No SPF record');

  // The records published (in the DNS server the instance asks): the domain meets the rules.
  const name = (await card.getByTestId('dkim-name').textContent())!;
  const value = (await card.getByTestId('dkim-value').textContent())!;
  publishDns(info.project.name, {
    records: [
      [domain, 'TXT', 'v=spf1 include:relay.northwind.example ~all'],
      [name, 'TXT', value],
      [`_dmarc.${domain}`, 'TXT', 'v=DMARC1; p=none; rua=mailto:dmarc@northwind.example'],
    ],
  });
  await check.click();
  await expect(card.getByTestId('domain-summary')).toContainText("Meets Gmail's, Yahoo's and Outlook.com's rules for bulk mail.");
  for (const rule of ['spf', 'dkim', 'dmarc', 'alignment']) {
    await expect(card.getByTestId(`rule-${rule}`)).toContainText('OK');
  }
  await expect(card.getByTestId('rule-dkim')).toContainText("Herald's key is published");
  // Kept: a fresh load shows the last check.
  await page.reload();
  await expect(page.getByTestId(`domain-${domain}`).getByTestId('domain-summary')).toContainText('Meets');
});
