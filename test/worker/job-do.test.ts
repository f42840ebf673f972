/**
 * The Job DO on its own: failures at creation, a reset mid-run, an eviction with a hibernated
 * watcher, alarms after the end.
 */
import {
  abortAllDurableObjects,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allEvents, newTenant, sandboxesOf, waitForEnd } from './helpers.ts';
import { collectUntilClose, nextMessage, openStream } from './sockets.ts';
import { jobSpec } from './job-spec.ts';

const eventSchema = z.looseObject({ seq: z.number(), type: z.string() });
const parse = (message: string) => eventSchema.parse(JSON.parse(message));

const spec = jobSpec;

describe('JobDO', () => {
  it('answers for its own tenant only, and an unknown id leaves no storage behind', async () => {
    const { tenantId, apiKey } = await newTenant();
    const s = spec(tenantId);
    const stub = env.JOB.getByName(s.id);
    await stub.create(s);
    expect((await stub.get(tenantId))?.id).toBe(s.id);
    expect(await stub.get('ten_other')).toBeNull();
    expect(await stub.listEvents('ten_other', 0, 10)).toBeNull();
    await waitForEnd(apiKey, s.id);

    const unknown = env.JOB.getByName(`job_${'f'.repeat(32)}`);
    expect(await unknown.get(tenantId)).toBeNull();
    const tables = await runInDurableObject(unknown, (_, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").toArray(),
    );
    expect(tables).toEqual([]);
  });

  it('fails with the Daytona error when the sandbox cannot be created, leaving none behind', async () => {
    const { tenantId, apiKey } = await newTenant();
    const s = spec(tenantId, { snapshot: 'no-such-snapshot' });
    await env.JOB.getByName(s.id).create(s);
    const job = await waitForEnd(apiKey, s.id);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('sandbox_create_failed');
    expect(job.error?.message).toMatch(/^Could not create the sandbox: .*no-such-snapshot/);
    expect(await sandboxesOf(s.id)).toEqual([]);
  });

  it('is idempotent: creating the same job twice keeps the first', async () => {
    const { tenantId, apiKey } = await newTenant();
    const s = spec(tenantId, { command: 'echo once' });
    const stub = env.JOB.getByName(s.id);
    const first = await stub.create(s);
    const second = await stub.create({ ...s, command: 'echo twice' });
    expect(second.command).toBe('echo once');
    expect(second.createdAt).toBe(first.createdAt);
    await waitForEnd(apiKey, s.id);
    const stdout = (await allEvents(apiKey, s.id)).filter((e) => e.type === 'stdout');
    expect(stdout.map((e) => e.data)).toEqual(['once\n']);
  });

  it('loses and duplicates no output when its instance is reset while the command runs', async () => {
    const { tenantId, apiKey } = await newTenant();
    const s = spec(tenantId, { command: './count.sh 8 0.25' });
    await env.JOB.getByName(s.id).create(s);
    await expect
      .poll(
        async () =>
          (await env.JOB.getByName(s.id).listEvents(tenantId, 0, 100))?.data.filter(
            (e) => e.type === 'stdout',
          ).length,
        { timeout: 30_000 },
      )
      .toBeGreaterThanOrEqual(2);
    // evictDurableObject() would wait for the alarm in flight, and that alarm follows the log
    // until the command ends; an abort interrupts it. It reaches only the objects of this file:
    // the pool starts one runtime per test file.
    await abortAllDurableObjects();
    // The reset came mid-run; the retried alarm re-attaches to the log.
    expect((await env.JOB.getByName(s.id).get(tenantId))?.status).toBe('running');
    const job = await waitForEnd(apiKey, s.id);
    expect(job.status).toBe('succeeded');
    const stdout = (await allEvents(apiKey, s.id))
      .filter((e) => e.type === 'stdout')
      .map((e) => e.data);
    expect(stdout.join('')).toBe([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `step ${i}\n`).join(''));
  });

  it('does nothing more once the job has ended and its sandbox is gone', async () => {
    const { tenantId, apiKey } = await newTenant();
    const s = spec(tenantId);
    const stub = env.JOB.getByName(s.id);
    await stub.create(s);
    await waitForEnd(apiKey, s.id);
    // Once the sandbox is deleted and the slot returned, the alarm only waits for the output to
    // expire, 30 days on (retention.test.ts).
    const alarm = () => runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    await expect
      .poll(alarm, { timeout: 20_000 })
      .toBeGreaterThan(Date.now() + 29 * 24 * 60 * 60_000);
    const waitsUntil = await alarm();
    const before = await stub.listEvents(tenantId, 0, 1000);
    // Run early, the alarm changes nothing and waits on.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.listEvents(tenantId, 0, 1000)).toEqual(before);
    expect(await alarm()).toBe(waitsUntil);
  });

  it('keeps a watcher through an eviction with hibernation: all output once, the status, then 1000', async () => {
    const { tenantId, apiKey } = await newTenant();
    // A job waiting for a slot: nothing runs in the object, so eviction hibernates its watcher
    // at once. While a command runs, the alarm that follows its log keeps the object busy, and
    // eviction waits for that alarm to end.
    const s = spec(tenantId, { command: 'echo before; sleep 2; echo after' });
    const stub = env.JOB.getByName(s.id);
    await stub.create(s, 'waiting');
    const ws = await openStream(`/v1/jobs/${s.id}/stream`, apiKey);
    const first = parse(await nextMessage(ws, 10_000));
    expect(first).toMatchObject({ seq: 1, type: 'status', status: 'queued' });

    await evictDurableObject(stub, { webSockets: 'hibernate' });
    // The new instance finds the socket hibernated, not closed.
    expect(await runInDurableObject(stub, (_, state) => state.getWebSockets().length)).toBe(1);
    await stub.slotGranted();

    const { messages, code } = await collectUntilClose(ws, 30_000);
    expect(code).toBe(1000);
    const events = [first, ...messages.map(parse)];
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const stdout = events.filter((e) => e.type === 'stdout').map((e) => e.data);
    expect(stdout.join('')).toBe('before\nafter\n');
    expect(events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    expect(events).toEqual(await allEvents(apiKey, s.id));
  });

  it('keeps the watcher of a running job through an eviction: the later output once, then 1000', async () => {
    const { tenantId, apiKey } = await newTenant();
    const s = spec(tenantId, { command: 'echo before; sleep 2; echo after' });
    const stub = env.JOB.getByName(s.id);
    await stub.create(s);
    const ws = await openStream(`/v1/jobs/${s.id}/stream`, apiKey);
    const before: Array<z.infer<typeof eventSchema>> = [];
    while (!before.some((e) => e.type === 'stdout'))
      before.push(parse(await nextMessage(ws, 30_000)));

    // The eviction waits for the alarm in flight, which follows the log until the command ends:
    // what the object sends meanwhile, and its close, must reach the watcher once.
    await evictDurableObject(stub, { webSockets: 'hibernate' });
    const { messages, code } = await collectUntilClose(ws, 30_000);
    expect(code).toBe(1000);
    const after = messages.map(parse);
    const stdout = (events: typeof before) =>
      events
        .filter((e) => e.type === 'stdout')
        .map((e) => e.data)
        .join('');
    expect(stdout(before)).toBe('before\n');
    expect(stdout(after)).toBe('after\n');
    expect(after.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    const events = [...before, ...after];
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events).toEqual(await allEvents(apiKey, s.id));
  });
});
