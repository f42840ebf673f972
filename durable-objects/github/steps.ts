/**
 * What the steps of GitHubAppDO share: the call context of an item's repository, the link to a
 * job's page, and the outcomes of a step other than success — wait for another item, retry
 * later, or stop for good — as the alarm loop (github-app-do.ts) understands them.
 */
import { ConfigError } from '../../worker/config.ts';
import { GitHubApiError, type GitHubContext } from '../../worker/github/api.ts';
import type { GitHubStorage } from './storage.ts';

/** What a step may use. */
export interface StepContext {
  env: Env;
  storage: GitHubStorage;
  waitUntil: (promise: Promise<unknown>) => void;
  now: number;
}

/** How far GitHub's clock may be behind ours when looking for a comment posted since a time. */
export const CLOCK_SLACK_MS = 10 * 60_000;

/** The calls of installation `installationId` on `owner/name`. */
export function repoContext(env: Env, installationId: number, repository: string): GitHubContext {
  const [owner = '', repo = ''] = repository.split('/');
  return { env, installationId, owner, repo };
}

/** The job's page, where its live log is; null when PUBLIC_URL is not set. */
export function jobPageUrl(env: Env, jobId: string): string | null {
  const origin = env.PUBLIC_URL.trim().replace(/\/+$/, '');
  return origin === '' ? null : `${origin}/app/jobs/${encodeURIComponent(jobId)}`;
}

/** The item cannot go on before another one has (a job's check run is not created yet). */
export class WaitForOther extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitForOther';
  }
}

/** The item cannot be carried out, and trying again will not help. */
export class GiveUp extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GiveUp';
  }
}

/** True when trying again later may help with `error`. */
export function isTransient(error: unknown): boolean {
  if (error instanceof GiveUp || error instanceof ConfigError) return false;
  if (error instanceof GitHubApiError) return error.transient;
  // D1, a Durable Object or the network failed: worth another try.
  return true;
}

/** The wait GitHub asked for, when it named one. */
export function retryAfterOf(error: unknown): number | null {
  return error instanceof GitHubApiError ? error.retryAfterSeconds : null;
}

/** A short description of `error` for the records (never a token: see GitHubApiError). */
export function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.slice(0, 500);
}

/** Runs `call`; a permanent GitHub failure is handed back instead of thrown. */
export async function orPermanentFailure<T>(
  call: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    if (error instanceof GitHubApiError && !error.transient) {
      return { ok: false, error: describe(error) };
    }
    throw error;
  }
}
