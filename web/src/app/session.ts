/**
 * The signed-in API: its URL and key, kept in the tab's sessionStorage only (gone when the tab
 * closes, never sent anywhere but the API, never in a URL), and the typed client over them.
 */
import { createOmniClient, type OmniClient } from '../../../client/index.ts';

const URL_KEY = 'omni.apiUrl';
const API_KEY = 'omni.apiKey';

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
}

export function signOut(): void {
  for (const key of [URL_KEY, API_KEY]) sessionStorage.removeItem(key);
}

/**
 * Whether the key may cancel jobs (member and up), from GET /v1/me: its role as the API holds
 * it to (capped by whoever made the key). Asked on each job page, so a changed role shows.
 */
export async function mayCancel(session: Session): Promise<boolean> {
  const { data } = await session.client.GET('/v1/me');
  return data !== undefined && data.role !== 'viewer';
}
