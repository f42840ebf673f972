/**
 * What the stream benchmarks share: the local stack started the way `npm run bench` starts it
 * (loopback only, rate limits off), jobs created and waited for over HTTP, workerd's memory read
 * from /proc, and percentiles.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { startDevStack, type DevStack } from './dev-stack.ts';
import { createSampleRepo } from './sample-repo.ts';

/** A started stack, the URL of a repository jobs can clone, and how to stop both. */
export interface BenchStack {
  stack: DevStack;
  repoUrl: string;
  close(): Promise<void>;
}

/**
 * Starts local-daytona and `wrangler dev` on 127.0.0.1, rate limits off (development only), with
 * `vars` as further Worker settings; `onOutput` gets wrangler's output lines.
 */
export async function startBenchStack(
  name: string,
  vars: Record<string, string> = {},
  onOutput?: (line: string) => void,
): Promise<BenchStack> {
  const state = await mkdtemp(join(tmpdir(), `omni-${name}-`));
  const repo = await createSampleRepo(state);
  const stack = await startDevStack({
    port: 0,
    persistTo: join(state, 'wrangler'),
    // One client on one address would only measure the rate limiter's 429s.
    vars: { RATE_LIMITS: 'off', TENANT_MAX_RUNNING_JOBS: '100000', ...vars },
    ...(onOutput ? { onOutput } : {}),
  });
  return {
    stack,
    repoUrl: repo.url,
    close: async () => {
      await stack.stop();
      // wrangler's launcher can exit on SIGTERM before its child does (seen after a reload):
      // nothing of its process group may outlive the benchmark.
      if (stack.pid !== undefined) {
        try {
          process.kill(-stack.pid, 'SIGKILL');
        } catch {
          // The group is gone already.
        }
      }
      await rm(state, { recursive: true, force: true });
    },
  };
}

const jobSchema = z.looseObject({ id: z.string(), status: z.string() });
const finalStatuses = new Set(['succeeded', 'failed', 'timed_out', 'canceled']);

/** POST /v1/jobs; returns the job id. */
export async function createJob(
  bench: BenchStack,
  command: string,
  timeoutSeconds = 600,
): Promise<string> {
  const res = await fetch(`${bench.stack.url}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bench.stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      repo: { url: bench.repoUrl },
      command,
      timeout_seconds: timeoutSeconds,
    }),
  });
  if (res.status !== 201)
    throw new Error(`POST /v1/jobs answered ${res.status}: ${await res.text()}`);
  return jobSchema.parse(await res.json()).id;
}

/** Polls the job until it has ended, at most `ms`; returns its final status. */
export async function waitForEnd(bench: BenchStack, id: string, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const res = await fetch(`${bench.stack.url}/v1/jobs/${id}`, {
      headers: { authorization: `Bearer ${bench.stack.apiKey}` },
    });
    const job = jobSchema.parse(await res.json());
    if (finalStatuses.has(job.status)) return job.status;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`job ${id} did not end within ${ms} ms`);
}

/** Parent pid of each process, from /proc/<pid>/stat (the field after the parenthesised name). */
async function parents(): Promise<Map<number, { ppid: number; name: string }>> {
  const map = new Map<number, { ppid: number; name: string }>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      map.set(Number(entry), { ppid, name });
    } catch {
      // The process ended while we looked.
    }
  }
  return map;
}

/** The workerd processes `wrangler dev` (process `rootPid`) spawned, at any depth. */
export async function workerdPids(rootPid: number): Promise<number[]> {
  const map = await parents();
  const isDescendant = (pid: number): boolean => {
    for (let p = map.get(pid)?.ppid; p !== undefined && p > 1; p = map.get(p)?.ppid) {
      if (p === rootPid) return true;
    }
    return false;
  };
  return [...map]
    .filter(([pid, p]) => p.name === 'workerd' && isDescendant(pid))
    .map(([pid]) => pid);
}

/** Resident memory of `pids` together, in bytes (VmRSS of /proc/<pid>/status). */
export async function rssBytes(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    total += Number(kib ?? 0) * 1024;
  }
  return total;
}

/** The `p`-th percentile (0–100) of `values`, by nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

/** Mebibytes, for printing. */
export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
