import { expect, hydrated, signIn, test, withJs } from './helpers';

// The builder and the template editor are interactive: they run with JavaScript. Activation
// from the campaign list is a plain form and is tested both ways.

test('build a campaign template first, then trigger, then audience; a duplicate is flagged; activate through the confirmation; deactivate', async ({ page }, info) => {
  test.skip(!withJs(info), 'the builder needs JavaScript');
  await signIn(page, info);
  await page.getByRole('link', { name: 'New campaign' }).click();
  await expect(page).toHaveURL(/\/campaigns\/new$/);
  await hydrated(page);
  await expect(page.getByTestId('needs-js')).toHaveCount(0);
  const count = page.getByTestId('audience-count');
  await expect(count).toContainText(/\d match the filters/);
  const everyone = await count.locator('.big-number').innerText();

  // 1. Template first: the same template as the active "Expiry reminder, 30 days before".
  await page.getByLabel('Template to send').selectOption({ label: 'Credential expires soon (credential_expiry)' });
  const conflicts = page.getByTestId('conflict');
  await expect(conflicts.first()).toContainText('Expiry reminder, 30 days before');
  await expect(conflicts.first()).toContainText('contacts would get both');
  await expect(conflicts.first()).toContainText('The trigger is not set yet');

  // 2. Then the trigger: 30 days before a credential expires, as the other one.
  await page.getByLabel('When does it send?').selectOption('relative');
  await expect(page.getByTestId('trigger-summary')).toHaveText('30 days before a credential expires');
  await expect(conflicts.first()).toContainText('Duplicate');
  await expect(conflicts.first()).toContainText('Both send on the same day.');
  await expect(conflicts.first()).toContainText('Change the timing');

  // Moving it far away makes it a possible duplicate only.
  await page.getByLabel('How many').fill('90');
  await page.getByLabel('How many').press('Tab');
  await expect(page.getByTestId('trigger-summary')).toHaveText('90 days before a credential expires');
  await expect(conflicts.first()).toContainText('Possible duplicate');

  // 3. Then the audience: credentials expiring in the next 30 days; the count follows.
  await page.getByRole('button', { name: 'Add a condition' }).click();
  await page.getByLabel('Condition', { exact: true }).selectOption('credential');
  await expect(count.locator('.big-number')).not.toHaveText(everyone);
  await expect(count).toContainText(/\d match the filters/);

  // What is missing, in words, until it is complete.
  const problems = page.getByTestId('problems');
  await expect(problems).toContainText('Give the campaign a name.');
  await expect(page.getByRole('button', { name: 'Activate…' })).toBeDisabled();
  await page.getByLabel('Name', { exact: true }).fill('Expiry: last call');
  await page.getByLabel('Campaign type').selectOption('event_triggered');
  await expect(problems).toContainText("Set the sender's email address.");
  await page.getByLabel('Sender address').fill('news@northwind.example');
  await expect(problems).toHaveText('Ready to activate.');

  // Activation asks first.
  await page.getByRole('button', { name: 'Activate…' }).click();
  const dialog = page.getByRole('alertdialog', { name: 'Activate this campaign?' });
  // A relative trigger is checked once a day, and the dialog says so.
  await expect(dialog).toContainText('It sends to the contacts of');
  await expect(dialog).toContainText('checked once a day');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('builder-status')).toHaveText('Draft');
  await page.getByRole('button', { name: 'Activate…' }).click();
  await dialog.getByRole('button', { name: 'Yes, activate' }).click();
  await expect(page.getByTestId('builder-status')).toHaveText('Active');
  await expect(page.getByTestId('builder-note')).toContainText('Activated');
  await expect(page).toHaveURL(/\/campaigns\/\d+\/edit$/);

  // Deactivate at any time.
  await page.getByRole('button', { name: 'Deactivate' }).click();
  await expect(page.getByTestId('builder-status')).toHaveText('Inactive');

  // The list shows it, and filters by type and channel.
  await page.goto('/campaigns?kind=event_triggered&channel=email');
  const rows = page.getByTestId('campaign-table').locator('tbody tr');
  await expect(rows.filter({ hasText: 'Expiry: last call' })).toHaveAttribute('data-status', 'inactive');
  await expect(rows.filter({ hasText: 'Monthly newsletter' })).toHaveCount(0);
});

test('activate a campaign from the list after confirming, then deactivate it', async ({ page }, info) => {
  await signIn(page, info);
  const row = page.getByTestId('campaign-table').locator('tbody tr').filter({ hasText: 'Renewal offer (draft)' });
  await expect(row).toHaveAttribute('data-status', /draft|inactive/);
  await row.getByText('Activate…').click();
  await row.getByRole('button', { name: 'Yes, activate' }).click();
  await expect(row).toHaveAttribute('data-status', 'active');
  await row.getByRole('button', { name: 'Deactivate Renewal offer (draft)' }).click();
  await expect(row).toHaveAttribute('data-status', 'inactive');
});

