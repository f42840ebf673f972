/**
 * client/schema.d.ts is what openapi-typescript makes of docs/openapi.json today: a document
 * changed without `npm run client:generate` fails here. (That the document is the app's own is
 * checked in workerd: test/worker/openapi-document.test.ts.)
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { OpenAPI3 } from 'openapi-typescript';
import { expect, it } from 'vitest';
import { schemaTypes } from '../../scripts/lib/client-schema.ts';

const documentPath = fileURLToPath(new URL('../../docs/openapi.json', import.meta.url));
const schemaPath = fileURLToPath(new URL('../../client/schema.d.ts', import.meta.url));

it('client/schema.d.ts is generated from docs/openapi.json (else run npm run client:generate)', async () => {
  const document = JSON.parse(await readFile(documentPath, 'utf8')) as OpenAPI3;
  const fresh = await schemaTypes(document, schemaPath);
  const committed = await readFile(schemaPath, 'utf8');
  expect(committed, 'client/schema.d.ts is stale: run `npm run client:generate`').toBe(fresh);
});

it('the generated types change with the document', async () => {
  const document = JSON.parse(await readFile(documentPath, 'utf8')) as OpenAPI3;
  const before = await schemaTypes(document, schemaPath);
  const changed = structuredClone(document);
  changed.info.version = '0.0.0-test';
  const health = changed.paths?.['/health'];
  if (!health || '$ref' in health || !health.get || '$ref' in health.get) {
    throw new Error('no GET /health in the document');
  }
  health.get.summary = 'A summary no route has';
  expect(await schemaTypes(changed, schemaPath)).not.toBe(before);
});
