/**
 * `npm run demo`: starts Omni on the embedded defaults, submits a job that clones a local git
 * repository and runs a command in it, streams the output live, and prints the final status,
 * exit code and duration. Exits non-zero if the job did not succeed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { startDevStack } from './lib/dev-stack.ts';
import { createSampleRepo } from './lib/sample-repo.ts';
import { watchJob } from './lib/watch.ts';

const jobSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  exit_code: z.number().nullable(),
  duration_ms: z.number().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

const state = await mkdtemp(join(tmpdir(), 'omni-demo-'));
const repo = await createSampleRepo(state);
console.log('Starting local-daytona, local D1 and wrangler dev…');
const stack = await startDevStack({ port: 0, persistTo: join(state, 'wrangler') });
let exitCode = 1;
try {
  console.log(`Omni is running at ${stack.url}\n`);
  const command =
    'echo "on commit $(git log --oneline -1)"; ./count.sh 5 0.4; echo "a line on stderr" >&2';
  const res = await fetch(`${stack.url}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ repo: { url: repo.url }, command }),
  });
  const created = jobSchema.parse(await res.json());
  console.log(`POST /v1/jobs → ${res.status} ${created.id} (${created.status})`);
  console.log(`$ ${command}\n`);

  await watchJob(stack.url, stack.apiKey, created.id, (event) => {
    if (event.type === 'stdout' && typeof event.data === 'string') process.stdout.write(event.data);
    else if (event.type === 'stderr' && typeof event.data === 'string')
      process.stderr.write(event.data);
    else if (event.type === 'status') console.log(`[${event.ts}] status: ${String(event.status)}`);
  });

  const job = jobSchema.parse(
    await (
      await fetch(`${stack.url}/v1/jobs/${created.id}`, {
        headers: { authorization: `Bearer ${stack.apiKey}` },
      })
    ).json(),
  );
  console.log(
    `\nJob ${job.id}: ${job.status}, exit code ${job.exit_code ?? 'none'}, ${job.duration_ms ?? '?'} ms`,
  );
  if (job.error) console.log(`Error: ${job.error.message}`);
  exitCode = job.status === 'succeeded' ? 0 : 1;
} finally {
  await stack.stop();
  await rm(state, { recursive: true, force: true });
}
process.exit(exitCode);
