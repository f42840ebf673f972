/**
 * `npm run client:generate`: writes docs/openapi.json from the app (scripts/lib/openapi-document.ts,
 * offline, a few seconds) and client/schema.d.ts from that document (openapi-typescript).
 * Run it after changing a route's schema; `npm test` fails while either file is stale.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { OpenAPI3 } from 'openapi-typescript';
import { schemaTypes } from './lib/client-schema.ts';
import { appOpenApiDocument, documentText } from './lib/openapi-document.ts';

const documentPath = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));
const schemaPath = fileURLToPath(new URL('../client/schema.d.ts', import.meta.url));

/** Writes the file if its text changed; says which. */
async function update(filePath: string, text: string): Promise<void> {
  const before = await readFile(filePath, 'utf8').catch(() => null);
  if (before === text) {
    console.log(`unchanged ${filePath}`);
    return;
  }
  await writeFile(filePath, text);
  console.log(`wrote ${filePath}`);
}

const document = await appOpenApiDocument();
await update(documentPath, await documentText(document, documentPath));
await update(schemaPath, await schemaTypes(document as OpenAPI3, schemaPath));
