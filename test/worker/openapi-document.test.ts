/**
 * docs/openapi.json is the document the app serves at /openapi.json: a route whose schema
 * changed without `npm run client:generate` fails here (and client/schema.d.ts, generated from
 * the committed document, is checked by test/node/client-schema.test.ts).
 */
import { exports } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import committed from '../../docs/openapi.json';

it('docs/openapi.json is the live /openapi.json (else run npm run client:generate)', async () => {
  const res = await exports.default.fetch(new Request('https://omni.test/openapi.json'));
  expect(res.status).toBe(200);
  const live: unknown = await res.json();
  expect(live, 'docs/openapi.json is stale: run `npm run client:generate`').toEqual(committed);
});

it('every operation has a unique operationId, tags and a declared security', async () => {
  const res = await exports.default.fetch(new Request('https://omni.test/openapi.json'));
  const doc = (await res.json()) as {
    security?: unknown[];
    paths: Record<string, Record<string, { operationId?: string; tags?: string[] }>>;
  };
  expect(doc.security).toEqual([{ bearerAuth: [] }]);
  const ids = Object.values(doc.paths).flatMap((item) =>
    Object.values(item).map((operation) => {
      expect(operation.tags?.length).toBeGreaterThan(0);
      return operation.operationId;
    }),
  );
  expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]*$/.test(id))).toBe(true);
  expect(new Set(ids).size).toBe(ids.length);
});
