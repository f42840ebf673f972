/**
 * Path jailing: maps paths as a sandbox sees them onto the host directory that backs it.
 *
 * A sandbox's filesystem root is `<root>/<id>/`; its working directory is `/home/daytona`.
 * Relative paths resolve against the working directory (as in the real daemon, whose cwd is the
 * workdir) and absolute paths are taken relative to the sandbox root. Anything that would leave
 * the sandbox root, lexically or through a symlink, is rejected with 400.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { HttpError } from './errors.ts';

/** The working directory inside every sandbox, as the sandbox sees it. */
const SANDBOX_WORKDIR = '/home/daytona';

/** Host locations of one sandbox. */
export interface SandboxFs {
  /** Host directory acting as the sandbox's `/`. */
  readonly rootDir: string;
  /** Host directory acting as `/home/daytona`. */
  readonly workDir: string;
}

/** Host layout for a sandbox id under the server root. */
export function sandboxFs(serverRoot: string, id: string): SandboxFs {
  const rootDir = path.join(serverRoot, id);
  return { rootDir, workDir: path.join(rootDir, SANDBOX_WORKDIR) };
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Realpath of the deepest existing ancestor of `p`, so symlinked parents are followed. */
function realExistingPrefix(p: string): string {
  let current = p;
  for (;;) {
    try {
      const real = realpathSync(current);
      return path.join(real, path.relative(current, p));
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return p;
      current = parent;
    }
  }
}

/**
 * Normalises a path in the sandbox's own namespace, or returns undefined when `..` climbs above
 * its `/` (path.resolve would silently clamp that; we reject it instead).
 */
function normaliseInSandbox(requested: string): string | undefined {
  const start = requested.startsWith('/') ? [] : SANDBOX_WORKDIR.split('/').filter(Boolean);
  const segments = [...start];
  for (const segment of requested.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) return undefined;
      segments.pop();
    } else {
      segments.push(segment);
    }
  }
  return '/' + segments.join('/');
}

/**
 * Resolves a sandbox path to a host path inside the sandbox, or throws 400.
 * `requested` may be relative (to the workdir) or absolute (to the sandbox root).
 */
export function resolveSandboxPath(fs: SandboxFs, requested: string): string {
  if (requested.includes('\0')) {
    throw new HttpError(
      400,
      `invalid file path: ${JSON.stringify(requested)}`,
      'INVALID_FILE_PATH',
    );
  }
  const inSandbox = normaliseInSandbox(requested);
  if (inSandbox === undefined) {
    throw new HttpError(400, `path escapes the sandbox: ${requested}`, 'INVALID_FILE_PATH');
  }
  const lexical = path.join(fs.rootDir, inSandbox);
  const rootReal = realExistingPrefix(fs.rootDir);
  const candidate = realExistingPrefix(lexical);
  if (!isInside(fs.rootDir, lexical) || !isInside(rootReal, candidate)) {
    throw new HttpError(400, `path escapes the sandbox: ${requested}`, 'INVALID_FILE_PATH');
  }
  return lexical;
}

/** Maps a host path inside the sandbox back to the path the sandbox sees (for replies). */
export function toSandboxPath(fs: SandboxFs, hostPath: string): string {
  const rel = path.relative(fs.rootDir, hostPath);
  return '/' + rel.split(path.sep).join('/');
}
