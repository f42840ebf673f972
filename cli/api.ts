/**
 * The CLI's REST calls, through the typed client (client/index.ts). Its errors become
 * `ApiFailure`s that print the problem's detail and request id; a network failure says which
 * URL could not be reached.
 */
import {
  createOmniClient,
  OmniApiError,
  unwrap,
  type components,
  type OmniClient,
} from '../client/index.ts';
import { loadCredentials, type Credentials } from './config.ts';
import { ApiFailure } from './errors.ts';

export type Job = components['schemas']['Job'];

/** A client and the credentials it was made from. */
export interface Api {
  client: OmniClient;
  credentials: Credentials;
}

/** How long a REST call may take before it counts as unanswered. */
const CALL_TIMEOUT_MS = 30_000;

export function apiFor(credentials: Credentials): Api {
  return {
    client: createOmniClient({
      baseUrl: credentials.url,
      apiKey: credentials.apiKey,
      fetch: (request) => fetch(request, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) }),
    }),
    credentials,
  };
}

/** The API of the stored (or environment's) credentials. */
export async function connect(): Promise<Api> {
  return apiFor(await loadCredentials());
}

/** The failure to report for an error of a call to `url`. */
export function toFailure(error: unknown, url: string): unknown {
  if (error instanceof OmniApiError) {
    const fields = error.errors.map((e) => `\n  ${e.path || '(body)'}: ${e.message}`).join('');
    const code = error.code ? `, ${error.code}` : '';
    return new ApiFailure(
      `${error.detail} (HTTP ${error.status}${code})${fields}`,
      error.status,
      error.requestId ?? null,
    );
  }
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return new ApiFailure(`No answer from ${url} within ${CALL_TIMEOUT_MS / 1000} s`, null, null);
  }
  // fetch rejects with a TypeError whose cause names the network error (ECONNREFUSED, …).
  if (error instanceof TypeError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return new ApiFailure(`Cannot reach ${url}${cause}`, null, null);
  }
  return error;
}

/**
 * The data of a client call, or an `ApiFailure`:
 * `await call(api, api.client.GET('/v1/jobs/{id}', { params: { path: { id } } }))`.
 */
export async function call<Data>(
  api: Api,
  request: Promise<{ data?: Data; error?: unknown; response: Response }>,
): Promise<Data> {
  try {
    return await unwrap(request);
  } catch (error) {
    throw toFailure(error, api.credentials.url);
  }
}

/** The WebSocket URL of the job's stream after `after`, with a fresh stream token. */
export async function streamUrl(api: Api, jobId: string, after: number): Promise<string> {
  const token = await call(
    api,
    api.client.POST('/v1/jobs/{id}/stream-token', { params: { path: { id: jobId } } }),
  );
  // Joined like the client joins paths, so a base URL with a path prefix keeps it.
  const url = new URL(`${api.credentials.url}${token.url}`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('after', String(after));
  return url.href;
}
