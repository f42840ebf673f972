/**
 * The typed client (client/index.ts) against the app in workerd: the key goes out as a bearer
 * token, bodies and parameters as the document says, and an error answer comes back as an
 * OmniApiError with the problem's fields and the request id.
 */
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOmniClient, OmniApiError, unwrap, type OmniClient } from '../../client/index.ts';
import { newTenant } from './helpers.ts';

const fetchApp = (request: Request) => exports.default.fetch(request);

let omni: OmniClient;

beforeAll(async () => {
  const { apiKey } = await newTenant('admin');
  omni = createOmniClient({ baseUrl: 'https://omni.test/', apiKey, fetch: fetchApp });
});

/** The error `promise` rejects with, which must be an OmniApiError. */
async function apiError(promise: Promise<unknown>): Promise<OmniApiError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(OmniApiError);
  return error as OmniApiError;
}

describe('createOmniClient', () => {
  it('lists jobs of a new tenant: none', async () => {
    const page = await unwrap(omni.GET('/v1/jobs', { params: { query: { limit: 5 } } }));
    expect(page).toEqual({ data: [], next_cursor: null });
  });

  it('creates a project and reads it back', async () => {
    const name = `client-${crypto.randomUUID().slice(0, 8)}`;
    const created = await unwrap(omni.POST('/v1/projects', { body: { name } }));
    expect(created.name).toBe(name);
    const read = await unwrap(
      omni.GET('/v1/projects/{id}', { params: { path: { id: created.id } } }),
    );
    expect(read).toEqual(created);
  });

  it('public routes need no key', async () => {
    const anonymous = createOmniClient({ baseUrl: 'https://omni.test', fetch: fetchApp });
    expect(await unwrap(anonymous.GET('/health'))).toEqual({ status: 'ok' });
  });
});

describe('OmniApiError', () => {
  it('carries status, type, title, detail, code and the request id of a 404', async () => {
    const call = omni.GET('/v1/jobs/{id}', { params: { path: { id: 'job_unknown' } } });
    const { response } = await call;
    const error = await apiError(unwrap(call));
    expect(error.status).toBe(404);
    expect(error.type).toBe('urn:omni:error:not_found');
    expect(error.code).toBe('not_found');
    expect(error.title).not.toBe('');
    expect(error.detail).toBe('No job with id job_unknown.');
    expect(error.message).toBe(error.detail);
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.requestId).toBe(response.headers.get('X-Request-Id'));
  });

  it('lists the fields of a validation error', async () => {
    const error = await apiError(unwrap(omni.POST('/v1/projects', { body: { name: '' } })));
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_request');
    expect(error.errors.map((item) => item.path)).toContain('name');
  });

  it('a wrong key is a 401 with the server request id', async () => {
    const stranger = createOmniClient({
      baseUrl: 'https://omni.test',
      apiKey: 'omni_not_a_key',
      fetch: fetchApp,
    });
    const error = await apiError(unwrap(stranger.GET('/v1/jobs')));
    expect(error.status).toBe(401);
    expect(error.code).toBe('unauthorized');
    expect(error.requestId).toBeTruthy();
  });

  it('an answer without a problem document keeps the status and the body', async () => {
    const proxy = createOmniClient({
      baseUrl: 'https://omni.test',
      fetch: async () =>
        new Response('<html>Bad gateway</html>', {
          status: 502,
          statusText: 'Bad Gateway',
          headers: { 'content-type': 'text/html', 'X-Request-Id': 'edge-1' },
        }),
    });
    const error = await apiError(unwrap(proxy.GET('/health')));
    expect(error.status).toBe(502);
    expect(error.type).toBe('about:blank');
    expect(error.title).toBe('Bad Gateway');
    expect(error.detail).toBe('<html>Bad gateway</html>');
    expect(error.code).toBeUndefined();
    expect(error.requestId).toBe('edge-1');
  });
});
