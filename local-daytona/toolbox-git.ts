/**
 * `POST /git/clone`: runs the real `git clone` (no shell) into the jailed destination and maps
 * git's failures onto the daemon's error codes so the SDK raises the matching error class.
 * The Job DO no longer calls it (it clones with the git CLI through `process/execute`, see
 * durable-objects/job/clone.ts); it stays for the SDK's `git.clone` and its tests in test/node.
 */
import { z } from 'zod';
import { HttpError } from './errors.ts';
import { readJson, sendJson } from './http-util.ts';
import { resolveSandboxPath } from './paths.ts';
import { killGroup } from './processes.ts';
import { route, type Route } from './router.ts';
import type { LocalSandbox } from './sandbox.ts';
import type { SandboxLookup } from './toolbox-process.ts';

/** Upper bound on one git invocation; a hung remote must not pin a request forever. */
const GIT_TIMEOUT_MS = 10 * 60 * 1000;

const CloneSchema = z.object({
  url: z.string().min(1),
  path: z.string().min(1),
  branch: z.string().min(1).optional(),
  commit_id: z.string().min(1).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  insecure_skip_tls: z.boolean().optional(),
  depth: z.number().int().positive().optional(),
});

interface GitResult {
  code: number | null;
  output: string;
}

/** Runs git with the given arguments; never prompts (GIT_TERMINAL_PROMPT=0). */
function git(sandbox: LocalSandbox, args: string[], cwd: string): Promise<GitResult> {
  return new Promise((resolve) => {
    const env = sandbox.env({ GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', SSH_ASKPASS: 'true' });
    const child = sandbox.processes.spawn('git', args, cwd, env);
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => chunks.push(c));
    child.stderr?.on('data', (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => killGroup(child.pid), GIT_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, output: err.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: Buffer.concat(chunks).toString('utf8').trim() });
    });
  });
}

/** Puts basic-auth credentials into an http(s) URL, the way git expects them. */
function withCredentials(url: string, username?: string, password?: string): string {
  if (username === undefined || password === undefined) return url;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return url;
    u.username = username;
    u.password = password;
    return u.toString();
  } catch {
    return url;
  }
}

/** Maps git's stderr onto the daemon's status and error code. */
function classify(output: string, phase: 'clone' | 'checkout'): HttpError {
  const text = output.replace(/\/\/[^/@\s]+@/g, '//***@'); // never echo credentials
  const message = `failed to ${phase} repository: ${text}`;
  const has = (re: RegExp): boolean => re.test(output);
  if (phase === 'checkout') return new HttpError(404, message, 'NOT_FOUND');
  if (has(/Remote branch .* not found|Could not find remote branch/i)) {
    return new HttpError(404, message, 'GIT_BRANCH_NOT_FOUND');
  }
  if (has(/already exists and is not an empty directory/i)) {
    return new HttpError(409, message, 'CONFLICT');
  }
  if (has(/Authentication failed|could not read (Username|Password)|terminal prompts disabled/i)) {
    return new HttpError(401, message, 'GIT_AUTH_FAILED');
  }
  if (
    has(
      /does not exist|not found|does not appear to be a git repository|Could not read from remote/i,
    )
  ) {
    return new HttpError(404, message, 'GIT_REPO_NOT_FOUND');
  }
  if (
    has(
      /Could not resolve host|Failed to connect|Connection refused|timed out|SSL|unable to access/i,
    )
  ) {
    return new HttpError(502, message, 'GIT_TRANSPORT_FAILED');
  }
  return new HttpError(400, message, 'BAD_REQUEST');
}

/** Builds the git routes (paths relative to `/toolbox`). */
export function gitRoutes(lookup: SandboxLookup): Route[] {
  return [
    route('POST', '/:sandboxId/git/clone', async (ctx) => {
      const sandbox = lookup(ctx);
      const body = await readJson(ctx.req, CloneSchema);
      const dest = resolveSandboxPath(sandbox.fs, body.path);
      const args = ['clone'];
      if (body.insecure_skip_tls) args.unshift('-c', 'http.sslVerify=false');
      if (body.branch !== undefined) args.push('--branch', body.branch);
      if (body.depth !== undefined) args.push('--depth', String(body.depth));
      args.push('--', withCredentials(body.url, body.username, body.password), dest);
      const cloned = await git(sandbox, args, sandbox.fs.workDir);
      if (cloned.code !== 0) throw classify(cloned.output, 'clone');
      if (body.commit_id !== undefined) {
        const checkout = ['-c', 'advice.detachedHead=false', 'checkout', body.commit_id, '--'];
        const checkedOut = await git(sandbox, checkout, dest);
        if (checkedOut.code !== 0) throw classify(checkedOut.output, 'checkout');
      }
      sendJson(ctx.res, 200, {});
    }),
  ];
}
