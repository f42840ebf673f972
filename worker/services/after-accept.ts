/**
 * Bookkeeping once a Job DO has accepted a job: its audit entry and its Idempotency-Key. The job
 * runs whatever happens here, so a failure (D1 down) must not turn the answer into an error for
 * a job that exists: it is logged and retried after the response, in waitUntil.
 */
import { errorFields, log } from '../lib/log.ts';

/** Keeps the isolate alive for `promise` after the answer (ExecutionContext.waitUntil). */
export type WaitUntil = (promise: Promise<unknown>) => void;

/** Pauses before each retry after the response (waitUntil lasts about 30 s past it). */
const RETRY_DELAYS_MS = [1_000, 5_000] as const;

/**
 * Runs `task` now; if it fails, logs a warning and tries again after the response, up to twice
 * more, logging an error (`msg: "could not <what>; gave up"`) if every attempt failed.
 * `fields` name the job and tenant in those log lines.
 */
export async function afterAccept(
  waitUntil: WaitUntil,
  what: string,
  fields: Record<string, unknown>,
  task: () => Promise<void>,
): Promise<void> {
  try {
    await task();
    return;
  } catch (error) {
    log('warn', `could not ${what}; will retry after the response`, {
      ...fields,
      ...errorFields(error),
    });
  }
  waitUntil(retryLater(what, fields, task));
}

async function retryLater(
  what: string,
  fields: Record<string, unknown>,
  task: () => Promise<void>,
): Promise<void> {
  let last: unknown;
  for (const delayMs of RETRY_DELAYS_MS) {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    try {
      await task();
      log('info', `${what}: done after a retry`, fields);
      return;
    } catch (error) {
      last = error;
    }
  }
  log('error', `could not ${what}; gave up`, { ...fields, ...errorFields(last) });
}
