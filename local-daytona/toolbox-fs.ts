/**
 * Small filesystem routes of the toolbox: list a directory, file info, create a folder, delete.
 */
import type { Stats } from 'node:fs';
import { lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { HttpError } from './errors.ts';
import { sendEmpty, sendJson } from './http-util.ts';
import { resolveSandboxPath, toSandboxPath, type SandboxFs } from './paths.ts';
import { route, type Route } from './router.ts';
import type { SandboxLookup } from './toolbox-process.ts';

/** Go's FileMode.String() for the common cases, e.g. `-rw-r--r--` or `drwxr-xr-x`. */
function modeString(s: Stats): string {
  const kind = s.isDirectory() ? 'd' : s.isSymbolicLink() ? 'L' : '-';
  const bits = 'rwxrwxrwx';
  let perms = '';
  for (let i = 0; i < 9; i++) perms += s.mode & (1 << (8 - i)) ? bits[i] : '-';
  return kind + perms;
}

function infoFromStats(fs: SandboxFs, host: string, s: Stats): Record<string, unknown> {
  return {
    name: path.basename(host),
    path: toSandboxPath(fs, host),
    size: s.size,
    mode: modeString(s),
    modTime: s.mtime.toString(),
    modifiedAt: s.mtime.toISOString(),
    isDir: s.isDirectory(),
    owner: String(s.uid),
    group: String(s.gid),
    permissions: (s.mode & 0o7777).toString(8).padStart(4, '0'),
  };
}

function statError(err: unknown, requested: string): HttpError {
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new HttpError(404, `file not found: ${requested}`, 'FILE_NOT_FOUND');
  }
  if (code === 'EACCES') {
    return new HttpError(403, `permission denied: ${requested}`, 'FILE_ACCESS_DENIED');
  }
  return new HttpError(400, err instanceof Error ? err.message : String(err));
}

/** FileInfo for a sandbox path (404 FILE_NOT_FOUND when it does not exist). */
export async function fileInfo(fs: SandboxFs, requested: string): Promise<Record<string, unknown>> {
  if (requested === '') throw new HttpError(400, 'path is required');
  const host = resolveSandboxPath(fs, requested);
  try {
    return infoFromStats(fs, host, await stat(host));
  } catch (err) {
    throw statError(err, requested);
  }
}

/** Routes for `GET/DELETE /files` and `POST /files/folder`. */
export function fsRoutes(lookup: SandboxLookup): Route[] {
  return [
    route('GET', '/:sandboxId/files', async (ctx) => {
      const { fs } = lookup(ctx);
      const requested = ctx.url.searchParams.get('path') ?? '.';
      const host = resolveSandboxPath(fs, requested);
      try {
        const names = await readdir(host);
        const infos = await Promise.all(
          names.map(async (name) =>
            infoFromStats(fs, path.join(host, name), await lstat(path.join(host, name))),
          ),
        );
        sendJson(ctx.res, 200, infos);
      } catch (err) {
        throw statError(err, requested);
      }
    }),
    route('POST', '/:sandboxId/files/folder', async (ctx) => {
      const { fs } = lookup(ctx);
      const requested = ctx.url.searchParams.get('path') ?? '';
      if (requested === '') throw new HttpError(400, 'path is required');
      const mode = parseInt(ctx.url.searchParams.get('mode') ?? '755', 8);
      await mkdir(resolveSandboxPath(fs, requested), {
        recursive: true,
        mode: Number.isNaN(mode) ? 0o755 : mode,
      });
      sendJson(ctx.res, 201, {});
    }),
    route('DELETE', '/:sandboxId/files', async (ctx) => {
      const { fs } = lookup(ctx);
      const requested = ctx.url.searchParams.get('path') ?? '';
      if (requested === '') throw new HttpError(400, 'path is required');
      const host = resolveSandboxPath(fs, requested);
      if (host === fs.rootDir || host === fs.workDir) {
        throw new HttpError(400, `refusing to delete ${requested}`);
      }
      let s: Stats;
      try {
        s = await lstat(host);
      } catch (err) {
        throw statError(err, requested);
      }
      const recursive = ctx.url.searchParams.get('recursive') === 'true';
      if (s.isDirectory() && !recursive) {
        throw new HttpError(400, 'cannot delete directory without recursive flag');
      }
      await rm(host, { recursive, force: false });
      sendEmpty(ctx.res, 204);
    }),
  ];
}
