/**
 * Snapshot endpoints. The server's configured snapshot names appear as `active` general
 * snapshots. `POST /snapshots` registers a new one without building it: it is `pending` when
 * created and on the first read after that, `active` from the second read on, so a client's wait
 * loop sees one transition. `DELETE /snapshots/{id}` removes one. Registered names join the
 * server's snapshot list, so sandboxes can be created from them.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { HttpError } from './errors.ts';
import { readJson, sendEmpty, sendJson } from './http-util.ts';
import { route, type Route } from './router.ts';
import { snapshotResources } from './create-sandbox.ts';

const STARTED_AT = new Date().toISOString();

/** A stable uuid-shaped id for a snapshot name. */
function snapshotId(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A snapshot registered through `POST /snapshots`. */
interface Registered {
  cpu: number;
  mem: number;
  disk: number;
  createdAt: string;
  /** Reads since creation; the snapshot is `active` from the second one on. */
  reads: number;
  /** The Dockerfile it was registered with, or the image name. */
  dockerfile: string | null;
  imageName: string | null;
}

const CreateSnapshotSchema = z.object({
  name: z.string().min(1),
  imageName: z.string().min(1).optional(),
  buildInfo: z
    .object({ dockerfileContent: z.string().min(1), contextHashes: z.array(z.string()).optional() })
    .optional(),
  cpu: z.number().int().min(1).optional(),
  memory: z.number().int().min(1).optional(),
  disk: z.number().int().min(1).optional(),
});

/** Routes for `/snapshots` and `/snapshots/{idOrName}`; `names` is updated in place. */
export function snapshotRoutes(names: string[]): Route[] {
  const registered = new Map<string, Registered>();

  /** SnapshotDto for a snapshot name; `read` counts a read of a registered one. */
  function snapshotDto(name: string, read: boolean): Record<string, unknown> {
    const own = registered.get(name);
    if (own && read) own.reads++;
    const r = own ? { cpu: own.cpu, memory: own.mem, disk: own.disk } : snapshotResources(name);
    return {
      id: snapshotId(name),
      general: own === undefined,
      name,
      imageName: own?.imageName ?? name,
      state: own && own.reads < 2 ? 'pending' : 'active',
      size: null,
      entrypoint: null,
      cpu: r.cpu,
      gpu: 0,
      mem: r.memory,
      disk: r.disk,
      errorReason: null,
      createdAt: own?.createdAt ?? STARTED_AT,
      updatedAt: own?.createdAt ?? STARTED_AT,
      lastUsedAt: null,
      sourceSandboxId: null,
      buildInfo: own?.dockerfile ? { dockerfileContent: own.dockerfile } : null,
    };
  }

  const find = (key: string): string => {
    const name = names.find((n) => n === key || snapshotId(n) === key);
    if (!name) throw new HttpError(404, `Snapshot with ID or name ${key} not found`);
    return name;
  };

  return [
    route('GET', '/snapshots', ({ res, url }) => {
      const filter = url.searchParams.get('name')?.toLowerCase() ?? '';
      const all = names
        .filter((n) => n.toLowerCase().includes(filter))
        .map((n) => snapshotDto(n, false));
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
      sendJson(res, 200, snapshotDto(find(params['id'] ?? ''), true));
    }),
    route('POST', '/snapshots', async ({ req, res }) => {
      const body = await readJson(req, CreateSnapshotSchema);
      if ((body.imageName === undefined) === (body.buildInfo === undefined)) {
        throw new HttpError(400, 'Either imageName or buildInfo must be given');
      }
      if (names.includes(body.name)) {
        // The API description lists 200 and 400 for this call, no 409.
        throw new HttpError(400, `Snapshot with name "${body.name}" already exists`);
      }
      const base = snapshotResources(body.name);
      registered.set(body.name, {
        cpu: body.cpu ?? base.cpu,
        mem: body.memory ?? base.memory,
        disk: body.disk ?? base.disk,
        createdAt: new Date().toISOString(),
        reads: 0,
        dockerfile: body.buildInfo?.dockerfileContent ?? null,
        imageName: body.imageName ?? null,
      });
      names.push(body.name);
      sendJson(res, 200, snapshotDto(body.name, false));
    }),
    route('DELETE', '/snapshots/:id', ({ res, params }) => {
      const name = find(params['id'] ?? '');
      names.splice(names.indexOf(name), 1);
      registered.delete(name);
      sendEmpty(res, 200);
    }),
  ];
}
