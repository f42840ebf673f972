/** Limits on one request: how long it may take to answer, and how large its body may be. */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp, MAX_BODY_BYTES } from '../../worker/app.ts';
import { newTenant } from './helpers.ts';

const problemSchema = z.object({ code: z.string(), detail: z.string(), request_id: z.string() });

let apiKey: string;
beforeAll(async () => {
  ({ apiKey } = await newTenant());
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('request timeout', () => {
  /** A fresh app with a 300 ms limit and a test-only route that takes a second to answer. */
  function slowApp() {
    const app = createApp({ requestTimeoutMs: 300 });
    app.get('/v1/test/slow', async (c) => {
      await sleep(1000);
      return c.json({ done: true });
    });
    return app;
  }

  async function call(path: string, headers: Record<string, string>): Promise<Response> {
    const ctx = createExecutionContext();
    const init = { headers: { authorization: `Bearer ${apiKey}`, ...headers } };
    const res = await slowApp().request(path, init, env, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  }

  it('answers 504 request_timeout as problem+json when the handler is too slow', async () => {
    const started = Date.now();
    const res = await call('/v1/test/slow', {});
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res.status).toBe(504);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = problemSchema.parse(await res.json());
    expect(problem.code).toBe('request_timeout');
    expect(problem.detail).toContain('0.3 seconds');
    expect(problem.request_id).toBe(res.headers.get('x-request-id'));
    // The headers set outside the timeout are still there.
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('does not cut a WebSocket upgrade short', async () => {
    const res = await call('/v1/test/slow', { upgrade: 'websocket' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
  });
});

describe('body size limit', () => {
  /** A body of `bytes` bytes, sent in 4 KiB chunks with no Content-Length (chunked). */
  function chunkedBody(bytes: number): ReadableStream<Uint8Array> {
    let sent = 0;
    return new ReadableStream({
      pull(controller) {
        if (sent >= bytes) return controller.close();
        const size = Math.min(4096, bytes - sent);
        controller.enqueue(new TextEncoder().encode('x'.repeat(size)));
        sent += size;
      },
    });
  }

  it('rejects an oversized chunked body that has no Content-Length', async () => {
    const request = new Request('https://omni.test/v1/jobs', {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: chunkedBody(MAX_BODY_BYTES + 4096),
    });
    expect(request.headers.get('content-length')).toBeNull();
    const res = await exports.default.fetch(request);
    expect(res.status).toBe(413);
    expect(problemSchema.parse(await res.json()).code).toBe('payload_too_large');
  });

  it('still reads a chunked body under the limit', async () => {
    const body = JSON.stringify({ repo: { url: 'ftp://example.com/r.git' }, command: 'true' });
    const request = new Request('https://omni.test/v1/jobs', {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: new Blob([body]).stream(),
    });
    const res = await exports.default.fetch(request);
    // Past the limit check, the body was parsed and validated.
    expect(res.status).toBe(400);
    expect(problemSchema.parse(await res.json()).detail).toContain('repo.url');
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])(
    'rejects an oversized %s body, on any path, before authentication',
    async (method) => {
      for (const path of ['/v1/jobs', '/v1/jobs/job_0/cancel', '/health']) {
        const res = await exports.default.fetch(
          new Request(`https://omni.test${path}`, {
            method,
            headers: { 'content-type': 'application/json' },
            body: 'x'.repeat(MAX_BODY_BYTES + 1),
          }),
        );
        expect(res.status, `${method} ${path}`).toBe(413);
      }
    },
  );
});
