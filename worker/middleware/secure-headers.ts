/**
 * Security headers on every response, through hono's `secureHeaders`, set for a JSON API: a
 * Content-Security-Policy that allows nothing (a JSON answer never needs to load anything), no
 * framing, no referrer, HSTS, `nosniff`. API answers are never cached: they carry
 * credentials-dependent data. The HTML pages (/app, /docs) are static assets, never answered by
 * the Worker: their headers are in web/public/_headers.
 */
import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from '../types.ts';

const apiHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
  },
  xFrameOptions: 'DENY',
});

/** Sets the security headers on every response the Worker makes, errors included. */
export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  // A WebSocket handshake (101) has no content to protect, and its headers come from the Job DO.
  if (c.res.status === 101) return;
  // secureHeaders sets its headers once `next` returns; the answer is already here.
  await apiHeaders(c, async () => {});
});

/** `Cache-Control: no-store` on API answers: they depend on the caller and change constantly. */
export const noStore = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.res.status !== 101) c.header('Cache-Control', 'no-store');
});
