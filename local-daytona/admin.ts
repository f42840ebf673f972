/**
 * The admin endpoints tests use to make local-daytona misbehave and to read what happened:
 *
 *   GET    /_faults                      → 200 {"rules": [FaultRuleStatus…]}
 *   POST   /_faults {"rules": [rule…]}   → 201 {"rules": [FaultRuleStatus…]}  (the added ones)
 *   DELETE /_faults                      → 200 {"cleared": n}
 *   DELETE /_faults/{id}                 → 200 {"removed": id}
 *   POST   /_sandbox/{idOrName}/lose     → 200 {"id", "name", "state": "destroyed"}
 *   POST   /_sandbox/{idOrName}/stop     → 200 {"id", "name", "state": "stopped" | "destroyed"}
 *   GET    /_stats                       → 200 LocalDaytonaStats (stats.ts)
 *
 * They need the server's API key like everything else and, because they can break whatever a
 * machine runs against this server, they also refuse (403) any peer that is not on loopback,
 * even when the server listens on a public interface.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIPv4 } from 'node:net';
import { bearer, sameSecret } from './auth.ts';
import { HttpError } from './errors.ts';
import { AddFaultsBodySchema } from './fault-rules.ts';
import type { FaultControl } from './fault-control.ts';
import { readJson, sendJson } from './http-util.ts';
import { matchRoute, route, type Route } from './router.ts';
import type { LocalDaytonaStats } from './stats.ts';

/** What the admin endpoints act on. */
interface AdminDeps {
  readonly apiKey: string;
  readonly faults: FaultControl;
  stats(): Promise<LocalDaytonaStats>;
}

/** True for the paths the admin endpoints own (everything starting with `/_`). */
export function isAdminPath(pathname: string): boolean {
  return pathname.startsWith('/_');
}

/**
 * True for loopback peers: 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (::ffff:127.x.y.z),
 * which is how a dual-stack listener reports IPv4 clients.
 */
function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  if (isIPv4(v4)) return v4.startsWith('127.');
  return address === '::1' || address === '0:0:0:0:0:0:0:1';
}

function adminRoutes(deps: AdminDeps): Route[] {
  const { faults } = deps;
  return [
    route('GET', '/_faults', ({ res }) => sendJson(res, 200, { rules: faults.list() })),
    route('POST', '/_faults', async ({ req, res }) => {
      const { rules } = await readJson(req, AddFaultsBodySchema);
      sendJson(res, 201, { rules: faults.add(...rules) });
    }),
    route('DELETE', '/_faults', ({ res }) => sendJson(res, 200, { cleared: faults.clear() })),
    route('DELETE', '/_faults/:id', ({ res, params }) => {
      const id = params['id'] ?? '';
      if (!faults.remove(id)) throw new HttpError(404, `no fault rule ${id}`);
      sendJson(res, 200, { removed: id });
    }),
    route('POST', '/_sandbox/:id/lose', async ({ res, params }) => {
      sendJson(res, 200, await faults.loseSandbox(params['id'] ?? ''));
    }),
    route('POST', '/_sandbox/:id/stop', async ({ res, params }) => {
      sendJson(res, 200, await faults.stopSandbox(params['id'] ?? ''));
    }),
    route('GET', '/_stats', async ({ res }) => sendJson(res, 200, await deps.stats())),
  ];
}

/** Creates the admin request handler; it throws HttpErrors for the server to render. */
export function adminHandler(
  deps: AdminDeps,
): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
  const routes = adminRoutes(deps);
  return async (req, res, url) => {
    // Checked before the key, so a remote peer learns nothing, not even whether its key is good.
    if (!isLoopback(req.socket.remoteAddress)) {
      throw new HttpError(403, 'admin endpoints answer loopback clients only');
    }
    const token = bearer(req);
    if (token === undefined || !sameSecret(token, deps.apiKey)) {
      throw new HttpError(401, 'Unauthorized');
    }
    const method = req.method ?? 'GET';
    const match = matchRoute(routes, method, url.pathname);
    if (!match) throw new HttpError(404, `Cannot ${method} ${url.pathname}`);
    await match.route.handler({ req, res, url, params: match.params });
  };
}
