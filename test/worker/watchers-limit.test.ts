/** How many watchers one job accepts: JOB_MAX_WATCHERS, 1000 by default; one more is a 429. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, jobMaxWatchers } from '../../worker/config.ts';
import { newTenant } from './helpers.ts';
import { waitingJob } from './replay-helpers.ts';
import { requestStream } from './sockets.ts';

describe('watchers per job', () => {
  it('come from JOB_MAX_WATCHERS, read on its own: missing Daytona settings do not matter', () => {
    expect(env.JOB_MAX_WATCHERS).toBe('1000');
    expect(jobMaxWatchers({})).toBe(1000);
    expect(jobMaxWatchers({ JOB_MAX_WATCHERS: '5' })).toBe(5);
    expect(() => jobMaxWatchers({ JOB_MAX_WATCHERS: '0' })).toThrow(ConfigError);
    expect(() => jobMaxWatchers({ JOB_MAX_WATCHERS: 'many' })).toThrow(/JOB_MAX_WATCHERS/);
  });

  it('are accepted up to 1000 on one job; the next one is refused with 429', async () => {
    const { tenantId, apiKey } = await newTenant();
    const { id, stub } = await waitingJob(tenantId);
    const sockets: WebSocket[] = [];
    try {
      // Straight to the Job DO, 50 at a time: 1000 authenticated requests would only test auth.
      while (sockets.length < 1000) {
        const batch = await Promise.all(
          Array.from({ length: 50 }, () =>
            stub.fetch(
              `https://job.internal/stream?after=0&tenant=${tenantId}&actor=user:test&grant=claim`,
              {
                headers: { upgrade: 'websocket' },
              },
            ),
          ),
        );
        for (const res of batch) {
          expect(res.status).toBe(101);
          const ws = res.webSocket;
          if (!ws) throw new Error('a 101 without a WebSocket');
          ws.accept();
          sockets.push(ws);
        }
      }
      const refused = await requestStream(`/v1/jobs/${id}/stream`, apiKey);
      expect(refused.status).toBe(429);
      const problem = z.object({ code: z.string() }).parse(await refused.json());
      expect(problem.code).toBe('too_many_requests');
    } finally {
      for (const ws of sockets) ws.close(1000, 'test over');
      await stub.cancel(tenantId, 'test');
    }
  }, 120_000);
});
