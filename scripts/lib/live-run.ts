/**
 * What `npm run test:live` needs besides its tests: the per-run label every sandbox it causes
 * carries (through the Worker's DAYTONA_SANDBOX_LABELS), the clean-up of everything carrying it,
 * and the decision whether the run can happen at all.
 */
import { randomBytes } from 'node:crypto';
import type { Daytona } from '@daytonaio/sdk';

/** The sandbox label naming a test:live run; its value is the run's id. */
export const RUN_LABEL = 'omni-live-run';

/** Daytona's cloud API, used when DAYTONA_API_URL is not set. */
export const DAYTONA_CLOUD_API_URL = 'https://app.daytona.io/api';

/** A fresh run id: the date and time, and a random tail (`live-20261201-124501-3f9a1c`). */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `live-${stamp}-${randomBytes(3).toString('hex')}`;
}

type Env = Record<string, string | undefined>;

/** Why the live run cannot happen (no credentials), or null when it can. */
export function skipReason(env: Env): string | null {
  if (!env['DAYTONA_API_KEY']?.trim()) {
    return 'DAYTONA_API_KEY is not set (an API key of a Daytona organisation kept for these tests)';
  }
  return null;
}

/** The scenarios left out of a run that can happen, and why. */
export function partialReasons(env: Env): string[] {
  return env['ANTHROPIC_API_KEY']?.trim()
    ? []
    : ['the agent job is skipped: ANTHROPIC_API_KEY is not set'];
}

/** What {@link deleteLabelled} did. */
export interface CleanupResult {
  deleted: string[];
  failed: { id: string; error: string }[];
}

/**
 * Deletes every sandbox carrying all of `labels`. The list is read whole before the first
 * delete, so that deleting does not shift the pages still to be read.
 */
export async function deleteLabelled(
  daytona: Daytona,
  labels: Record<string, string>,
): Promise<CleanupResult> {
  const found = [];
  for await (const sandbox of daytona.list({ labels })) found.push(sandbox);
  const result: CleanupResult = { deleted: [], failed: [] };
  for (const sandbox of found) {
    try {
      await sandbox.delete();
      result.deleted.push(sandbox.id);
    } catch (error) {
      result.failed.push({
        id: sandbox.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return result;
}

/** The ids of the sandboxes carrying all of `labels`. */
export async function listLabelled(
  daytona: Daytona,
  labels: Record<string, string>,
): Promise<string[]> {
  const ids = [];
  for await (const sandbox of daytona.list({ labels })) ids.push(sandbox.id);
  return ids;
}
