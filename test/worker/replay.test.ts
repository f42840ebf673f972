/**
 * Replay of a job's log to watchers, paced by the send budget: a long log reaches several
 * watchers whole, replay hands over to live without a gap or a duplicate, a live watcher that
 * falls behind a burst catches up from the log, and replay goes on from each watcher's saved
 * position when the object is woken after an eviction.
 */
import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { newTenant } from './helpers.ts';
import {
  emit,
  expectExactlyOnce,
  filler,
  fillLog,
  parseEvents,
  positions,
  storedLog,
  waitingJob,
} from './replay-helpers.ts';
import { collectUntilClose, nextMessage, openStream } from './sockets.ts';

/** How long a whole replay may take: far more than the budget needs (about 1 s per 20 MiB). */
const REPLAY_MS = 90_000;
const KiB = 1024;
const positionSchema = z.object({ sent: z.number(), live: z.boolean() });

let tenantId: string;
let apiKey: string;
beforeAll(async () => {
  ({ tenantId, apiKey } = await newTenant());
});

const watch = (jobId: string, after = 0) =>
  openStream(`/v1/jobs/${jobId}/stream?after=${after}`, apiKey);

describe('replay', () => {
  it(
    'replays a finished 16 MiB log to several watchers whole, in order, once each, then 1000',
    async () => {
      const { id, stub } = await waitingJob(tenantId);
      await fillLog(stub, 1024, 16 * KiB);
      await stub.cancel(tenantId, 'test');
      const stored = await storedLog(stub);

      const sockets = await Promise.all([0, 0, 0, 0, 0].map(() => watch(id)));
      // Replay is paced: just after the watchers were accepted, none has been sent it all.
      const early = z.array(positionSchema).parse(await positions(stub));
      expect(early.filter((p) => p.sent >= stored.length)).toEqual([]);

      const results = await Promise.all(sockets.map((ws) => collectUntilClose(ws, REPLAY_MS)));
      for (const { messages, code } of results) {
        expect(code).toBe(1000);
        expectExactlyOnce(parseEvents(messages), stored);
      }
      expect(stored.at(-1)).toMatchObject({ type: 'status', status: 'canceled' });
    },
    REPLAY_MS + 30_000,
  );

  it(
    'replays from `after` and hands over to live events with no gap and no duplicate',
    async () => {
      const { id, stub } = await waitingJob(tenantId);
      const backlog = await fillLog(stub, 1024, 16 * KiB);
      const replaying = await watch(id, 10);
      const live = await watch(id, backlog);
      // The first watcher replays 16 MiB; meanwhile the other is live, and new events are stored
      // and broadcast.
      const during = z.array(positionSchema).parse(await positions(stub));
      expect(during.map((p) => p.live).sort()).toEqual([false, true]);
      for (let round = 0; round < 5; round++) {
        await emit(
          stub,
          [0, 1, 2, 3].map((i) => `live ${round}.${i}\n`),
        );
      }
      // A burst above the send window (3 MiB at once): every live watcher falls behind, and
      // catches up from the log.
      const burst = Array.from({ length: 192 }, (_, i) => filler(i, 16 * KiB));
      const afterBurst = z.array(positionSchema).parse(await emit(stub, burst));
      expect(afterBurst.map((p) => p.live)).toEqual([false, false]);
      await emit(stub, ['after the burst\n']);
      await stub.cancel(tenantId, 'test');
      const stored = await storedLog(stub);

      const [a, b] = await Promise.all([
        collectUntilClose(replaying, REPLAY_MS),
        collectUntilClose(live, REPLAY_MS),
      ]);
      expect(a.code).toBe(1000);
      expect(b.code).toBe(1000);
      expectExactlyOnce(parseEvents(a.messages), stored, 10);
      expectExactlyOnce(parseEvents(b.messages), stored, backlog);
    },
    REPLAY_MS + 30_000,
  );

  it(
    'resumes a replay from the position saved on its socket when a woken object finds it',
    async () => {
      // workerd evicts an object only once it is idle, and a replay in progress keeps a timer
      // pending, so evictDurableObject() waits for the replay to end. What an interrupted replay
      // leaves behind is a hibernated socket whose attachment says how far it got: make one.
      const { id, stub } = await waitingJob(tenantId);
      const ws = await watch(id);
      expect(parseEvents([await nextMessage(ws, 10_000)])).toMatchObject([{ seq: 1 }]);
      await fillLog(stub, 1024, 16 * KiB);
      await runInDurableObject(stub, (_, state) => {
        for (const socket of state.getWebSockets())
          socket.serializeAttachment({ sent: 1, live: false });
      });
      await evictDurableObject(stub, { webSockets: 'hibernate' });

      // Whatever wakes the object next (here a read) resumes the replay from that position.
      expect((await stub.get(tenantId))?.status).toBe('queued');
      const resumed = z.array(positionSchema).parse(await positions(stub));
      expect(resumed.map((p) => p.live)).toEqual([false]);
      await emit(stub, ['live after the resume\n']);
      await stub.cancel(tenantId, 'test');
      const { messages, code } = await collectUntilClose(ws, REPLAY_MS);
      expect(code).toBe(1000);
      expectExactlyOnce(parseEvents(messages), await storedLog(stub), 1);
    },
    REPLAY_MS + 30_000,
  );
});
