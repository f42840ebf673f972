/** Security headers on every answer; no caching of API answers; a CSP on /docs that fits Swagger UI. */
import { env, exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
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
  // Static assets (web/public/docs, built into web/dist): in this pool `exports.default.fetch`
  // reaches the Worker itself, so the assets are read through their binding.
  const asset = (path: string) => env.ASSETS.fetch(new Request(`https://omni.test${path}`));

  it('is a static page that loads Swagger UI from this origin, with nothing inline', async () => {
    const res = await asset('/docs/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(/script-src ([^;]*)/.exec(csp)?.[1]).toBe("'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets).toEqual(
      expect.arrayContaining([
        '/docs/vendor/swagger-ui.css',
        '/docs/vendor/swagger-ui-bundle.js',
        '/assets/docs.js',
      ]),
    );
    // Every asset is a path on this origin (or the empty data: icon).
    for (const url of assets) expect(url === 'data:,' || /^\/[^/]/.test(url), url).toBe(true);
  });

  it('serves the pinned Swagger UI files and the script that starts it on /openapi.json', async () => {
    for (const path of ['/docs/vendor/swagger-ui-bundle.js', '/docs/vendor/swagger-ui.css']) {
      const res = await asset(path);
      expect(res.status, path).toBe(200);
      await res.body?.cancel();
    }
    const script = await asset('/assets/docs.js');
    expect(script.status).toBe(200);
    expect(await script.text()).toContain('/openapi.json');
  });

  it('no longer has a route in the Worker', async () => {
    const res = await exports.default.fetch(new Request('https://omni.test/docs'));
    expect(res.status).toBe(404);
    await res.body?.cancel();
  });
});
