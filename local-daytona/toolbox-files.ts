/**
 * Toolbox file routes: bulk upload (multipart in), bulk download (multipart out), file info.
 */
import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { DAEMON_SOURCE, errorBody, HttpError, toHttpError } from './errors.ts';
import { MAX_UPLOAD_BODY, readBody, readJson, sendJson } from './http-util.ts';
import { resolveSandboxPath } from './paths.ts';
import { route, type Route } from './router.ts';
import { fileInfo, fsRoutes } from './toolbox-fs.ts';
import type { SandboxLookup } from './toolbox-process.ts';

/** The boundary the real daemon uses for bulk downloads. */
const BOUNDARY = 'DAYTONA-FILE-BOUNDARY';

const DownloadSchema = z.object({ paths: z.array(z.string()).min(1) });

/**
 * Content-Disposition as the daemon writes it: a sanitised Latin-1 `filename` (which the SDK
 * matches against the requested path) plus an RFC 5987 `filename*` for non-Latin-1 paths.
 */
function disposition(name: 'file' | 'error', requested: string): string {
  const latin1 = [...requested.replace(/[\r\n\0]/g, '')]
    .map((ch) => {
      const code = ch.codePointAt(0) ?? 0;
      if (ch === '\\' || ch === '"') return '\\' + ch;
      return code < 0x20 || code === 0x7f || code > 0xff ? '_' : ch;
    })
    .join('');
  const encoded = [...Buffer.from(requested, 'utf8')]
    .map((b) => {
      const ch = String.fromCharCode(b);
      return /[A-Za-z0-9!#$&+\-.^_`|~]/.test(ch)
        ? ch
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
  return `form-data; name="${name}"; filename="${latin1}"; filename*=utf-8''${encoded}`;
}

/** Describes why a requested path cannot be downloaded, or undefined if it can. */
async function downloadProblem(
  host: string | HttpError,
  requested: string,
): Promise<{ status: number; code: string; message: string } | undefined> {
  if (host instanceof HttpError) {
    return { status: host.status, code: host.code ?? 'INVALID_FILE_PATH', message: host.message };
  }
  try {
    const info = await stat(host);
    if (info.isDirectory()) {
      const message = `invalid file path: path points to a directory: ${requested}`;
      return { status: 400, code: 'INVALID_FILE_PATH', message };
    }
    return undefined;
  } catch (err) {
    const errno = err instanceof Error && 'code' in err ? err.code : undefined;
    if (errno === 'EACCES') {
      return {
        status: 403,
        code: 'FILE_ACCESS_DENIED',
        message: `permission denied: ${requested}`,
      };
    }
    return { status: 404, code: 'FILE_NOT_FOUND', message: `file not found: ${requested}` };
  }
}

/** Builds the file routes (paths relative to `/toolbox`). */
export function fileRoutes(lookup: SandboxLookup): Route[] {
  return [
    route('POST', '/:sandboxId/files/bulk-upload', async (ctx) => {
      const sandbox = lookup(ctx);
      const raw = await readBody(ctx.req, MAX_UPLOAD_BODY);
      let form: FormData;
      try {
        const request = new Request('http://local/upload', {
          method: 'POST',
          headers: { 'content-type': ctx.req.headers['content-type'] ?? '' },
          body: new Uint8Array(raw),
        });
        form = await request.formData();
      } catch {
        throw new HttpError(400, 'invalid multipart form', 'INVALID_REQUEST_BODY');
      }
      const destinations = new Map<string, string>();
      const errors: string[] = [];
      const files: { path: string; bytes: number }[] = [];
      for (const [field, value] of form.entries()) {
        const m = /^files\[(.+)\]\.(path|file)$/.exec(field);
        if (!m) continue;
        const index = m[1] ?? '';
        if (m[2] === 'path') {
          const dest = typeof value === 'string' ? value.trim() : '';
          if (dest === '') errors.push(`path[${index}]: empty path`);
          else destinations.set(index, dest);
          continue;
        }
        const dest = destinations.get(index);
        if (dest === undefined) {
          errors.push(`file[${index}]: missing .path metadata`);
          continue;
        }
        if (typeof value === 'string') {
          errors.push(`file[${index}]: not a file part`);
          continue;
        }
        try {
          const host = resolveSandboxPath(sandbox.fs, dest);
          await mkdir(path.dirname(host), { recursive: true });
          const bytes = Buffer.from(await value.arrayBuffer());
          await writeFile(host, bytes);
          files.push({ path: dest, bytes: bytes.length });
        } catch (err) {
          errors.push(`${dest}: ${toHttpError(err).message}`);
        }
      }
      if (errors.length > 0) {
        // The daemon's `errors` and `files`, inside the ErrorResponse toolbox.json documents.
        const message = errors.join('; ');
        const base = errorBody('toolbox', 400, message, ctx.url.pathname, 'POST', 'BAD_REQUEST');
        sendJson(ctx.res, 400, { ...base, errors, files });
        return;
      }
      sendJson(ctx.res, 200, { files });
    }),
    route('POST', '/:sandboxId/files/bulk-download', async (ctx) => {
      const sandbox = lookup(ctx);
      const { paths } = await readJson(ctx.req, DownloadSchema);
      const res = ctx.res;
      res.writeHead(200, { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` });
      for (const requested of paths) {
        let host: string | HttpError;
        try {
          host = resolveSandboxPath(sandbox.fs, requested);
        } catch (err) {
          host = toHttpError(err);
        }
        const problem = await downloadProblem(host, requested);
        if (problem || typeof host !== 'string') {
          const p = problem ?? { status: 400, code: 'INVALID_FILE_PATH', message: 'invalid path' };
          const body = JSON.stringify({
            statusCode: p.status,
            message: p.message,
            code: p.code,
            source: DAEMON_SOURCE,
            timestamp: new Date().toISOString(),
            path: requested,
            method: 'POST',
          });
          res.write(
            `--${BOUNDARY}\r\nContent-Disposition: ${disposition('error', requested)}\r\n` +
              `Content-Type: application/json; charset=utf-8\r\n\r\n${body}\r\n`,
          );
          continue;
        }
        const { size } = await stat(host);
        res.write(
          `--${BOUNDARY}\r\nContent-Disposition: ${disposition('file', requested)}\r\n` +
            `Content-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`,
        );
        await pipeline(createReadStream(host), res, { end: false });
        res.write('\r\n');
      }
      res.end(`--${BOUNDARY}--\r\n`);
    }),
    route('GET', '/:sandboxId/files/info', async (ctx) => {
      const sandbox = lookup(ctx);
      const requested = ctx.url.searchParams.get('path') ?? '';
      sendJson(ctx.res, 200, await fileInfo(sandbox.fs, requested));
    }),
    ...fsRoutes(lookup),
  ];
}
