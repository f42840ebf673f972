/**
 * Faults in local-daytona for the Job DO tests (its `/_faults` and `/_stats` admin endpoints, see
 * local-daytona/README.md), and jobs started straight through their Job DO with an id chosen by
 * the test, so that a fault can name the job's sandbox (`omni-<job id>`) before it exists. Rules
 * always name a sandbox: test files run side by side against one local-daytona.
 */
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { z } from 'zod';
import type { FaultRuleInput } from '../../local-daytona/fault-rules.ts';
import { jobSpec } from './job-spec.ts';

const adminUrl = (path: string) => new URL(path, env.DAYTONA_API_URL).toString();
const auth = { authorization: `Bearer ${env.DAYTONA_API_KEY}` };

/** Installs fault rules; returns their ids. */
export async function addFaults(...rules: FaultRuleInput[]): Promise<string[]> {
  for (const rule of rules) {
    if (!('sandbox' in rule) || rule.sandbox === undefined) {
      throw new Error('fault rules in worker tests must name a sandbox');
    }
  }
  const res = await fetch(adminUrl('/_faults'), {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ rules }),
  });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  const body = z.object({ rules: z.array(z.object({ id: z.string() })) }).parse(JSON.parse(text));
  return body.rules.map((r) => r.id);
}

/** Removes fault rules (a rule that is holding requests releases them). */
export async function removeFaults(ids: string[]): Promise<void> {
  for (const id of ids) {
    const res = await fetch(adminUrl(`/_faults/${id}`), { method: 'DELETE', headers: auth });
    await res.body?.cancel();
  }
}

/** How many times the rule `id` has fired so far. */
export async function timesFired(id: string): Promise<number> {
  const res = await fetch(adminUrl('/_faults'), { headers: auth });
  const body = z
    .object({ rules: z.array(z.object({ id: z.string(), fired: z.number() })) })
    .parse(await res.json());
  return body.rules.find((r) => r.id === id)?.fired ?? 0;
}

/** Makes local-daytona lose (404 from then on) or stop the sandbox of job `id`; asserts 200. */
export async function sandboxFault(id: string, what: 'lose' | 'stop'): Promise<void> {
  const res = await fetch(adminUrl(`/_sandbox/omni-${id}/${what}`), {
    method: 'POST',
    headers: auth,
  });
  await res.body?.cancel();
  expect(res.status).toBe(200);
}

const SandboxStatsSchema = z.object({
  name: z.string(),
  state: z.string(),
  processesAlive: z.number(),
  sessionCommands: z.number(),
});

/** What local-daytona knows of the sandboxes named `name` (every one ever created). */
export async function sandboxStats(
  name: string,
): Promise<Array<z.infer<typeof SandboxStatsSchema>>> {
  const res = await fetch(adminUrl('/_stats'), { headers: auth });
  expect(res.status).toBe(200);
  const body = z
    .object({ sandboxes: z.record(z.string(), SandboxStatsSchema) })
    .parse(await res.json());
  return Object.values(body.sandboxes).filter((s) => s.name === name);
}

/** A new job id and the name its sandbox will have. */
export function newJobId(): { id: string; sandbox: string } {
  const id = `job_${crypto.randomUUID().replaceAll('-', '')}`;
  return { id, sandbox: `omni-${id}` };
}

/** Starts job `id` of `tenantId` straight through its Job DO (no Worker, no running-jobs cap). */
export async function startJob(
  id: string,
  tenantId: string,
  command: string,
  timeoutSeconds = 60,
): Promise<void> {
  const spec = jobSpec(tenantId, { id, command, timeoutSeconds });
  await env.JOB.getByName(id).create(spec, 'running');
}

/** Polls the job in its DO until `done(status)` holds (bounded by the test's timeout). */
export async function waitForStatus(
  id: string,
  tenantId: string,
  done: (status: string) => boolean,
): Promise<string> {
  for (;;) {
    const row = await env.JOB.getByName(id).get(tenantId);
    if (row && done(row.status)) return row.status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The job's stored stdout, whole, read through its DO page by page. */
export async function storedStdout(id: string, tenantId: string): Promise<string> {
  let after = 0;
  let out = '';
  for (;;) {
    const page = await env.JOB.getByName(id).listEvents(tenantId, after, 1000);
    if (!page) throw new Error(`no job ${id}`);
    for (const event of page.data) if (event.type === 'stdout') out += event.data ?? '';
    if (page.next_after === null || page.data.length === 0) return out;
    after = page.next_after;
  }
}
