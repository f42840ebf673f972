/**
 * `npm run screenshot:web`: writes docs/web-view.png, the job page of a finished job with a
 * coloured log, as the README shows it. Starts its own local stack (loopback, embedded
 * defaults) and Debian's Chromium; takes about half a minute.
 */
import { execFileSync } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJob, startBenchStack, waitForEnd } from './lib/bench-stack.ts';
import { launchChromium, openSignedIn } from './lib/web-browser.ts';

const out = fileURLToPath(new URL('../docs/web-view.png', import.meta.url));

/** A test run's worth of output, with the colours test runners print (test.sh of the repo). */
const TEST_SCRIPT = `#!/usr/bin/env bash
printf '\\033[1m> sample@1.0.0 test\\033[0m\\n\\n'
for t in parses clones streams resumes cancels; do
  printf ' \\033[32m✓\\033[0m %s \\033[2m(%sms)\\033[0m\\n' "$t" $((RANDOM % 90 + 5)); sleep 0.2
done
printf ' \\033[33m↓\\033[0m retries later \\033[2m(skipped)\\033[0m\\n'
printf '\\n \\033[1;32mTests\\033[0m  5 passed, 1 skipped\\n'
echo "warning: 1 test skipped" >&2
`;

const bench = await startBenchStack('screenshot-web');
const browser = await launchChromium();
try {
  const repo = fileURLToPath(bench.repoUrl);
  await writeFile(join(repo, 'test.sh'), TEST_SCRIPT);
  await chmod(join(repo, 'test.sh'), 0o755);
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repo, ...args], { stdio: 'ignore' });
  git('add', 'test.sh');
  git('-c', 'user.name=Omni', '-c', 'user.email=omni@example.invalid', 'commit', '-qm', 'Tests');
  const id = await createJob(bench, './count.sh 3 0.3 && ./test.sh');
  await waitForEnd(bench, id, 120_000);
  const page = await openSignedIn(browser, bench.stack.url, bench.stack.apiKey);
  await page.setViewportSize({ width: 1200, height: 860 });
  await page.goto(`${bench.stack.url}/app/#/jobs/${id}`);
  await page.locator('[data-testid=status][data-status=succeeded]').waitFor();
  await page.locator('.log-line', { hasText: 'Tests' }).waitFor();
  await page.locator('[data-testid=cost-total]').waitFor();
  // Let the last read of the job (exit code, final cost) land.
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await bench.close();
}
