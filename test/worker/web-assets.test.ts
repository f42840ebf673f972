/**
 * The web view's static assets (web/dist, built by `npm run build:web`) as Workers static assets
 * serve them: the page, its script and stylesheet, and the headers of web/public/_headers (a CSP
 * with nothing inline). In this pool `exports.default.fetch` calls the Worker itself, past the
 * assets, so the assets are read through their binding; the order (a file first, the Worker for
 * every other path, the API always to the Worker) is checked against `wrangler dev` by
 * test/node/web-view.test.ts.
 */
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

const get = (path: string) => env.ASSETS.fetch(new Request(`https://omni.test${path}`));

describe('the web view at /app', () => {
  it('serves the page with a CSP that admits nothing inline and nothing from elsewhere', async () => {
    const res = await get('/app/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/assets/app.js"></script>');
    // No inline script, no <style>, no style attribute: all would need 'unsafe-inline'.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
  });

  it('serves its script and stylesheet', async () => {
    const script = await get('/assets/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(await script.text()).toContain('/v1/jobs/{id}/stream-token');
    const css = await get('/app/app.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('does not serve its headers file', async () => {
    expect((await get('/_headers')).status).toBe(404);
  });

  it('has no file under an API path', async () => {
    expect((await get('/v1/jobs')).status).toBe(404);
    const res = await exports.default.fetch(new Request('https://omni.test/v1/jobs'));
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});
