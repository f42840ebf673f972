/** Security headers on every answer; no caching of API answers; a CSP on /docs that fits Swagger UI. */
import { beforeAll, describe, expect, it } from 'vitest';
import { SWAGGER_UI_ASSETS } from '../../worker/middleware/secure-headers.ts';
import { api, newTenant } from './helpers.ts';

let apiKey: string;
beforeAll(async () => {
  ({ apiKey } = await newTenant());
});

function expectApiHeaders(res: Response) {
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(res.headers.get('strict-transport-security')).toContain('max-age=');
  expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
}

describe('every answer', () => {
  it.each([
    ['an API answer', '/v1/jobs', true, 200],
    ['an API error', '/v1/nothing', true, 404],
    ['an answer outside the API', '/health', false, 200],
    ['an unknown route', '/nothing', false, 404],
  ])('carries the security headers: %s', async (_name, path, withKey, status) => {
    const res = await api(path, withKey ? apiKey : null);
    expect(res.status).toBe(status);
    expectApiHeaders(res);
  });

  it('carries them on an unauthenticated API error', async () => {
    const res = await api('/v1/jobs', null);
    expect(res.status).toBe(401);
    expectApiHeaders(res);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});

describe('caching', () => {
  it('forbids storing API answers', async () => {
    const res = await api('/v1/jobs', apiKey);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});

describe('/docs', () => {
  async function sha256(text: string): Promise<string> {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
    return btoa(String.fromCharCode(...new Uint8Array(digest)));
  }

  it('admits Swagger UI from jsDelivr and its own inline script, and nothing else', async () => {
    const res = await api('/docs', null);
    expect(res.status).toBe(200);
    const html = await res.text();
    const csp = res.headers.get('content-security-policy') ?? '';
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1]?.split(' ') ?? [];
    expect(scriptSrc).not.toContain("'unsafe-inline'");
    expect(scriptSrc).toContain(SWAGGER_UI_ASSETS);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");

    const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
    expect(inline.length).toBeGreaterThan(0);
    for (const script of inline) expect(scriptSrc).toContain(`'sha256-${await sha256(script)}'`);
    // Every asset the page loads is under the one allowed prefix.
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) expect(asset.startsWith(SWAGGER_UI_ASSETS)).toBe(true);
  });
});
