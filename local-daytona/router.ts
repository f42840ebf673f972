/**
 * A minimal path-template router (`/sandbox/:id/stop`) shared by the API and toolbox handlers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './errors.ts';

/** What a handler gets for one request. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Decoded path parameters by name. */
  readonly params: Readonly<Record<string, string>>;
}

/** A request handler; it must send the response itself or throw an HttpError. */
type Handler = (ctx: RouteContext) => Promise<void> | void;

/** One method + path template with its handler. */
export interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly handler: Handler;
}

/** Declares a route; `:name` segments capture one path segment each. */
export function route(method: string, template: string, handler: Handler): Route {
  const names: string[] = [];
  const source = template
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { method, pattern: new RegExp(`^${source}/?$`), names, handler };
}

/** A matched route with its decoded parameters. */
interface RouteMatch {
  readonly route: Route;
  readonly params: Record<string, string>;
}

/**
 * Finds the route for a method and path (relative to the service prefix). Throws 405 when the
 * path exists under another method; returns undefined when nothing matches (404).
 */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  pathname: string,
): RouteMatch | undefined {
  let pathMatched = false;
  for (const candidate of routes) {
    const m = candidate.pattern.exec(pathname);
    if (!m) continue;
    pathMatched = true;
    if (candidate.method !== method) continue;
    const params: Record<string, string> = {};
    candidate.names.forEach((name, i) => {
      const raw = m[i + 1] ?? '';
      try {
        params[name] = decodeURIComponent(raw);
      } catch {
        throw new HttpError(400, `malformed path parameter ${name}`);
      }
    });
    return { route: candidate, params };
  }
  if (pathMatched) throw new HttpError(405, `method ${method} not allowed on ${pathname}`);
  return undefined;
}
