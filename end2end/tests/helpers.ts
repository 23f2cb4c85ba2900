import { expect, type Page, type TestInfo } from '@playwright/test';

export const ADMIN = { email: 'admin@demo.herald.test', password: 'herald-demo' };

export const withJs = (info: TestInfo) => info.project.name === 'js';

/// Waits until the WASM bundle has hydrated the page (JavaScript runs only).
export async function hydrated(page: Page) {
  await page.waitForLoadState('networkidle');
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
