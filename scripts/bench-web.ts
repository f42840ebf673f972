/**
 * `npm run bench:web`: how long a line printed in the sandbox takes to be visible in the web
 * view, and what a log of 100k lines costs the page. `wrangler dev` on loopback (rate limits
 * off, as `npm run bench`), Debian's Chromium headless through playwright-core.
 *
 * Live latency: a job waits until the page's stream is live, then prints BENCH_WEB_LINES lines
 * (default 200) every BENCH_WEB_INTERVAL seconds (default 0.05), each carrying the time it was
 * printed (bash's $EPOCHREALTIME, the same clock as the page's). A MutationObserver in the page
 * records when each line first appears among the log's rows; the figure is appearance minus
 * print time, p50/p95/p99/max, over every line (a line never seen counts as lost).
 *
 * Large log: a job prints `seq 1 100000`; once it ended, a fresh page opens it and the bench
 * reads the time until all 100k lines are in the log's store (replay over the stream and the
 * first draw), the JS heap after a forced GC against the same page on a one-line job, how many
 * rows are in the page, and how long a jump to the middle of the log takes to draw.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createJob, mib, percentile, startBenchStack, waitForEnd } from './lib/bench-stack.ts';
import { launchChromium, openSignedIn } from './lib/web-browser.ts';

const LINES = Number(process.env.BENCH_WEB_LINES ?? 200);
const INTERVAL_S = Number(process.env.BENCH_WEB_INTERVAL ?? 0.05);
const BIG = 100_000;

const bench = await startBenchStack('bench-web');
const gates = await mkdtemp(join(tmpdir(), 'omni-bench-web-'));
const browser = await launchChromium(['--js-flags=--expose-gc']);

const ms = (v: number) => `${v.toFixed(1)} ms`;

async function open(page: Page, id: string): Promise<void> {
  await page.goto(`${bench.stack.url}/app/#/jobs/${id}`);
}

async function liveLatency(b: Browser): Promise<void> {
  const gate = join(gates, 'start');
  const id = await createJob(
    bench,
    `while [ ! -e '${gate}' ]; do sleep 0.02; done; for i in $(seq 1 ${LINES}); do echo "tick $i \${EPOCHREALTIME/./}"; sleep ${INTERVAL_S}; done`,
  );
  const page = await openSignedIn(b, bench.stack.url, bench.stack.apiKey);
  await open(page, id);
  await page.locator('[data-testid=stream-state][data-state=live]').waitFor();
  await page.evaluate(() => {
    const seen: Record<string, number> = {};
    Object.assign(window, { benchSeen: seen });
    const rows = document.querySelector('[data-testid=log-rows]');
    if (!rows) throw new Error('no log on the page');
    new MutationObserver(() => {
      const now = (performance.timeOrigin + performance.now()) * 1000;
      for (const row of rows.children) {
        const match = /^tick (\d+) (\d+)$/.exec(row.textContent ?? '');
        if (match?.[1] && !(match[1] in seen)) seen[match[1]] = now - Number(match[2]);
      }
    }).observe(rows, { childList: true, subtree: true, characterData: true });
  });
  await writeFile(gate, '');
  await waitForEnd(bench, id, 120_000 + LINES * INTERVAL_S * 2000);
  await page.locator('[data-testid=status][data-status=succeeded]').waitFor();
  const seen = await page.evaluate(
    () => (window as unknown as { benchSeen: Record<string, number> }).benchSeen,
  );
  const latencies = Object.values(seen).map((us) => us / 1000);
  console.log(
    `print → visible, ${LINES} lines every ${INTERVAL_S}s: p50 ${ms(percentile(latencies, 50))}, p95 ${ms(percentile(latencies, 95))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(Math.max(...latencies))}; lost ${LINES - latencies.length}`,
  );
  await page.context().close();
}

/** The page's JS heap after a full GC, in bytes. */
async function heap(page: Page): Promise<number> {
  return page.evaluate(() => {
    (window as unknown as { gc?: () => void }).gc?.();
    return (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize;
  });
}

async function largeLog(b: Browser): Promise<void> {
  const small = await createJob(bench, 'echo one');
  const big = await createJob(bench, `seq 1 ${BIG}`);
  await waitForEnd(bench, small, 120_000);
  await waitForEnd(bench, big, 300_000);
  const page = await openSignedIn(b, bench.stack.url, bench.stack.apiKey);
  await open(page, small);
  await page.locator('[data-testid=status][data-status=succeeded]').waitFor();
  await page.locator('.log-line', { hasText: /^one$/ }).waitFor();
  const base = await heap(page);
  const started = Date.now();
  await open(page, big);
  await page.locator(`[data-testid=log][data-lines="${BIG}"]`).waitFor({ timeout: 300_000 });
  await page.locator('.log-line', { hasText: new RegExp(`^${BIG}$`) }).waitFor();
  const loadMs = Date.now() - started;
  const used = await heap(page);
  const rows = await page.locator('.log-line').count();
  const jumpMs = await page.locator('[data-testid=log]').evaluate(async (log) => {
    const t0 = performance.now();
    log.scrollTop = log.scrollHeight / 2;
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    return performance.now() - t0;
  });
  console.log(
    `${BIG} lines: all in the page's log ${(loadMs / 1000).toFixed(2)} s after opening it; JS heap +${mib(used - base)} over a one-line job (${mib(used)} in all); ${rows} rows in the page; a jump to the middle drawn in ${ms(jumpMs)}`,
  );
  await page.context().close();
}

try {
  await liveLatency(browser);
  await largeLog(browser);
} finally {
  await browser.close();
  await bench.close();
  await rm(gates, { recursive: true, force: true });
}
