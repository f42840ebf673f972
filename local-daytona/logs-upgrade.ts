/**
 * Websocket upgrades: authenticates and routes log-follow sockets, rejects everything else.
 *
 * A log socket is authorised by the API key (`Authorization: Bearer`, as the SDK sends in Node)
 * or by the sandbox's preview token in `?DAYTONA_SANDBOX_AUTH_KEY=` (as the SDK sends from
 * serverless runtimes, which cannot set headers on websockets). Other upgrade paths, notably the
 * SDK's socket.io event stream at /api/socket.io/, get a 404, which the SDK tolerates.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { bearer, sameSecret } from './auth.ts';
import { errorBody, statusText, toHttpError } from './errors.ts';
import { createLogSocketServer, streamCommandLogs } from './logs-ws.ts';
import type { LocalSandbox } from './sandbox.ts';
import type { SandboxRegistry } from './sandboxes.ts';

const LOGS_PATH = /^\/toolbox\/([^/]+)\/process\/session\/([^/]+)\/command\/([^/]+)\/logs\/?$/;

/** What the upgrade handler needs from the server. */
export interface UpgradeDeps {
  readonly registry: SandboxRegistry;
  readonly apiKey: string;
  log(path: string, status: number, started: number): void;
}

/** Answers a websocket upgrade with a plain HTTP error and drops the connection. */
function reject(socket: Duplex, status: number, body: Record<string, unknown>): void {
  const payload = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`,
  );
}

function findSandbox(registry: SandboxRegistry, id: string): LocalSandbox | undefined {
  try {
    return registry.find(id);
  } catch {
    return undefined;
  }
}

/** Creates the `upgrade` event handler and a way to drop every open socket. */
export function logSocketUpgrades(deps: UpgradeDeps): {
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  closeAll(): void;
} {
  const wss = createLogSocketServer();
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://local');
    const fail = (status: number, message: string): void => {
      reject(socket, status, errorBody('toolbox', status, message, url.pathname, 'GET'));
      deps.log(url.pathname, status, started);
    };
    const m = LOGS_PATH.exec(url.pathname);
    if (!m) return fail(404, `Cannot GET ${url.pathname}`);
    try {
      const [sandboxId = '', sessionId = '', commandId = ''] = [m[1], m[2], m[3]].map((s) =>
        decodeURIComponent(s ?? ''),
      );
      const sandbox = findSandbox(deps.registry, sandboxId);
      // Authenticate before revealing whether the sandbox exists.
      const token = bearer(req);
      const previewKey = url.searchParams.get('DAYTONA_SANDBOX_AUTH_KEY');
      const authorised =
        (token !== undefined && sameSecret(token, deps.apiKey)) ||
        (previewKey !== null &&
          sandbox !== undefined &&
          sameSecret(previewKey, sandbox.previewToken));
      if (!authorised) return fail(401, 'Unauthorized');
      if (!sandbox) return fail(404, `Sandbox with ID or name ${sandboxId} not found`);
      sandbox.assertRunning();
      const cmd = sandbox.sessions.get(sessionId).commands.get(commandId);
      if (!cmd) return fail(404, 'command not found');
      deps.registry.touch(sandbox);
      wss.handleUpgrade(req, socket, head, (ws) => {
        deps.log(url.pathname, 101, started);
        sandbox.inFlight++;
        streamCommandLogs(ws, cmd, url.searchParams.get('follow') === 'true', () => {
          sandbox.inFlight--;
          deps.registry.touch(sandbox);
        });
      });
    } catch (err) {
      const e = toHttpError(err);
      fail(e.status, e.message);
    }
  };
  const closeAll = (): void => {
    for (const client of wss.clients) client.terminate();
  };
  return { upgrade, closeAll };
}
