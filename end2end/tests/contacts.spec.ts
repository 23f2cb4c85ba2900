import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

test('contacts: browse pages and search', async ({ page }, info) => {
  await signIn(page, info);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contacts' }).click();
  await expect(page.getByRole('heading', { name: 'Contacts', exact: true })).toBeVisible();
  await expect(page.getByTestId('contact-total')).toHaveText('3,000 contacts · page 1 of 60');
  const rows = page.getByTestId('contact-table').locator('tbody tr');
  await expect(rows).toHaveCount(50);

  await page.getByRole('link', { name: 'Next →' }).click();
  await expect(page).toHaveURL(/\/contacts\?page=2$/);
  await expect(page.getByTestId('contact-total')).toHaveText('3,000 contacts · page 2 of 60');

  await page.getByRole('searchbox', { name: 'Search contacts' }).fill('olsen');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/\/contacts\?q=olsen$/);
  await expect(page.getByTestId('contact-total')).toContainText('page 1 of');
  const names = await rows.locator('td:first-child').allTextContents();
  expect(names.length).toBeGreaterThan(10);
  for (const name of names) expect(name).toMatch(/Olsen$/);

  await page.getByRole('searchbox', { name: 'Search contacts' }).fill('nobody-by-this-name');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByTestId('contacts-empty')).toHaveText('No contacts match “nobody-by-this-name”.');
});
