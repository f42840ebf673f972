/**
 * The web view in a real browser (Debian's Chromium through playwright-core) against a real
 * `wrangler dev` on the embedded defaults: sign-in, the live log of a job as it prints, the
 * final status and cost, a dropped WebSocket resumed without a gap, cancel (and no cancel for a
 * viewer), the agent conversation, the list's status filter and pages, and a log of 100k lines.
 * Jobs wait on files the test creates (gates), so "while it runs" needs no timing.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOmniClient, unwrap, type OmniClient } from '../../client/index.ts';
import { startDevStack, type DevStack } from '../../scripts/lib/dev-stack.ts';
import { createSampleRepo, type SampleRepo } from '../../scripts/lib/sample-repo.ts';
import { launchChromium, openSignedIn } from '../../scripts/lib/web-browser.ts';
import { startAnthropicStandIn, type AnthropicStandIn } from '../anthropic-stand-in.ts';
import { FINAL_TEXT_PREFIX, GOOD_KEY_PREFIX } from '../anthropic-script.ts';

let dir: string;
let gates: string;
let repo: SampleRepo;
let anthropic: AnthropicStandIn;
let stack: DevStack;
let omni: OmniClient;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-web-'));
  gates = join(dir, 'gates');
  await mkdir(gates);
  repo = await createSampleRepo(dir);
  anthropic = await startAnthropicStandIn();
  stack = await startDevStack({
    port: 0,
    persistTo: join(dir, 'wrangler'),
    vars: { ANTHROPIC_BASE_URL: anthropic.url },
  });
  omni = createOmniClient({ baseUrl: stack.url, apiKey: stack.apiKey });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await anthropic?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A shell line that waits until the test opens gate `name`. */
const waitFor = (name: string) => `while [ ! -e '${gates}/${name}' ]; do sleep 0.05; done`;
const open = (name: string) => writeFile(join(gates, name), '');

async function createJob(command: string): Promise<string> {
  const job = await unwrap(omni.POST('/v1/jobs', { body: { repo: { url: repo.url }, command } }));
  return job.id;
}

async function jobPage(id: string, page?: Page): Promise<Page> {
  const p = page ?? (await openSignedIn(browser, stack.url, stack.apiKey));
  await p.goto(`${stack.url}/app/#/jobs/${id}`);
  return p;
}

/** The log lines the page shows (every line, for a log that fits in the view). */
const logLines = (page: Page) => page.locator('[data-testid=log-rows] .log-line').allInnerTexts();

const status = (page: Page, value: string) =>
  page.locator(`[data-testid=status][data-status=${value}]`).waitFor();

