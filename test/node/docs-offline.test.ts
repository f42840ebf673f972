/**
 * /docs renders without internet: Debian's Chromium (playwright-core) against a real
 * `wrangler dev`, with every request to a host other than loopback aborted, shows the
 * operations of /openapi.json, and the page's CSP (web/public/_headers) reports no violation.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevStack, type DevStack } from '../../scripts/lib/dev-stack.ts';
import { launchChromium } from '../../scripts/lib/web-browser.ts';

let dir: string;
let stack: DevStack;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-docs-'));
  stack = await startDevStack({ port: 0, persistTo: join(dir, 'wrangler') });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A page that cannot reach beyond loopback, and what it tried and what its CSP refused. */
async function offlinePage(): Promise<{ page: Page; outside: string[]; violations: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const outside: string[] = [];
  const violations: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || LOOPBACK.has(url.hostname)) return route.continue();
    outside.push(url.href);
    return route.abort('internetdisconnected');
  });
  await page.exposeFunction('reportViolation', (text: string) => violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { reportViolation: (text: string) => void })
        .reportViolation;
      report(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text()))
      violations.push(message.text());
  });
  return { page, outside, violations };
}

describe('/docs offline', () => {
  it('redirects /docs to /docs/, whose CSP admits no inline script', async () => {
    const res = await fetch(`${stack.url}/docs`, { redirect: 'manual' });
    expect([301, 302, 307, 308]).toContain(res.status);
    expect(new URL(res.headers.get('location') ?? '', stack.url).pathname).toBe('/docs/');
    const page = await fetch(`${stack.url}/docs/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(/script-src ([^;]*)/.exec(csp)?.[1]).toBe("'self'");
    expect(csp).not.toContain('unsafe-');
    await page.body?.cancel();
  });

  it('renders the operations of /openapi.json with the network to the outside blocked', async () => {
    const { page, outside, violations } = await offlinePage();
    await page.goto(`${stack.url}/docs`);
    expect(new URL(page.url()).pathname).toBe('/docs/');
    await page.getByRole('heading', { name: /Omni API/ }).waitFor();
    await page.locator('.opblock').first().waitFor();
    // Swagger UI breaks paths with zero-width spaces.
    const paths = (await page.locator('.opblock-summary-path').allInnerTexts()).map((text) =>
      text.replaceAll('\u200b', ''),
    );
    expect(paths).toEqual(
      expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/events']),
    );
    // An operation opens with its parameters and responses, still offline.
    const getJob = page.locator('.opblock-get').filter({
      has: page.locator('.opblock-summary-path', { hasText: /^\/v1\/jobs\/.?\{id\}$/ }),
    });
    await getJob.locator('.opblock-summary').click();
    await getJob.locator('.responses-table').first().waitFor();
    expect(await getJob.innerText()).toContain('if-none-match');
    expect(outside).toEqual([]);
    expect(violations).toEqual([]);
    await page.context().close();
  });
});
