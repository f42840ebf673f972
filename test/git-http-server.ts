/**
 * A git repository served over HTTP on 127.0.0.1 for the workerd clone tests: a bare copy of the
 * sample repository (scripts/lib/sample-repo.ts) served as static files, git's "dumb" HTTP
 * protocol (`git update-server-info` writes the index files it needs), plus paths that answer
 * with a redirect to it, the way a renamed repository or a hostile server would.
 *
 * - `/repo.git/…`: the repository.
 * - `/moved/repo.git/…`: 301 to `/repo.git/…` (a relative Location).
 * - `/found/repo.git/…`: 302 to `http://localhost:PORT/repo.git/…` (another host name).
 * - `/<owner>/<name>.git/…`: a repository of the GitHub stand-in (test/github-stand-in.ts), when
 *   one is given, over git's "smart" HTTP protocol (git http-backend), clone and push. A push,
 *   and a clone of a private repository, need Basic auth `x-access-token:<token>` with an
 *   installation token the stand-in issued for that repository, as GitHub asks.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What the server needs to know of the GitHub stand-in's repositories. */
export interface GitHubRepositories {
  repository(
    owner: string,
    name: string,
  ): { path: string; private: boolean; fullName: string } | null;
  tokenValid(token: string, repository: string): boolean;
}

export interface GitHttpServer {
  /** `http://127.0.0.1:PORT`: the GitHub stand-in's repositories are at `<baseUrl>/<owner>/<name>.git`. */
  baseUrl: string;
  /** The repository itself, e.g. `http://127.0.0.1:PORT/repo.git`. */
  url: string;
  /** A URL that answers 301 with a relative Location pointing at `url`. */
  movedUrl: string;
  /** A URL that answers 302 with an absolute Location on another host name. */
  foundUrl: string;
  close(): Promise<void>;
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
  return address.port;
}

/** The token of `Authorization: Basic base64(x-access-token:<token>)`, or null. */
function accessToken(req: IncomingMessage): string | null {
  const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (match === null) return null;
  const [user, ...rest] = Buffer.from(match[1] ?? '', 'base64')
    .toString('utf8')
    .split(':');
  return user === 'x-access-token' && rest.length > 0 ? rest.join(':') : null;
}

/** Answers through `git http-backend` (CGI), the way git's own HTTP server setups do. */
function httpBackend(
  req: IncomingMessage,
  res: ServerResponse,
  repoPath: string,
  rest: string,
  url: URL,
) {
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: dirname(repoPath),
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: `/${basename(repoPath)}${rest}`,
      REQUEST_METHOD: req.method ?? 'GET',
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: 'x-access-token',
      REMOTE_ADDR: '127.0.0.1',
      ...(req.headers['content-encoding'] === undefined
        ? {}
        : { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] }),
      ...(typeof req.headers['git-protocol'] === 'string'
        ? { GIT_PROTOCOL: req.headers['git-protocol'] }
        : {}),
    },
  });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let started = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (started) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    started = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  child.on('close', () => {
    if (!started) res.writeHead(500);
    res.end();
  });
  child.on('error', () => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
}

const GITHUB_PATH = /^\/([\w.-]+)\/([\w.-]+)\.git(\/.*)$/;

/**
 * Serves a bare copy of the repository at `source` (a path on disk), and the GitHub stand-in's
 * repositories when `github` is given.
 */
export async function startGitHttpServer(
  source: string,
  github: GitHubRepositories | null = null,
): Promise<GitHttpServer> {
  const dir = await mkdtemp(join(tmpdir(), 'omni-git-http-'));
  const bare = join(dir, 'repo.git');
  await run('git', ['clone', '--quiet', '--bare', '--', source, bare]);
  await run('git', ['update-server-info'], { cwd: bare });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const redirect = (status: number, prefix: string, to: string) => {
      const rest = url.pathname.slice(prefix.length) + url.search;
      res.writeHead(status, { location: `${to}${rest}` }).end();
    };
    if (url.pathname.startsWith('/moved/repo.git')) return redirect(301, '/moved', '');
    if (url.pathname.startsWith('/found/repo.git')) {
      return redirect(302, '/found', `http://localhost:${portOf(server)}`);
    }
    const path = normalize(decodeURIComponent(url.pathname));
    const hosted = github === null ? null : GITHUB_PATH.exec(path);
    if (github !== null && hosted !== null) {
      const repo = github.repository(hosted[1] ?? '', hosted[2] ?? '');
      if (repo === null) return res.writeHead(404).end();
      const rest = hosted[3] ?? '';
      const push =
        rest.endsWith('/git-receive-pack') ||
        url.searchParams.get('service') === 'git-receive-pack';
      if (push || repo.private) {
        const token = accessToken(req);
        if (token === null || !github.tokenValid(token, repo.fullName)) {
          return res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' }).end();
        }
      }
      return httpBackend(req, res, repo.path, rest, url);
    }
    if (!path.startsWith('/repo.git/')) return res.writeHead(404).end();
    readFile(join(dir, path)).then(
      (body) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${portOf(server)}`;
  return {
    baseUrl: base,
    url: `${base}/repo.git`,
    movedUrl: `${base}/moved/repo.git`,
    foundUrl: `${base}/found/repo.git`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
