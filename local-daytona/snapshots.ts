/**
 * Read-only snapshot endpoints: the server's configured snapshot names appear as `active`
 * general snapshots, so `daytona.snapshot.get/list` work for existence checks.
 */
import { createHash } from 'node:crypto';
import { HttpError } from './errors.ts';
import { sendJson } from './http-util.ts';
import { route, type Route } from './router.ts';
import { snapshotResources } from './create-sandbox.ts';

const STARTED_AT = new Date().toISOString();

/** A stable uuid-shaped id for a snapshot name. */
function snapshotId(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** SnapshotDto for a configured snapshot name. */
function snapshotDto(name: string): Record<string, unknown> {
  const r = snapshotResources(name);
  return {
    id: snapshotId(name),
    general: true,
    name,
    imageName: name,
    state: 'active',
    size: null,
    entrypoint: null,
    cpu: r.cpu,
    gpu: 0,
    mem: r.memory,
    disk: r.disk,
    errorReason: null,
    createdAt: STARTED_AT,
    updatedAt: STARTED_AT,
    lastUsedAt: null,
    sourceSandboxId: null,
  };
}

/** Routes for `/snapshots` and `/snapshots/{idOrName}`. */
export function snapshotRoutes(names: readonly string[]): Route[] {
  return [
    route('GET', '/snapshots', ({ res, url }) => {
      const filter = url.searchParams.get('name')?.toLowerCase() ?? '';
      const all = names.filter((n) => n.toLowerCase().includes(filter)).map(snapshotDto);
      const limit = Math.max(Number(url.searchParams.get('limit') ?? 100) || 100, 1);
      const page = Math.max(Number(url.searchParams.get('page') ?? 1) || 1, 1);
      sendJson(res, 200, {
        items: all.slice((page - 1) * limit, page * limit),
        total: all.length,
        page,
        totalPages: Math.ceil(all.length / limit),
      });
    }),
    route('GET', '/snapshots/:id', ({ res, params }) => {
      const key = params['id'] ?? '';
      const name = names.find((n) => n === key || snapshotId(n) === key);
      if (!name) throw new HttpError(404, `Snapshot with ID or name ${key} not found`);
      sendJson(res, 200, snapshotDto(name));
    }),
  ];
}
