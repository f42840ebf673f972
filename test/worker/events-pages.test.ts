/**
 * GET /v1/jobs/{id}/events pages: at most `limit` events and about 1 MiB of output (UTF-8
 * bytes), and the log is read lazily, so a page never loads much more than it returns.
 */
import { runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobStorage } from '../../durable-objects/job/storage.ts';
import { JobEventPageSchema } from '../../worker/schemas/jobs.ts';
import { api, newTenant } from './helpers.ts';
import { waitingJob } from './replay-helpers.ts';

const KiB = 1024;
const utf8 = new TextEncoder();

let tenantId: string;
let apiKey: string;
beforeAll(async () => {
  ({ tenantId, apiKey } = await newTenant());
});

describe('event pages', () => {
  it('hold about 1 MiB of output counted in UTF-8 bytes, whatever the limit', async () => {
    const { id, stub } = await waitingJob(tenantId);
    // 200 events of 8 Ki characters that are 2 bytes each: 16 KiB of output per event.
    await runInDurableObject(stub, (_, state) => {
      const store = new JobStorage(state.storage);
      store.transaction(() => {
        for (let i = 0; i < 200; i++)
          store.appendEvent('stdout', Date.now(), { data: 'é'.repeat(8 * KiB) });
      });
    });
    const res = await api(`/v1/jobs/${id}/events?after=0&limit=1000`, apiKey);
    expect(res.status).toBe(200);
    const page = JobEventPageSchema.parse(await res.json());
    const bytes = page.data.reduce(
      (n, e) => n + (typeof e.data === 'string' ? utf8.encode(e.data).length : 0),
      0,
    );
    expect(bytes).toBeLessThanOrEqual(1024 * KiB);
    // The queued status event, then 64 of 16 KiB: exactly 1 MiB; one more would pass it.
    expect(page.data).toHaveLength(65);
    expect(page.next_after).toBe(65);

    const small = JobEventPageSchema.parse(
      await (await api(`/v1/jobs/${id}/events?after=65&limit=3`, apiKey)).json(),
    );
    expect(small.data.map((e) => e.seq)).toEqual([66, 67, 68]);
    expect(small.next_after).toBe(68);
    await stub.cancel(tenantId, 'test');
  });

  it('come from a SQL cursor that reads rows only as they are pulled', async () => {
    const { stub } = await waitingJob(tenantId);
    const rowsRead = await runInDurableObject(stub, (_, state) => {
      const store = new JobStorage(state.storage);
      store.transaction(() => {
        for (let i = 0; i < 500; i++) store.appendEvent('stdout', Date.now(), { data: 'x' });
      });
      // The premise of lazy pages: taking three rows of a 500-row query reads about three.
      const cursor = state.storage.sql.exec('SELECT seq FROM events WHERE seq > ? ORDER BY seq', 0);
      const iterator = cursor[Symbol.iterator]();
      for (let i = 0; i < 3; i++) iterator.next();
      return cursor.rowsRead;
    });
    expect(rowsRead).toBeLessThanOrEqual(4);
    await stub.cancel(tenantId, 'test');
  });
});
