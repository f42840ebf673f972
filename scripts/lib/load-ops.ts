/**
 * The operations `npm run load` mixes, each timed from the client: create a job, read it or the
 * list, watch a job's stream over a WebSocket until its end, and cancel a running job. Also the
 * per-minute bookkeeping and the drift verdict.
 */
import { z } from 'zod';
import { percentile } from './bench-stack.ts';
import { watchJob } from './watch.ts';

/** Where the load goes. */
export interface Target {
  url: string;
  apiKey: string;
  repoUrl: string;
}

export const operations = ['create', 'read', 'list', 'stream', 'cancel'] as const;
export type Operation = (typeof operations)[number];

const jobSchema = z.looseObject({ id: z.string() });

async function call(target: Target, path: string, method = 'GET', body?: unknown) {
  const res = await fetch(`${target.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${target.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text };
}

/** POST /v1/jobs; the id of the new job, or throws with the status. */
export async function createJob(target: Target, command: string): Promise<string> {
  const res = await call(target, '/v1/jobs', 'POST', {
    repo: { url: target.repoUrl },
    command,
    timeout_seconds: 300,
  });
  if (res.status !== 201) throw new Error(`POST /v1/jobs ${res.status}`);
  return jobSchema.parse(JSON.parse(res.text)).id;
}

/**
 * Runs one operation; resolves with its latency in ms or throws. `recent` holds ids of jobs this
 * run created (reads and streams pick from them). The stream's latency is the time to its first
 * event; it then stays open until the job ends, in the background.
 */
export async function runOperation(
  target: Target,
  op: Operation,
  recent: string[],
  open: Set<Promise<unknown>>,
): Promise<number> {
  const started = performance.now();
  const pick = () => recent[Math.floor(Math.random() * recent.length)];
  switch (op) {
    case 'create': {
      recent.push(await createJob(target, 'echo load; sleep 1'));
      if (recent.length > 50) recent.shift();
      break;
    }
    case 'read': {
      const id = pick();
      if (id === undefined) break;
      const res = await call(target, `/v1/jobs/${id}`);
      if (res.status !== 200) throw new Error(`GET /v1/jobs/{id} ${res.status}`);
      break;
    }
    case 'list': {
      const res = await call(target, '/v1/jobs?limit=20');
      if (res.status !== 200) throw new Error(`GET /v1/jobs ${res.status}`);
      break;
    }
    case 'stream': {
      const id = pick();
      if (id === undefined) break;
      let first: (() => void) | undefined;
      const firstEvent = new Promise<void>((resolve) => (first = resolve));
      const watching = watchJob(target.url, target.apiKey, id, () => first?.());
      const done = watching.then(
        () => first?.(),
        () => first?.(),
      );
      open.add(done);
      void done.finally(() => open.delete(done));
      await Promise.race([firstEvent, watching]);
      break;
    }
    case 'cancel': {
      // A job of its own that is still running when the cancel arrives (not timed).
      const id = await createJob(target, 'sleep 30');
      const t0 = performance.now();
      const res = await call(target, `/v1/jobs/${id}/cancel`, 'POST');
      if (res.status !== 200) throw new Error(`POST /v1/jobs/{id}/cancel ${res.status}`);
      return performance.now() - t0;
    }
  }
  return performance.now() - started;
}

/** What one minute saw of one operation. */
export interface MinuteStats {
  times: number[];
  errors: Map<string, number>;
}

/** A fresh minute: nothing seen yet for every operation. */
export function emptyMinute(): Record<Operation, MinuteStats> {
  const m = (): MinuteStats => ({ times: [], errors: new Map() });
  return { create: m(), read: m(), list: m(), stream: m(), cancel: m() };
}

/** One line per operation: count, p50/p95/p99 and errors. */
export function minuteLines(minute: number, stats: Record<Operation, MinuteStats>): string[] {
  return operations.map((op) => {
    const s = stats[op];
    const errors = [...s.errors].map(([m, n]) => `${n}× ${m}`).join(', ') || '0';
    const f = (p: number) => (s.times.length ? percentile(s.times, p).toFixed(0) : '-');
    return `min ${String(minute).padStart(3)}  ${op.padEnd(7)} n=${String(s.times.length).padEnd(4)} p50 ${f(50).padStart(5)} ms  p95 ${f(95).padStart(5)} ms  p99 ${f(99).padStart(5)} ms  errors ${errors}`;
  });
}

const errorCount = (s: MinuteStats) => [...s.errors.values()].reduce((a, b) => a + b, 0);

/** Fewer samples than this in a minute: its p95 is nearly its maximum, so p50 is compared. */
export const MIN_SAMPLES_FOR_P95 = 15;

/**
 * Drift between the first and the last minute, per operation: the p95 grew by more than 50 % and
 * by more than 20 ms (so that 4 ms → 7 ms on an idle machine is not called drift) — the p50 when
 * either minute has fewer than MIN_SAMPLES_FOR_P95 samples — or the last minute had errors where
 * the first had none (or more than twice as many).
 */
export function drift(
  first: Record<Operation, MinuteStats>,
  last: Record<Operation, MinuteStats>,
): string[] {
  const found: string[] = [];
  for (const op of operations) {
    const a = first[op];
    const b = last[op];
    if (a.times.length && b.times.length) {
      const p = Math.min(a.times.length, b.times.length) >= MIN_SAMPLES_FOR_P95 ? 95 : 50;
      const pa = percentile(a.times, p);
      const pb = percentile(b.times, p);
      if (pb > pa * 1.5 && pb - pa > 20)
        found.push(`${op}: p${p} ${pa.toFixed(0)} ms → ${pb.toFixed(0)} ms`);
    }
    const ea = errorCount(a);
    const eb = errorCount(b);
    if (eb > 0 && (ea === 0 || eb > 2 * ea)) found.push(`${op}: errors ${ea} → ${eb}`);
  }
  return found;
}
