/**
 * `npm run test:live`: the end-to-end scenarios against a real Daytona organisation (and the real
 * Anthropic API for the agent job), through `wrangler dev` on this machine. Without
 * DAYTONA_API_KEY it says it was skipped and why, and exits 0. See docs/DEPLOYMENT.md.
 *
 *   DAYTONA_API_KEY=... [DAYTONA_API_URL=...] [ANTHROPIC_API_KEY=...] npm run test:live
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { newRunId, partialReasons, skipReason } from './lib/live-run.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const vitestBin = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));

const reason = skipReason(process.env);
if (reason !== null) {
  process.stdout.write(`test:live skipped: ${reason}. Nothing was run.\n`);
  process.exit(0);
}
for (const note of partialReasons(process.env)) process.stdout.write(`test:live: ${note}.\n`);

const runId = process.env['OMNI_LIVE_RUN_ID']?.trim() || newRunId();
process.stdout.write(
  `test:live: run ${runId}; every sandbox it causes is labelled omni-live-run=${runId}.\n`,
);
const child = spawn(
  process.execPath,
  [vitestBin, 'run', '--config', 'vitest.live.config.ts', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...process.env, OMNI_LIVE_RUN_ID: runId } },
);
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
