/**
 * Websocket upgrades: authenticates and routes log-follow sockets, rejects everything else.
 *
 * A log socket is authorised by the API key (`Authorization: Bearer`, as the SDK sends in Node)
 * or by the sandbox's preview token in `?DAYTONA_SANDBOX_AUTH_KEY=` (as the SDK sends from
 * serverless runtimes, which cannot set headers on websockets). Other upgrade paths, notably the
 * SDK's socket.io event stream at /api/socket.io/, get a 404, which the SDK tolerates.
 * Fault rules are consulted once the socket is authorised, as for plain requests.
 */
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { bearer, sameSecret } from './auth.ts';
import { errorBody, statusText, toHttpError } from './errors.ts';
import { faultBefore, type FaultOutlet, type FaultScene } from './fault-apply.ts';
import type { FaultSet, FiredFault } from './faults.ts';
import { createLogSocketServer, streamCommandLogs, type LogStreamFaults } from './logs-ws.ts';
import type { LocalSandbox } from './sandbox.ts';
import type { SandboxRegistry } from './sandboxes.ts';

const LOGS_PATH = /^\/toolbox\/([^/]+)\/process\/session\/([^/]+)\/command\/([^/]+)\/logs\/?$/;

/** What the upgrade handler needs from the server. */
interface UpgradeDeps {
  readonly registry: SandboxRegistry;
  readonly apiKey: string;
  readonly faults: FaultSet;
  log(path: string, status: number, started: number): void;
}

/** Answers a websocket upgrade with a plain HTTP error and drops the connection. */
function reject(
  socket: Duplex,
  status: number,
  body: unknown,
  headers: Record<string, string>,
): void {
  const payload = JSON.stringify(body);
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.end(
    `HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: application/json\r\n` +
      `${extra.join('')}Content-Length: ${Buffer.byteLength(payload)}\r\n` +
      `Connection: close\r\n\r\n${payload}`,
  );
}

function findSandbox(registry: SandboxRegistry, id: string): LocalSandbox | undefined {
  try {
    return registry.find(id);
  } catch {
    return undefined;
  }
}

/** Stream faults of a fired cut-logs or hold-logs rule, for the accepted socket. */
function streamFaults(
  fired: FiredFault | undefined,
  ws: WebSocket,
  socket: Duplex,
): LogStreamFaults {
  const rule = fired?.rule;
  if (fired && rule?.action === 'hold-logs') return { hold: (close) => fired.hold(close) };
  if (rule?.action !== 'cut-logs') return {};
  // "abrupt" is a TCP reset: no close frame, the way a proxy or a dying host ends a socket.
  const abrupt = (): void => {
    if (socket instanceof Socket) socket.resetAndDestroy();
    else socket.destroy();
  };
  const run = rule.close === 'clean' ? () => ws.close(1000) : abrupt;
  return { cut: { afterFrames: rule.afterFrames, run } };
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
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      reject(socket, status, body, headers);
      deps.log(url.pathname, status, started);
    };
    const fail = (status: number, message: string): void =>
      answer(status, errorBody('toolbox', status, message, url.pathname, 'GET'));
    const outlet: FaultOutlet = {
      answer: (status, headers, body) => answer(status, body, headers),
      drop: () => socket.destroy(),
      onClose: (listener) => socket.once('close', listener),
    };
    const accept = async (): Promise<void> => {
      const m = LOGS_PATH.exec(url.pathname);
      if (!m) return fail(404, `Cannot GET ${url.pathname}`);
      const [sandboxId = '', sessionId = '', commandId = ''] = [m[1], m[2], m[3]].map((s) =>
        decodeURIComponent(s ?? ''),
      );
      // Authenticate before revealing whether the sandbox exists.
      const token = bearer(req);
      const previewKey = url.searchParams.get('DAYTONA_SANDBOX_AUTH_KEY');
      const claimed = findSandbox(deps.registry, sandboxId);
      const authorised =
        (token !== undefined && sameSecret(token, deps.apiKey)) ||
        (previewKey !== null &&
          claimed !== undefined &&
          sameSecret(previewKey, claimed.previewToken));
      if (!authorised) return fail(401, 'Unauthorized');
      const path = url.pathname;
      const fired = deps.faults.match({ channel: 'logs', method: 'GET', path, sandbox: sandboxId });
      if (fired) {
        const scene: FaultScene = {
          fired,
          faults: deps.faults,
          flavour: 'toolbox',
          method: 'GET',
          path,
        };
        if (!(await faultBefore(scene, outlet))) return;
      }
      // Looked up again: a fault may have taken the sandbox away meanwhile.
      const sandbox = findSandbox(deps.registry, sandboxId);
      if (!sandbox) return fail(404, `Sandbox with ID or name ${sandboxId} not found`);
      sandbox.assertRunning();
      const cmd = sandbox.sessions.get(sessionId).commands.get(commandId);
      if (!cmd) return fail(404, 'command not found');
      deps.registry.touch(sandbox);
      wss.handleUpgrade(req, socket, head, (ws) => {
        deps.log(url.pathname, 101, started);
        sandbox.inFlight++;
        const follow = url.searchParams.get('follow') === 'true';
        const onDone = (): void => {
          sandbox.inFlight--;
          deps.registry.touch(sandbox);
        };
        streamCommandLogs(ws, cmd, follow, onDone, streamFaults(fired, ws, socket));
      });
    };
    accept().catch((err: unknown) => {
      const e = toHttpError(err);
      fail(e.status, e.message);
    });
  };
  const closeAll = (): void => {
    for (const client of wss.clients) client.terminate();
  };
  return { upgrade, closeAll };
}
