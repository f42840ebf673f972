/**
 * local-daytona: a Node server speaking the subset of Daytona's control API (`/api`) and
 * toolbox API (`/toolbox/{sandboxId}`) that `@daytonaio/sdk` uses, backed by host directories
 * and host processes. HTTP routing, authentication, fault injection and websocket upgrades are
 * wired together here; the loopback-only admin endpoints (`/_faults`, `/_stats`) are admin.ts.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { adminHandler, isAdminPath } from './admin.ts';
import { prepareAgentTools } from './agent-tools.ts';
import { apiRoutes } from './api-routes.ts';
import { bearer, sameSecret } from './auth.ts';
import { errorBody, HttpError, toHttpError, type ErrorFlavour } from './errors.ts';
import { withFaults } from './fault-apply.ts';
import { requestSandbox, sandboxHooks, type FaultControl } from './fault-control.ts';
import { FaultSet } from './faults.ts';
import { sendJson } from './http-util.ts';
import { logSocketUpgrades } from './logs-upgrade.ts';
import { matchRoute, type Route, type RouteContext } from './router.ts';
import { SandboxRegistry } from './sandboxes.ts';
import { collectStats, type LocalDaytonaStats } from './stats.ts';
import { fileRoutes } from './toolbox-files.ts';
import { gitRoutes } from './toolbox-git.ts';
import { processRoutes, type SandboxLookup } from './toolbox-process.ts';

/** Options for {@link startLocalDaytona}. */
interface LocalDaytonaOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (a random free port). */
  port?: number;
  /** Bearer token every request must carry. */
  apiKey: string;
  /** Directory holding the sandboxes; default a fresh mkdtemp (removed again on close). */
  root?: string;
  /** Known snapshot names; default omni-sandbox and Daytona's three default snapshots. */
  snapshots?: string[];
  /** The `claude` binary lent to sandboxes (agent-tools.ts); default the project's, '' none. */
  claudePath?: string;
  /** Called once per finished HTTP request or websocket upgrade (used by the CLI's log). */
  onRequest?: (entry: RequestLogEntry) => void;
}

/** One request as reported to {@link LocalDaytonaOptions.onRequest}. */
export interface RequestLogEntry {
  time: string;
  method: string;
  path: string;
  status: number;
  ms: number;
}

/** A running server. */
export interface LocalDaytona {
  /** Control API base URL, e.g. http://127.0.0.1:PORT/api (DaytonaConfig.apiUrl). */
  apiUrl: string;
  /** Toolbox base URL, e.g. http://127.0.0.1:PORT/toolbox (the DTOs' toolboxProxyUrl). */
  toolboxUrl: string;
  apiKey: string;
  root: string;
  /** Origin of the admin endpoints, e.g. http://127.0.0.1:PORT (`/_faults`, `/_stats`). */
  adminUrl: string;
  /** Fault injection, in process (the same rules as `POST /_faults`). */
  faults: FaultControl;
  /** The counters of `GET /_stats`. */
  stats(): Promise<LocalDaytonaStats>;
  /** Kills every sandbox's processes, releases whatever faults hold, stops the server. */
  close(): Promise<void>;
}

const DEFAULT_SNAPSHOTS = ['omni-sandbox', 'daytona-small', 'daytona-medium', 'daytona-large'];

