/**
 * Debian's Chromium driven by playwright-core, for the web view's tests, its bench and its
 * screenshot. Never downloads a browser: CHROMIUM_PATH or /usr/bin/chromium (`.ci/run`
 * installs Debian's package when it is missing).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Starts a headless Chromium, with `args` added to its command line. */
export function launchChromium(args: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}: install Debian's (apt-get install chromium) or set CHROMIUM_PATH.`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Containers often run as root without a user namespace for the sandbox.
    args: ['--no-sandbox', '--enable-precise-memory-info', ...args],
  });
}

/** Opens /app on `baseUrl` in a new page and signs in with `apiKey` through the form. */
export async function openSignedIn(
  browser: Browser,
  baseUrl: string,
  apiKey: string,
): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${baseUrl}/app/`);
  await page.locator('input[name=key]').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Jobs' }).waitFor();
  return page;
}
