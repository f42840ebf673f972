/**
 * The signed-in API: its URL and key, kept in the tab's sessionStorage only (gone when the tab
 * closes, never sent anywhere but the API, never in a URL), and the typed client over them.
 */
import { createOmniClient, type OmniClient } from '../../../client/index.ts';

const URL_KEY = 'omni.apiUrl';
const API_KEY = 'omni.apiKey';
const CAN_CANCEL = 'omni.canCancel';

export interface Session {
  apiUrl: string;
  apiKey: string;
  client: OmniClient;
}

/** The session of this tab, or null before sign-in. */
export function currentSession(): Session | null {
  const apiUrl = sessionStorage.getItem(URL_KEY);
  const apiKey = sessionStorage.getItem(API_KEY);
  if (!apiUrl || !apiKey) return null;
  return { apiUrl, apiKey, client: createOmniClient({ baseUrl: apiUrl, apiKey }) };
}

export function signIn(apiUrl: string, apiKey: string): void {
  sessionStorage.setItem(URL_KEY, apiUrl.replace(/\/+$/, ''));
  sessionStorage.setItem(API_KEY, apiKey);
  sessionStorage.removeItem(CAN_CANCEL);
}

export function signOut(): void {
  for (const key of [URL_KEY, API_KEY, CAN_CANCEL]) sessionStorage.removeItem(key);
}

/** An id no job has, for asking whether the key may cancel (below). */
const NO_JOB = `job_${'0'.repeat(32)}`;

/**
 * Whether the key may cancel jobs (member and up). The API has no "who am I" route, so this
 * asks to cancel a job that does not exist: the role check comes before the lookup, so a viewer
 * gets 403 and every stronger role 404, and nothing is changed either way. Kept for the session.
 */
export async function mayCancel(session: Session): Promise<boolean> {
  const known = sessionStorage.getItem(CAN_CANCEL);
  if (known !== null) return known === 'true';
  const { response } = await session.client.POST('/v1/jobs/{id}/cancel', {
    params: { path: { id: NO_JOB } },
  });
  const allowed = response.status !== 403 && response.status !== 401;
  sessionStorage.setItem(CAN_CANCEL, String(allowed));
  return allowed;
}