/** Starts a local Daytona-compatible server. */
export async function startLocalDaytona(options: LocalDaytonaOptions): Promise<LocalDaytona> {
  const ownsRoot = options.root === undefined;
  const root = path.resolve(options.root ?? (await mkdtemp(path.join(tmpdir(), 'local-daytona-'))));
  await mkdir(root, { recursive: true });
  // A copy: snapshots registered through the API are added to it (snapshots.ts).
  const snapshots = [...(options.snapshots ?? DEFAULT_SNAPSHOTS)];
  const toolsDir = await prepareAgentTools(root, options.claudePath);
  // The two refer to each other: slow-start rules decide how long a new sandbox is starting.
  const registry: SandboxRegistry = new SandboxRegistry(
    root,
    snapshots,
    (s): number => faults.startingMs({ id: s.id, name: s.spec.name }),
    toolsDir,
  );
  const faults: FaultSet = new FaultSet(sandboxHooks(registry));
  const stats = (): Promise<LocalDaytonaStats> => collectStats(registry);
  const admin = adminHandler({ apiKey: options.apiKey, faults, stats });
  let origin = '';
  const toolboxUrl = (): string => `${origin}/toolbox`;

  const counted = new WeakSet<ServerResponse>();
  const lookup: SandboxLookup = (ctx: RouteContext) => {
    const sandbox = registry.find(ctx.params['sandboxId'] ?? '');
    sandbox.assertRunning();
    registry.touch(sandbox); // Toolbox requests count as activity, as in the cloud.
    if (!counted.has(ctx.res)) {
      counted.add(ctx.res);
      sandbox.inFlight++;
      ctx.res.once('close', () => {
        sandbox.inFlight--;
        registry.touch(sandbox);
      });
    }
    return sandbox;
  };
  const api = apiRoutes({ registry, snapshots, toolboxUrl, origin: () => origin });
  const toolbox: Route[] = [...processRoutes(lookup), ...fileRoutes(lookup), ...gitRoutes(lookup)];
  const logSockets = logSocketUpgrades({
    registry,
    apiKey: options.apiKey,
    faults,
    log: (path, status, started) => log('WS', path, status, started),
  });

  const log = (method: string, pathname: string, status: number, started: number): void => {
    const entry = { time: new Date().toISOString(), method, path: pathname, status };
    try {
      options.onRequest?.({ ...entry, ms: Date.now() - started });
    } catch {
      // A failing logger must not take the server down.
    }
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://local');
    const flavour: ErrorFlavour = url.pathname.startsWith('/toolbox/') ? 'toolbox' : 'api';
    try {
      if (isAdminPath(url.pathname)) return await admin(req, res, url);
      let table: Route[] | undefined;
      let rest = '';
      if (url.pathname.startsWith('/api/')) [table, rest] = [api, url.pathname.slice(4)];
      else if (flavour === 'toolbox') [table, rest] = [toolbox, url.pathname.slice(8)];
      // Like the real API, an unknown path is a 404 before authentication is considered.
      const match = table ? matchRoute(table, method, rest) : undefined;
      if (!match) throw new HttpError(404, `Cannot ${method} ${url.pathname}`);
      const token = bearer(req);
      if (token === undefined || !sameSecret(token, options.apiKey)) {
        throw new HttpError(401, 'Unauthorized', 'UNAUTHORIZED');
      }
      const { params } = match;
      const sandbox = await requestSandbox(req, url.pathname, params);
      const request = { method, path: url.pathname, sandbox, flavour };
      await withFaults(faults, request, res, () => match.route.handler({ req, res, url, params }));
    } catch (err) {
      const e = toHttpError(err);
      if (res.headersSent) {
        res.destroy(); // Mid-body failure: a truncated response must not look complete.
      } else {
        const body = errorBody(flavour, e.status, e.message, url.pathname, method, e.code);
        if (e.status === 413) res.setHeader('connection', 'close');
        sendJson(res, e.status, body);
      }
    } finally {
      log(method, url.pathname, res.statusCode, started);
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  server.on('upgrade', logSockets.upgrade);
  server.on('clientError', (_err, socket) => socket.destroy());
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP port');
  const { port } = address;
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  origin = `http://${urlHost}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    apiUrl: `${origin}/api`,
    toolboxUrl: toolboxUrl(),
    apiKey: options.apiKey,
    root,
    adminUrl: origin,
    faults,
    stats,
    close: () => {
      closing ??= (async () => {
        faults.close(); // First: held requests and delays must not outlive the server.
        logSockets.closeAll();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await registry.shutdown();
        await closed;
        if (ownsRoot) await rm(root, { recursive: true, force: true, maxRetries: 3 });
      })();
      return closing;
    },
  };
}
