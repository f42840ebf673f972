/**
 * Helpers of the replay tests: Job DOs whose log is written directly (so that a test controls
 * exactly what is stored and when it is broadcast), and checks that a watcher got every event
 * exactly once, in order.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { z } from 'zod';
import type { JobDO } from '../../durable-objects/job/job-do.ts';
import { broadcast } from '../../durable-objects/job/sockets.ts';
import type { JobSpec } from '../../durable-objects/job/state.ts';
import { JobStorage } from '../../durable-objects/job/storage.ts';

const eventSchema = z.looseObject({
  seq: z.number(),
  type: z.string(),
  data: z.string().optional(),
});
export type StreamEvent = z.infer<typeof eventSchema>;

/** Parses the messages a watcher received. */
export const parseEvents = (messages: string[]): StreamEvent[] =>
  messages.map((m) => eventSchema.parse(JSON.parse(m)));

/** A job of `tenantId` that waits in its queue: nothing runs, so only the test writes its log. */
export async function waitingJob(
  tenantId: string,
): Promise<{ id: string; stub: DurableObjectStub<JobDO> }> {
  const spec: JobSpec = {
    id: `job_${crypto.randomUUID().replaceAll('-', '')}`,
    tenantId,
    repoUrl: env.FIXTURE_REPO_URL,
    repoRef: null,
    command: 'true',
    timeoutSeconds: 600,
    snapshot: 'omni-sandbox',
    createdBy: 'key:test',
    createdAt: Date.now(),
  };
  const stub = env.JOB.getByName(spec.id);
  await stub.create(spec, 'waiting');
  return { id: spec.id, stub };
}

/** The output of the `index`th filler event: its number first, so that any mix-up shows. */
export function filler(index: number, bytes: number): string {
  const head = `${String(index).padStart(8, '0')}:`;
  return head + 'a'.repeat(Math.max(0, bytes - head.length));
}

/** Stores `count` stdout events of `bytes` each without telling anyone (a log written earlier). */
export async function fillLog(
  stub: DurableObjectStub<JobDO>,
  count: number,
  bytes: number,
): Promise<number> {
  return runInDurableObject(stub, (_, state) => {
    const store = new JobStorage(state.storage);
    store.transaction(() => {
      for (let i = 0; i < count; i++)
        store.appendEvent('stdout', Date.now(), { data: filler(i, bytes) });
    });
    return store.lastSeq();
  });
}

/**
 * Stores and broadcasts stdout events, as the job's record does with new output, and returns the
 * watchers' positions right after (before any later replay step can run).
 */
export async function emit(stub: DurableObjectStub<JobDO>, data: string[]): Promise<unknown[]> {
  return runInDurableObject(stub, (_, state) => {
    const store = new JobStorage(state.storage);
    for (const piece of data)
      broadcast(state, store.appendEvent('stdout', Date.now(), { data: piece }));
    return state.getWebSockets().map((ws): unknown => ws.deserializeAttachment());
  });
}

/** Each watcher's position as its socket's attachment holds it. */
export async function positions(stub: DurableObjectStub<JobDO>): Promise<unknown[]> {
  return runInDurableObject(stub, (_, state) =>
    state.getWebSockets().map((ws): unknown => ws.deserializeAttachment()),
  );
}

/** The stored log, read from the object's SQLite. */
export async function storedLog(stub: DurableObjectStub<JobDO>): Promise<StreamEvent[]> {
  return runInDurableObject(stub, (_, state) => [
    ...new JobStorage(state.storage).eventsAfter(0, 1_000_000),
  ]);
}

/** `received` is exactly the stored events after `after`: each once, in order, none missing. */
export function expectExactlyOnce(received: StreamEvent[], stored: StreamEvent[], after = 0): void {
  const expected = stored.filter((e) => e.seq > after);
  // Compare seqs first: a short diff when something is missing or repeated.
  expect(received.map((e) => e.seq)).toEqual(expected.map((e) => e.seq));
  expect(received).toEqual(expected);
}
