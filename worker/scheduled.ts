/**
 * The scheduled tasks: wrangler.toml's [triggers] lists their cron schedules, and the Worker's
 * `scheduled` handler (index.ts) runs the task of the schedule that fired.
 */
import { log } from './lib/log.ts';
import { reconcileJobs } from './services/reconcile-jobs.ts';
import { reencryptSecrets } from './services/reencrypt-secrets.ts';
import { reencryptWebhookSecrets } from './services/reencrypt-webhook-secrets.ts';
import { sweepSandboxes } from './services/sweep-sandboxes.ts';

/** Refreshes D1 job rows that missed their final write (services/reconcile-jobs.ts). */
export const CRON_RECONCILE_JOBS = '*/10 * * * *';
/** Deletes sandboxes whose job has ended or is unknown (services/sweep-sandboxes.ts). */
export const CRON_SWEEP_SANDBOXES = '*/30 * * * *';

/** Runs the task of `cron`; a schedule with no task is logged as an error. */
export async function runScheduledTask(cron: string, env: Env): Promise<void> {
  switch (cron) {
    case CRON_RECONCILE_JOBS:
      await reconcileJobs(env);
      // Also every 10 minutes: secrets of an older key get the current one (docs/secrets.md).
      await reencryptSecrets(env);
      await reencryptWebhookSecrets(env);
      return;
    case CRON_SWEEP_SANDBOXES:
      await sweepSandboxes(env);
      return;
    default:
      log('error', 'no task for this cron schedule', { cron });
  }
}
