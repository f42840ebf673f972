/**
 * client/schema.d.ts from docs/openapi.json: openapi-typescript's Node API, then prettier, so
 * that the committed file passes `npm run format:check`. `npm run client:generate` writes it and
 * test/node/client-schema.test.ts checks that the committed file is what this gives today.
 */
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import { format, resolveConfig } from 'prettier';

const BANNER = `/**
 * Types of the Omni API, generated from docs/openapi.json by openapi-typescript.
 * Do not edit: run \`npm run client:generate\`.
 */
`;

/** The text of client/schema.d.ts for this document. */
export async function schemaTypes(document: OpenAPI3, filePath: string): Promise<string> {
  const ast = await openapiTS(document);
  const options = (await resolveConfig(filePath)) ?? {};
  return format(BANNER + astToString(ast), { ...options, parser: 'typescript' });
}
