/**
 * The typed Omni client: openapi-fetch over the paths of client/schema.d.ts (generated from
 * docs/openapi.json), with the API key sent as a bearer token and problem+json errors (RFC 9457)
 * turned into `OmniApiError`. Runs wherever `fetch` does: Node 22+, browsers, Workers.
 *
 *   const omni = createOmniClient({ baseUrl: 'http://127.0.0.1:8787', apiKey });
 *   const page = await unwrap(omni.GET('/v1/jobs', { params: { query: { limit: 10 } } }));
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.d.ts';

export type { components, operations, paths } from './schema.d.ts';

/** The problem document every Omni error is answered with. */
export type Problem = components['schemas']['Problem'];

/** The header that carries the server's request id on every answer. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

export interface OmniClientOptions {
  /** Where the API is, e.g. `https://omni.example.com` (a trailing slash is ignored). */
  baseUrl: string;
  /** An API key (`omni_…`) or a JWT, sent as `Authorization: Bearer …`; none for public routes. */
  apiKey?: string | undefined;
  /**
   * The fetch to use (default: the global one). A method such as a service binding's `fetch`
   * must be bound: `(request) => env.API.fetch(request)`.
   */
  fetch?: ((request: Request) => Promise<Response>) | undefined;
}

export type OmniClient = Client<paths>;

/** A middleware that sends the key as a bearer token, unless the request names its own. */
export function bearerAuth(apiKey: string): Middleware {
  return {
    onRequest({ request }) {
      if (!request.headers.has('Authorization')) {
        request.headers.set('Authorization', `Bearer ${apiKey}`);
      }
      return request;
    },
  };
}

/** A client of the Omni API at `baseUrl`. */
export function createOmniClient(options: OmniClientOptions): OmniClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  if (options.apiKey) client.use(bearerAuth(options.apiKey));
  return client;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * An error answer of the API. `type`, `title`, `detail`, `code` and `requestId` come from its
 * problem document; an answer without one (a proxy's error page, say) still gives the status,
 * the request id header if present and the start of the body as `detail`.
 */
export class OmniApiError extends Error {
  override readonly name = 'OmniApiError';
  /** The HTTP status. */
  readonly status: number;
  /** The problem type, e.g. `urn:omni:error:not_found` (`about:blank` when none was given). */
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  /** The error code, e.g. `not_found` (undefined for an answer without a problem document). */
  readonly code: Problem['code'] | undefined;
  /** The server's request id: quote it when reporting a problem. */
  readonly requestId: string | undefined;
  /** Per-field messages of a validation error. */
  readonly errors: { path: string; message: string }[];
  /** The problem document as received, with its extra members (e.g. `retry_after`). */
  readonly problem: Record<string, unknown> | undefined;

  constructor(response: Response, body: unknown) {
    const problem = isRecord(body) ? body : undefined;
    const title = text(problem?.title) ?? (response.statusText || `HTTP ${response.status}`);
    const detail =
      text(problem?.detail) ??
      (typeof body === 'string' && body !== '' ? body.slice(0, 500) : title);
    super(detail);
    this.status = response.status;
    this.type = text(problem?.type) ?? 'about:blank';
    this.title = title;
    this.detail = detail;
    this.code = text(problem?.code) as Problem['code'] | undefined;
    this.requestId =
      text(problem?.request_id) ?? response.headers.get(REQUEST_ID_HEADER) ?? undefined;
    this.errors = Array.isArray(problem?.errors)
      ? problem.errors.filter(
          (item): item is { path: string; message: string } =>
            isRecord(item) && typeof item.path === 'string' && typeof item.message === 'string',
        )
      : [];
    this.problem = problem;
  }
}

/** What every openapi-fetch call resolves to. */
interface Outcome<Data> {
  data?: Data;
  error?: unknown;
  response: Response;
}

/**
 * The data of a call, or an `OmniApiError` thrown for an error answer:
 * `const job = await unwrap(omni.GET('/v1/jobs/{id}', { params: { path: { id } } }))`.
 * Every answer that is not 2xx throws, a 304 to `If-None-Match` included (status 304): a
 * client that revalidates reads `response.status` of the call itself instead.
 */
export async function unwrap<Data>(call: Promise<Outcome<Data>> | Outcome<Data>): Promise<Data> {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) throw new OmniApiError(response, error);
  return data as Data;
}
