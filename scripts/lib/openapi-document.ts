/**
 * The app's OpenAPI document, read in Node without workerd: `cloudflare:workers` (imported for
 * its `env` and `DurableObject`) is answered by a small stand-in module, then the app built by
 * worker/app.ts answers GET /openapi.json as it does in the Worker. Nothing else is needed to
 * build the document: it comes from the route schemas alone. Used by `npm run client:generate`.
 */
import { registerHooks } from 'node:module';
import { format, resolveConfig } from 'prettier';

/** What the Worker's modules use from `cloudflare:workers` while the app is built. */
const STAND_IN =
  'export const env = { LOG_LEVEL: "error" }; export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }';

/**
 * What this file uses of worker/app.ts. The module is imported by URL, so that the Node
 * typecheck does not take in the Worker's sources (checked by tsconfig.json with its own types).
 */
interface AppModule {
  createApp(): { request(path: string, init: RequestInit, env: object): Promise<Response> };
}

const APP_MODULE = new URL('../../worker/app.ts', import.meta.url).href;

let hooked = false;

function standInForWorkersRuntime(): void {
  if (hooked) return;
  hooked = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === 'cloudflare:workers') {
        return { url: `data:text/javascript,${encodeURIComponent(STAND_IN)}`, shortCircuit: true };
      }
      return nextResolve(specifier, context);
    },
  });
}

/** The document the app serves at /openapi.json, parsed. */
export async function appOpenApiDocument(): Promise<unknown> {
  standInForWorkersRuntime();
  const { createApp } = (await import(APP_MODULE)) as AppModule;
  const response = await createApp().request('/openapi.json', {}, {});
  if (response.status !== 200) {
    throw new Error(`GET /openapi.json answered ${response.status}: ${await response.text()}`);
  }
  return response.json();
}

/** The document as committed in docs/openapi.json: two-space JSON as prettier leaves it. */
export async function documentText(document: unknown, filePath: string): Promise<string> {
  const options = (await resolveConfig(filePath)) ?? {};
  return format(JSON.stringify(document, null, 2), { ...options, parser: 'json' });
}
