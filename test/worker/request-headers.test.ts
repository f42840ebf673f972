/**
 * Headers at the HTTP edge: the request id is always the server's (a client's `X-Request-Id` is
 * only logged beside it), every 401 carries a Bearer challenge (RFC 9110 §11.6.1, RFC 6750 §3),
 * and a 426 names the protocol to upgrade to (RFC 9110 §15.5.22).
 */
import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { z } from 'zod';
import { addKey, api, newTenant } from './helpers.ts';
import { auditEntries, expectProblem } from './identity-helpers.ts';
import { jobSpec } from './job-spec.ts';

let tenantId: string;
let owner: string;
beforeAll(async () => {
  ({ tenantId, apiKey: owner } = await newTenant('owner'));
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The shape of the ids the server makes: a UUID. */
const SERVER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const requestLineSchema = z.looseObject({
  msg: z.literal('request'),
  request_id: z.string(),
  client_request_id: z.string().optional(),
});

/** The `request` log lines (worker/middleware/request-log.ts) written through a console spy. */
function requestLines(spy: MockInstance<(...args: unknown[]) => void>) {
  return spy.mock.calls.flatMap(([line]) => {
    if (typeof line !== 'string' || !line.startsWith('{')) return [];
    const parsed = requestLineSchema.safeParse(JSON.parse(line));
    return parsed.success ? [parsed.data] : [];
  });
}

describe('the request id', () => {
  it("is the server's in the audit log, whatever X-Request-Id the client sent", async () => {
    const res = await api('/v1/keys', owner, {
      method: 'POST',
      headers: { 'x-request-id': 'forged-123' },
      body: JSON.stringify({ name: 'labelled', role: 'viewer' }),
    });
    expect(res.status).toBe(201);
    const { id } = z.object({ id: z.string() }).parse(await res.json());
    const serverId = res.headers.get('x-request-id') ?? '';
    expect(serverId).toMatch(SERVER_ID);

    const entry = (await auditEntries(owner, 'action=key.create')).find((e) => e.target === id);
    expect(entry?.request_id).toBe(serverId);
    expect(entry?.request_id).not.toBe('forged-123');
  });

  it('is fresh on every request, in the problem body too', async () => {
    const headers = { 'x-request-id': 'forged-123' };
    const first = await api('/v1/nothing', owner, { headers });
    const second = await api('/v1/nothing', owner, { headers });
    const problem = await expectProblem(first, 404, 'not_found');
    await second.body?.cancel();
    expect(problem.request_id).toBe(first.headers.get('x-request-id'));
    expect(problem.request_id).toMatch(SERVER_ID);
    expect(second.headers.get('x-request-id')).toMatch(SERVER_ID);
    expect(second.headers.get('x-request-id')).not.toBe(problem.request_id);
  });

  it("logs the client's X-Request-Id as client_request_id beside the server's", async () => {
    const info = vi.spyOn(console, 'log');
    const res = await api('/v1/jobs', owner, { headers: { 'x-request-id': 'forged-123' } });
    expect(res.status).toBe(200);
    await res.body?.cancel();
    const serverId = res.headers.get('x-request-id');
    expect(requestLines(info)).toContainEqual(
      expect.objectContaining({ request_id: serverId, client_request_id: 'forged-123' }),
    );
  });

  it('logs at most 200 printable ASCII characters of it, and nothing when there is none', async () => {
    const info = vi.spyOn(console, 'log');
    const sent = `a\tb\u0001"c\u007f${'x'.repeat(300)}`;
    const res = await api('/v1/jobs', owner, { headers: { 'x-request-id': sent } });
    await res.body?.cancel();
    const plain = await api('/v1/jobs', owner);
    await plain.body?.cancel();

    const lines = requestLines(info);
    const line = lines.find((l) => l.request_id === res.headers.get('x-request-id'));
    expect(line?.client_request_id).toBe(`ab"c${'x'.repeat(196)}`);
    const plainLine = lines.find((l) => l.request_id === plain.headers.get('x-request-id'));
    expect(plainLine).toBeDefined();
    expect(plainLine).not.toHaveProperty('client_request_id');
  });
});

describe('WWW-Authenticate', () => {
  it('challenges a request without credentials, with no error code', async () => {
    const res = await api('/v1/jobs', null);
    await expectProblem(res, 401, 'unauthorized');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="omni"');
  });

  it('challenges an unsupported scheme like a missing credential', async () => {
    const res = await api('/v1/jobs', null, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    await expectProblem(res, 401, 'unauthorized');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="omni"');
  });

  it.each([
    ['an unknown API key', `omni_${'a'.repeat(40)}`],
    ['a token that is neither a key nor a JWT', 'nonsense'],
    ['a JWT that does not verify', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'],
  ])('says invalid_token for %s', async (_name, token) => {
    const res = await api('/v1/jobs', token);
    const problem = await expectProblem(res, 401, 'unauthorized');
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer realm="omni", error="invalid_token", error_description="/);
    // RFC 6750 §3: the description is printable ASCII without a quote or a backslash.
    const description = /error_description="([^"]*)"$/.exec(challenge)?.[1] ?? '';
    expect(description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
    expect(problem.detail.replaceAll('"', '')).toContain(description);
  });

  it('says invalid_token for a refused stream token in the URL', async () => {
    const res = await api(`/v1/jobs/job_${'0'.repeat(32)}/stream?token=abc.def.ghi`, null);
    await expectProblem(res, 401, 'unauthorized');
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="omni", error="invalid_token"/,
    );
  });

  it('says insufficient_scope on a 403 for a role too weak', async () => {
    const res = await api('/v1/audit', await addKey(tenantId, 'viewer'));
    await expectProblem(res, 403, 'forbidden');
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="omni", error="insufficient_scope"/,
    );
  });

  it('is not sent on answers that are not 401 or 403', async () => {
    const ok = await api('/v1/jobs', owner);
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
    expect(ok.headers.get('www-authenticate')).toBeNull();
    const missing = await api('/v1/nothing', owner);
    await expectProblem(missing, 404, 'not_found');
    expect(missing.headers.get('www-authenticate')).toBeNull();
  });
});

describe('426 Upgrade Required', () => {
  it('names the WebSocket protocol when the stream is asked for without an upgrade', async () => {
    const res = await api(`/v1/jobs/job_${'0'.repeat(32)}/stream`, owner);
    await expectProblem(res, 426, 'upgrade_required');
    expect(res.headers.get('upgrade')).toBe('websocket');
    expect(res.headers.get('connection')).toBe('Upgrade');
  });

  it('is answered the same way by the Job DO itself', async () => {
    const spec = jobSpec(tenantId);
    const stub = env.JOB.getByName(spec.id);
    await stub.create(spec, 'waiting');
    const res = await stub.fetch(`https://job.internal/stream?after=0&tenant=${tenantId}`);
    expect(res.status).toBe(426);
    await res.body?.cancel();
    expect(res.headers.get('upgrade')).toBe('websocket');
    await stub.cancel(tenantId, 'key:test');
  });
});
