/**
 * A git repository served over HTTP on 127.0.0.1 for the workerd clone tests: a bare copy of the
 * sample repository (scripts/lib/sample-repo.ts) served as static files, git's "dumb" HTTP
 * protocol (`git update-server-info` writes the index files it needs), plus paths that answer
 * with a redirect to it, the way a renamed repository or a hostile server would.
 *
 * - `/repo.git/…`: the repository.
 * - `/moved/repo.git/…`: 301 to `/repo.git/…` (a relative Location).
 * - `/found/repo.git/…`: 302 to `http://localhost:PORT/repo.git/…` (another host name).
 */
import { execFile } from 'node:child_process';
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface GitHttpServer {
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

/** Serves a bare copy of the repository at `source` (a path on disk). */
export async function startGitHttpServer(source: string): Promise<GitHttpServer> {
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
    if (!path.startsWith('/repo.git/')) return res.writeHead(404).end();
    readFile(join(dir, path)).then(
      (body) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${portOf(server)}`;
  return {
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
