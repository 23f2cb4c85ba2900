import { expect, signIn, test, withJs } from './helpers';

test('an admin adds a user, who can then sign in', async ({ page, browser }, info) => {
  await signIn(page, info);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  const users = page.getByTestId('users');
  await expect(users.getByRole('cell', { name: 'marketer@demo.herald.test', exact: true })).toBeVisible();

  const email = `new-${info.project.name}@demo.herald.test`;
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Name', { exact: true }).fill(`New ${info.project.name}`);
  await page.getByLabel('Role', { exact: true }).selectOption('member');
  let password = 'chosen-password-123';
  if (withJs(info)) {
    // Hydrated: an empty password is generated and shown once.
    await page.getByRole('button', { name: 'Add user' }).click();
    const notice = page.getByRole('status');
    await expect(notice).toContainText('shown only this once');
    password = (await notice.textContent())!.split(': ').pop()!.trim();
  } else {
    await page.getByLabel('Password (empty: generate one)').fill(password);
    await page.getByRole('button', { name: 'Add user' }).click();
  }
  await expect(users.getByRole('cell', { name: email, exact: true })).toBeVisible();

  const context = await browser.newContext({ javaScriptEnabled: withJs(info) });
  const other = await context.newPage();
  await signIn(other, info, { email, password });
  await other.goto('/settings');
  await expect(other.getByTestId('users')).toHaveCount(0); // account managers do not manage users
  await context.close();
});

test('a bad password change is explained', async ({ page }, info) => {
  await signIn(page, info);
  await page.goto('/settings');
  await page.getByLabel('Current password').fill('herald-demo');
  await page.getByLabel('New password (at least 10 characters)').fill('one-new-password');
  await page.getByLabel('New password, again').fill('another-password');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toHaveText('The new password and its confirmation differ.');
});

test('an admin sees the job queue on the System page; a marketer may not', async ({ page, browser }, info) => {
  await signIn(page, info);
  await page.goto('/settings');
  await page.getByRole('link', { name: 'Open System' }).click();
  await expect(page).toHaveURL(/\/settings\/system$/);
  await expect(page.getByRole('heading', { name: 'System', exact: true })).toBeVisible();
  await expect(page.getByTestId('queue')).toBeVisible();
  await expect(page.getByTestId('failed-jobs')).toContainText('No failed jobs.');

  const context = await browser.newContext({ javaScriptEnabled: withJs(info) });
  const marketer = await context.newPage();
  await signIn(marketer, info, { email: 'marketer@demo.herald.test', password: 'herald-demo' });
  await marketer.goto('/settings');
  await expect(marketer.getByRole('link', { name: 'Open System' })).toHaveCount(0);
  await marketer.goto('/settings/system');
  await expect(marketer.getByRole('alert')).toContainText('As a marketer you may not see the system status.');
  await context.close();
});

test('an API key is made with only the scopes ticked', async ({ page }, info) => {
  await signIn(page, info);
  await page.goto('/settings');
  const keys = page.getByTestId('api-keys');
  const name = `Reporting ${info.project.name}`;
  await keys.getByLabel('New key for').fill(name);
  await keys.getByLabel(/create and change contacts/).uncheck();
  await keys.getByLabel(/activate campaigns/).uncheck();
  await keys.getByRole('button', { name: 'Create key' }).click();
  const row = keys.locator('tbody tr').filter({ hasText: name });
  await expect(row.getByTestId('key-scopes')).toHaveText('Read');
});
