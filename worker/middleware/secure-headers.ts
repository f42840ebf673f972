/**
 * Security headers on every response, through hono's `secureHeaders`, set for a JSON API: a
 * Content-Security-Policy that allows nothing (a JSON answer never needs to load anything), no
 * framing, no referrer, HSTS, `nosniff`. The one HTML page, /docs, gets a policy that admits
 * Swagger UI from jsDelivr and exactly the inline script it ships with (by hash, not
 * 'unsafe-inline'). API answers are never cached: they carry credentials-dependent data.
 */
import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from '../types.ts';

/** The Swagger UI page; @hono/swagger-ui loads its assets from `SWAGGER_UI_ASSETS`. */
const DOCS_PATH = '/docs';

/** Where @hono/swagger-ui loads Swagger UI's script and stylesheet from. */
export const SWAGGER_UI_ASSETS = 'https://cdn.jsdelivr.net/npm/swagger-ui-dist/';

const apiHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
  },
  xFrameOptions: 'DENY',
});

async function sha256Base64(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/**
 * The CSP of the docs page, computed from the page itself: each inline `<script>` is allowed by
 * its SHA-256 (CSP Level 3 hash sources), so an upgrade of @hono/swagger-ui that changes the
 * script still works, and nothing else inline can run. Swagger UI sets inline styles and
 * data: images; neither can run code.
 */
async function docsPolicy(html: string): Promise<string> {
  const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)];
  const hashes = await Promise.all(
    inline.map(async (m) => `'sha256-${await sha256Base64(m[1] ?? '')}'`),
  );
  return [
    "default-src 'none'",
    `script-src ${[SWAGGER_UI_ASSETS, ...hashes].join(' ')}`,
    `style-src ${SWAGGER_UI_ASSETS} 'unsafe-inline'`,
    `img-src 'self' data: ${SWAGGER_UI_ASSETS}`,
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** Sets the security headers on every response, including errors and the docs page. */
export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  // A WebSocket handshake (101) has no content to protect, and its headers come from the Job DO.
  if (c.res.status === 101) return;
  // secureHeaders sets its headers once `next` returns; the answer is already here.
  await apiHeaders(c, async () => {});
  if (c.req.path === DOCS_PATH && c.res.headers.get('content-type')?.startsWith('text/html')) {
    c.res.headers.set('Content-Security-Policy', await docsPolicy(await c.res.clone().text()));
  }
});

/** `Cache-Control: no-store` on API answers: they depend on the caller and change constantly. */
export const noStore = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.res.status !== 101) c.header('Cache-Control', 'no-store');
});
