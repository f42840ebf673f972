/**
 * Control-API routes (everything under `/api`): sandbox lifecycle, lookup, URLs, snapshots.
 */
import { z } from 'zod';
import { CreateSandboxSchema } from './create-sandbox.ts';
import { HttpError } from './errors.ts';
import { readJson, sendJson } from './http-util.ts';
import { route, type Route } from './router.ts';
import type { LocalSandbox } from './sandbox.ts';
import type { SandboxRegistry } from './sandboxes.ts';
import { snapshotRoutes } from './snapshots.ts';

/** What the API routes need from the server. */
interface ApiDeps {
  readonly registry: SandboxRegistry;
  readonly snapshots: string[];
  /** Base URL of the toolbox, e.g. http://127.0.0.1:3986/toolbox. */
  toolboxUrl(): string;
  /** Origin of the server, e.g. http://127.0.0.1:3986. */
  origin(): string;
}

const LabelsSchema = z.object({ labels: z.record(z.string(), z.string()) });

function intParam(value: string | undefined, name: string): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n)) throw new HttpError(400, `Invalid ${name}`);
  return n;
}

/** Applies the list endpoint's filters that are cheap to support. */
function matchesQuery(sandbox: LocalSandbox, query: URLSearchParams): boolean {
  const id = query.get('id');
  if (id && !sandbox.id.toLowerCase().startsWith(id.toLowerCase())) return false;
  const name = query.get('name');
  if (name && !sandbox.spec.name.toLowerCase().startsWith(name.toLowerCase())) return false;
  const states = query.getAll('states');
  if (states.length > 0 && !states.includes(sandbox.state)) return false;
  const snapshots = query.getAll('snapshots');
  if (snapshots.length > 0 && !snapshots.includes(sandbox.spec.snapshot)) return false;
  const labels = query.get('labels');
  if (labels) {
    let wanted: unknown;
    try {
      wanted = JSON.parse(labels);
    } catch {
      throw new HttpError(400, 'labels must be a JSON object');
    }
    const parsed = z.record(z.string(), z.string()).safeParse(wanted);
    if (!parsed.success) throw new HttpError(400, 'labels must be a JSON object of strings');
    for (const [k, v] of Object.entries(parsed.data))
      if (sandbox.spec.labels[k] !== v) return false;
  }
  return true;
}

/** Builds the `/api` route table. */
export function apiRoutes(deps: ApiDeps): Route[] {
  const { registry } = deps;
  const dto = (s: LocalSandbox): Record<string, unknown> => s.dto(deps.toolboxUrl());
  return [
    route('GET', '/config', ({ res }) => sendJson(res, 200, {})),
    route('GET', '/sandbox', ({ res, url }) => {
      const all = registry.list().filter((s) => matchesQuery(s, url.searchParams));
      const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 100) || 100, 1), 200);
      // The cursor is an opaque offset into the (newest-first) list.
      const offset = Number(url.searchParams.get('cursor') ?? 0) || 0;
      const page = all.slice(offset, offset + limit);
      const next = offset + limit < all.length ? String(offset + limit) : null;
      sendJson(res, 200, {
        items: page.map((s) => s.listItem(deps.toolboxUrl())),
        nextCursor: next,
      });
    }),
    route('POST', '/sandbox', async ({ req, res }) => {
      const body = await readJson(req, CreateSandboxSchema);
      sendJson(res, 200, dto(await registry.create(body)));
    }),
    route('GET', '/sandbox/:id', ({ res, params }) => {
      sendJson(res, 200, dto(registry.find(params['id'] ?? '')));
    }),
    route('DELETE', '/sandbox/:id', async ({ res, params }) => {
      const sandbox = registry.find(params['id'] ?? '');
      await registry.destroy(sandbox);
      sendJson(res, 200, dto(sandbox));
    }),
    route('POST', '/sandbox/:id/start', ({ res, params }) => {
      const sandbox = registry.find(params['id'] ?? '');
      registry.start(sandbox);
      sendJson(res, 200, dto(sandbox));
    }),
    route('POST', '/sandbox/:id/stop', async ({ res, params }) => {
      const sandbox = registry.find(params['id'] ?? '');
      await registry.stop(sandbox);
      sendJson(res, 200, dto(sandbox));
    }),
    route('GET', '/sandbox/:id/toolbox-proxy-url', ({ res, params }) => {
      registry.find(params['id'] ?? '');
      sendJson(res, 200, { url: deps.toolboxUrl() });
    }),
    route('GET', '/sandbox/:id/ports/:port/preview-url', ({ res, params }) => {
      const sandbox = registry.find(params['id'] ?? '');
      const port = intParam(params['port'], 'port');
      if (port < 1 || port > 65535) throw new HttpError(400, 'Invalid port');
      // Nothing is served there; the token is what matters (log websockets accept it).
      const url = `${deps.origin()}/preview/${sandbox.id}/${port}`;
      sendJson(res, 200, { sandboxId: sandbox.id, url, token: sandbox.previewToken });
    }),
    route('POST', '/sandbox/:id/last-activity', ({ res, params }) => {
      registry.touch(registry.find(params['id'] ?? ''));
      sendJson(res, 201, {});
    }),
    route('POST', '/sandbox/:id/autostop/:interval', ({ res, params }) => {
      const sandbox = registry.find(params['id'] ?? '');
      const minutes = intParam(params['interval'], 'interval');
      if (minutes < 0) throw new HttpError(400, 'Auto-stop interval must be non-negative');
      registry.setAutoStop(sandbox, minutes);
      sendJson(res, 200, dto(sandbox));
    }),
    route('POST', '/sandbox/:id/autoarchive/:interval', ({ res, params }) => {
      const sandbox = registry.find(params['id'] ?? '');
      const minutes = intParam(params['interval'], 'interval');
      if (minutes < 0) throw new HttpError(400, 'Auto-archive interval must be non-negative');
      sandbox.spec.autoArchiveInterval = minutes || 10080;
      sendJson(res, 200, dto(sandbox));
    }),
    route('POST', '/sandbox/:id/autodelete/:interval', ({ res, params }) => {
      const sandbox = registry.find(params['id'] ?? '');
      sandbox.spec.autoDeleteInterval = intParam(params['interval'], 'interval');
      sendJson(res, 200, dto(sandbox));
    }),
    route('PUT', '/sandbox/:id/labels', async ({ req, res, params }) => {
      const sandbox = registry.find(params['id'] ?? '');
      const { labels } = await readJson(req, LabelsSchema);
      sandbox.spec.labels = labels;
      sendJson(res, 200, { labels });
    }),
    ...snapshotRoutes(deps.snapshots),
  ];
}