/** Resolves once the stored log of job `id` has a stdout event containing `text`. */
async function stored(id: string, text: string): Promise<void> {
  for (;;) {
    const page = await unwrap(
      omni.GET('/v1/jobs/{id}/events', { params: { path: { id }, query: { limit: 1000 } } }),
    );
    const events = typeof page === 'string' ? [] : page.data;
    if (events.some((e) => e.type === 'stdout' && String(e.data).includes(text))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolves once job `id` has ended. */
async function ended(id: string): Promise<void> {
  for (;;) {
    const job = await unwrap(omni.GET('/v1/jobs/{id}', { params: { path: { id } } }));
    if (['succeeded', 'failed', 'timed_out', 'canceled'].includes(job.status)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the web view', () => {
  it('serves /app under its CSP, leads a job path to its page, and leaves the API to the Worker', async () => {
    const res = await fetch(`${stack.url}/app/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const redirect = await fetch(`${stack.url}/app/jobs/job_${'a'.repeat(32)}`, {
      redirect: 'manual',
    });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toMatch(new RegExp(`/app/#/jobs/job_a{32}$`));
    const api = await fetch(`${stack.url}/v1/jobs`);
    expect(api.status).toBe(401);
  });

  it("refuses a wrong key at sign-in with the API's reason, and keeps nothing", async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${stack.url}/app/`);
    await page.locator('input[name=key]').fill('omni_not_a_real_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const error = page.locator('[data-testid=sign-in-error]');
    await expect.poll(() => error.innerText()).toMatch(/malformed or mistyped.*\(request /);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.context().close();
  });

  it('keeps the key in the tab, shows lines as they are printed, then the final status and cost', async () => {
    const id = await createJob(
      `echo first; printf '\\033[31mred\\033[0m \\033[1;38;5;208morange\\033[0m <b>not bold</b>\\n'; ${waitFor('live')}; echo second`,
    );
    const page = await openSignedIn(browser, stack.url, stack.apiKey);
    const sockets: string[] = [];
    const violations: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        // @ts-expect-error: exposed by the test.
        window.reportViolation(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    await jobPage(id, page);

    // The first lines are on the page while the job is still running.
    await page.getByText('first', { exact: true }).waitFor();
    await page.locator('.log-line .ansi-red-fg', { hasText: 'red' }).waitFor();
    // A 256-colour bold span: styles applied without a style attribute (the CSP allows none).
    const orange = page.locator('.log-line span', { hasText: 'orange' });
    expect(
      await orange.evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).fontWeight]),
    ).toEqual(['rgb(255, 135, 0)', '700']);
    expect(await logLines(page)).toEqual(['first', 'red orange <b>not bold</b>']);
    expect(await page.locator('[data-testid=status]').getAttribute('data-status')).toBe('running');
    await open('live');
    await page.getByText('second', { exact: true }).waitFor();
    await status(page, 'succeeded');
    expect(await logLines(page)).toEqual(['first', 'red orange <b>not bold</b>', 'second']);

    // The timeline reached its end, and the cost is the job's.
    const steps = page.locator('[data-testid=timeline] [data-step]');
    expect(await steps.evaluateAll((els) => els.map((e) => e.className))).toEqual([
      'step done',
      'step done',
      'step done',
      'step done',
      'step done end succeeded',
    ]);
    const job = await unwrap(omni.GET('/v1/jobs/{id}', { params: { path: { id } } }));
    expect(job.cost.sandbox_seconds).toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('[data-testid=cost-total]').innerText())
      .toMatch(/^\$0\.\d+$/);

    // The key is in sessionStorage only, and never in a URL: streams carry a stream token.
    const storage = await page.evaluate(() => ({
      session: sessionStorage.getItem('omni.apiKey'),
      local: localStorage.length,
      cookies: document.cookie,
    }));
    expect(storage).toEqual({ session: stack.apiKey, local: 0, cookies: '' });
    expect(sockets.length).toBeGreaterThan(0);
    for (const url of sockets) {
      expect(url).not.toContain(stack.apiKey);
      expect(new URL(url).searchParams.get('token')).toBeTruthy();
    }
    expect(violations).toEqual([]);
    await page.context().close();
  });

  it('resumes a dropped stream after the last event it had: no gap, no duplicate', async () => {
    const id = await createJob(
      `echo one; ${waitFor('drop-1')}; echo two; echo three; ${waitFor('drop-2')}; echo four`,
    );
    const page = await openSignedIn(browser, stack.url, stack.apiKey);
    // Every stream socket goes through the test, which can cut it and refuse new ones.
    let refuse = false;
    let current: WebSocketRoute | undefined;
    const opened: string[] = [];
    await page.routeWebSocket(/\/v1\/jobs\/.*\/stream/, (ws) => {
      opened.push(ws.url());
      if (refuse) {
        void ws.close({ code: 1011, reason: 'refused by the test' });
        return;
      }
      ws.connectToServer();
      current = ws;
    });
    await jobPage(id, page);
    await page.getByText('one', { exact: true }).waitFor();

    // Cut the socket and keep it down while the job prints two more lines.
    refuse = true;
    await current?.close({ code: 1006 });
    await page.locator('[data-testid=stream-state][data-state=reconnecting]').waitFor();
    await open('drop-1');
    await stored(id, 'three');
    refuse = false;
    await page.getByText('three', { exact: true }).waitFor();
    await open('drop-2');
    await status(page, 'succeeded');
    expect(await logLines(page)).toEqual(['one', 'two', 'three', 'four']);

    // The reconnect asked for the events after the last one it had.
    const afters = opened.map((url) => Number(new URL(url).searchParams.get('after')));
    expect(afters[0]).toBe(0);
    expect(afters.at(-1)).toBeGreaterThan(0);
    expect(opened.length).toBeGreaterThan(1);
    await page.context().close();
  });

  it('cancels a running job for a member, and offers no cancel to a viewer', async () => {
    const id = await createJob(`echo waiting; ${waitFor('never')}`);
    const viewerKey = await unwrap(
      omni.POST('/v1/keys', { body: { name: 'web viewer', role: 'viewer' } }),
    );
    const viewer = await openSignedIn(browser, stack.url, viewerKey.key);
    await jobPage(id, viewer);
    await viewer.getByText('waiting', { exact: true }).waitFor();
    await viewer.locator('[data-testid=cancel][data-allowed=false]').waitFor({ state: 'attached' });
    expect(await viewer.locator('[data-testid=cancel]').isHidden()).toBe(true);

    const page = await jobPage(id);
    const cancel = page.locator('[data-testid=cancel][data-allowed=true]');
    await cancel.waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await cancel.click();
    await status(page, 'canceled');
    const job = await unwrap(omni.GET('/v1/jobs/{id}', { params: { path: { id } } }));
    expect(job.status).toBe('canceled');
    expect(await cancel.isHidden()).toBe(true);
    // The viewer's page follows the stream to the end too.
    await status(viewer, 'canceled');
    await viewer.context().close();
    await page.context().close();
  });

  it("shows an agent job's conversation: its text, the tool call with its result, the result", async () => {
    await unwrap(
      omni.PUT('/v1/secrets/{name}', {
        params: { path: { name: 'ANTHROPIC_API_KEY' } },
        body: { value: `${GOOD_KEY_PREFIX}${crypto.randomUUID()}` },
      }),
    );
    const job = await unwrap(
      omni.POST('/v1/jobs', {
        body: { repo: { url: repo.url }, agent: { prompt: 'Read the README.', max_turns: 5 } },
      }),
    );
    const page = await jobPage(job.id);
    await status(page, 'succeeded');
    const conversation = page.locator('[data-testid=conversation]');
    await conversation.locator('.tool-name', { hasText: 'Bash' }).waitFor();
    await expect
      .poll(() => conversation.locator('.tool-result').first().innerText())
      .toContain('# Sample repository');
    await conversation.locator('.turn.result').waitFor();
    expect(await conversation.locator('.turn.text').last().innerText()).toContain(
      FINAL_TEXT_PREFIX.trim(),
    );
    // Tokens were priced.
    await expect.poll(() => page.locator('[data-testid=cost]').innerText()).toMatch(/[1-9]\d* in/);
    await page.context().close();
  });

  it('lists jobs newest first, filtered by status, page by page', async () => {
    // Jobs of its own: four that succeed and one canceled (other tests add theirs).
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await createJob(`echo list ${i}`));
    const canceled = await createJob(waitFor('never-listed'));
    await unwrap(omni.POST('/v1/jobs/{id}/cancel', { params: { path: { id: canceled } } }));
    for (const id of [...ids, canceled]) await ended(id);
    const page = await openSignedIn(browser, stack.url, stack.apiKey);
    const all = await unwrap(omni.GET('/v1/jobs', { params: { query: { limit: 100 } } }));
    const rows = () =>
      page
        .locator('[data-testid=jobs] tr')
        .evaluateAll((trs) => trs.map((tr) => [tr.dataset.job, tr.dataset.status]));
    await page.locator('[data-testid=jobs] tr').first().waitFor();
    expect(await rows()).toEqual(all.data.slice(0, 20).map((j) => [j.id, j.status]));

    await page.locator('[data-testid=status-filter]').selectOption('canceled');
    await expect
      .poll(rows)
      .toEqual(all.data.filter((j) => j.status === 'canceled').map((j) => [j.id, 'canceled']));
    await page.locator('[data-testid=status-filter]').selectOption('succeeded');
    const succeeded = all.data.filter((j) => j.status === 'succeeded');
    expect(succeeded.length).toBeGreaterThanOrEqual(4);
    await expect.poll(rows).toEqual(succeeded.slice(0, 20).map((j) => [j.id, 'succeeded']));

    // Two a page: Next follows the cursor, Previous comes back.
    await page.goto(`${stack.url}/app/#/?status=succeeded&limit=2`);
    await expect.poll(rows).toEqual(succeeded.slice(0, 2).map((j) => [j.id, 'succeeded']));
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(rows).toEqual(succeeded.slice(2, 4).map((j) => [j.id, 'succeeded']));
    await page.getByRole('button', { name: 'Previous' }).click();
    await expect.poll(rows).toEqual(succeeded.slice(0, 2).map((j) => [j.id, 'succeeded']));

    // A row leads to its job, which never shows a status it had before its end while the
    // stream replays its log from the first event.
    await page.evaluate(() => {
      const shown: string[] = [];
      Object.assign(window, { shownStatuses: shown });
      new MutationObserver(() => {
        const now = document.querySelector<HTMLElement>('[data-testid=status]')?.dataset.status;
        if (now && shown.at(-1) !== now) shown.push(now);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.locator(`a[href="#/jobs/${succeeded[0]?.id}"]`).click();
    await page
      .locator('[data-testid=stream-state][data-state=ended]')
      .waitFor({ state: 'attached' });
    expect(await page.evaluate(() => Reflect.get(window, 'shownStatuses'))).toEqual(['succeeded']);
    await page.context().close();
  });

  it('stays where the reader scrolled while new lines arrive, until told to follow again', async () => {
    const id = await createJob(`seq 1 300; ${waitFor('more')}; seq 301 600; ${waitFor('end')}`);
    const page = await jobPage(id);
    const log = page.locator('[data-testid=log]');
    await page.locator('.log-line', { hasText: /^300$/ }).waitFor();
    await log.evaluate((el) => el.scrollTo({ top: 0 }));
    await page.locator('.log-line', { hasText: /^1$/ }).waitFor();
    await open('more');
    await expect.poll(() => log.getAttribute('data-lines')).toBe('600');
    // Still at the top: the new lines did not pull the view down.
    expect(await log.evaluate((el) => el.scrollTop)).toBe(0);
    expect(await page.locator('.log-line', { hasText: /^1$/ }).count()).toBe(1);
    expect(await page.locator('.log-line', { hasText: /^600$/ }).count()).toBe(0);
    await page.getByRole('button', { name: 'Follow the end' }).click();
    await page.locator('.log-line', { hasText: /^600$/ }).waitFor();
    expect(await page.getByRole('button', { name: 'Follow the end' }).isHidden()).toBe(true);
    await open('end');
    await status(page, 'succeeded');
    await page.context().close();
  });

  it('keeps a log of 100k lines usable: only the lines in view are in the page', async () => {
    const id = await createJob('seq 1 100000');
    const page = await jobPage(id);
    await status(page, 'succeeded');
    const log = page.locator('[data-testid=log]');
    await expect.poll(() => log.getAttribute('data-lines')).toBe('100000');
    // It follows the end, with a few dozen rows in the page.
    await page.locator('.log-line', { hasText: /^100000$/ }).waitFor();
    const rendered = await page.locator('.log-line').count();
    expect(rendered).toBeLessThan(200);
    // Scrolled to the top, it stops following and shows the first lines.
    await log.evaluate((el) => el.scrollTo({ top: 0 }));
    await page.locator('.log-line', { hasText: /^1$/ }).waitFor();
    await page.getByRole('button', { name: 'Follow the end' }).click();
    await page.locator('.log-line', { hasText: /^100000$/ }).waitFor();
    await page.context().close();
  });
});