test('write a template: syntax errors block saving, tags go in at the cursor, the preview renders a real contact', async ({ page }, info) => {
  test.skip(!withJs(info), 'the template editor needs JavaScript');
  await signIn(page, info);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
  await expect(page.getByTestId('template-table')).toContainText('Credential expires soon');
  await page.getByRole('link', { name: 'New template' }).click();
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Seminar invitation');
  await page.getByLabel('Subject', { exact: true }).fill('An invitation for you');
  const html = page.getByLabel('HTML body');
  await html.fill('<p>Dear {% if %}</p>');
  const issues = page.getByTestId('template-issues');
  await expect(issues).toContainText('HTML body, line 1, column');
  await expect(page.getByRole('button', { name: 'Save template' })).toBeDisabled();

  await html.fill('<p>Dear </p>');
  await html.focus();
  await html.evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(8, 8));
  await page.getByRole('button', { name: 'First name' }).click();
  await expect(html).toHaveValue('<p>Dear {{ contact.first_name }}</p>');
  await page.getByLabel('Text body').fill('Dear {{ contact.nickname }}');
  await expect(issues).toContainText('Text body: unknown tag “{{ contact.nickname }}”');
  await page.getByLabel('Text body').fill('Dear {{ contact.first_name }}');
  await expect(issues).toBeEmpty();

  // The preview: the first contact's name in the sandboxed frame.
  await expect(page.getByTestId('preview-subject')).toContainText('An invitation for you');
  const frame = page.frameLocator('iframe[title="HTML preview"]');
  await expect(frame.locator('p')).toHaveText(/^Dear \S+/);
  await expect(page.locator('iframe[title="HTML preview"]')).toHaveAttribute('sandbox', '');

  await page.getByRole('button', { name: 'Save template' }).click();
  await expect(page.getByTestId('template-saved')).toHaveText('Saved: version 1.');
  await expect(page).toHaveURL(/\/templates\/\d+$/);
  await page.getByLabel('Subject', { exact: true }).fill('An invitation for you, {{ contact.first_name }}');
  await page.getByRole('button', { name: 'Save template' }).click();
  await expect(page.getByTestId('template-saved')).toHaveText('Saved: version 2.');
});

test('a slow answer never replaces a newer one, and typing the name does not run the duplicate check again', async ({ page }, info) => {
  test.skip(!withJs(info), 'the builder needs JavaScript');
  await signIn(page, info);
  // The count of the first change is held back until after the second one was answered.
  let counts = 0;
  await page.route('**/api/count_audience', async (route) => {
    counts += 1;
    if (counts === 2) await new Promise((r) => setTimeout(r, 2500));
    await route.continue();
  });
  let checks = 0;
  await page.route('**/api/campaign_conflicts', async (route) => {
    checks += 1;
    await route.continue();
  });
  await page.goto('/campaigns/new');
  await hydrated(page);
  const count = page.getByTestId('audience-count');
  await expect(count).toContainText(/\d match the filters/);
  expect(counts).toBe(1);

  // What the server says a valid pass reaches.
  const expected = await page.request.post('/api/count_audience', {
    data: { filter: { filter: 'valid_pass' } },
  });
  const passHolders: number = (await expected.json()).count;

  await page.getByRole('button', { name: 'Add a condition' }).click();
  await page.getByLabel('Condition', { exact: true }).selectOption('credential');
  await expect.poll(() => counts).toBe(2); // asked, and held back
  await page.getByLabel('Condition', { exact: true }).selectOption('valid_pass');
  const shown = async () => Number((await page.getByTestId('matched').innerText()).replace(/\D/g, ''));
  await expect.poll(shown).toBe(passHolders);
  // The held-back answer arrives now, and is not shown.
  await page.waitForTimeout(3000);
  expect(counts).toBe(3);
  expect(await shown()).toBe(passHolders);

  // Name and description do not change who gets it: no duplicate check for them.
  await page.waitForTimeout(800);
  const before = checks;
  await page.getByLabel('Name', { exact: true }).fill('Only a name');
  await page.getByLabel('Name', { exact: true }).press('Tab');
  await page.getByLabel('Description').fill('Only words');
  await page.getByLabel('Description').press('Tab');
  await page.waitForTimeout(1500);
  expect(checks).toBe(before);
  // The template does.
  await page.getByLabel('Template to send').selectOption({ label: 'Credential expires soon (credential_expiry)' });
  await expect.poll(() => checks).toBeGreaterThan(before);
});
