/**
 * GitHubAppDO: one per GitHub App installation (named `installation:<id>`). It takes the
 * deliveries the Worker accepted at `POST /webhooks/github` and the changes of the jobs they
 * started, and does the GitHub side of them from its alarm, retrying until GitHub has answered:
 * permission checks, reactions, jobs, check runs, comments and pull requests (docs/github.md).
 * Both entry points only store the item and set the alarm, so they answer at once.
 */
import { DurableObject } from 'cloudflare:workers';
import type { GitHubJobUpdate, GitHubWork } from '../../worker/github/work.ts';
import { errorFields, log } from '../../worker/lib/log.ts';
import { answerJobChange, supersedes } from './answer-job.ts';
import { recordDeliveryOutcome } from './records.ts';
import { afterFailure, afterWaiting, ITEMS_PER_ALARM, KEEP_FINISHED_MS } from './schedule.ts';
import { carryOutWork, restartedProgress } from './start-job.ts';
import { WaitForOther, describe, isTransient, retryAfterOf, type StepContext } from './steps.ts';
import { GitHubStorage, jobKey, updateSchema, workKey, workSchema, type Item } from './storage.ts';

/** Finished items deleted per alarm run, at most. */
const PURGE_PER_ALARM = 50;

export class GitHubAppDO extends DurableObject<Env> {
  private readonly storage: GitHubStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.storage = new GitHubStorage(ctx.storage);
  }

  /**
   * Takes a trigger the intake accepted; answers at once (the work is done from the alarm). The
   * same delivery again changes nothing, unless its work failed: then it is tried again, with
   * what was already sent kept.
   */
  async intake(work: GitHubWork): Promise<void> {
    const parsed = workSchema.parse(work);
    const key = workKey(parsed.deliveryId);
    const now = Date.now();
    if (this.storage.suspendedSince() !== null && this.storage.get(key) === null) {
      // Suspended on GitHub: the trigger is acknowledged and starts nothing.
      await recordDeliveryOutcome(
        this.env.DB,
        parsed.deliveryId,
        'ignored',
        `installation ${parsed.installationId} is suspended on GitHub: unsuspend it to start jobs`,
      );
      return;
    }
    if (!this.storage.insert(key, 'work', parsed, null, now)) {
      const existing = this.storage.get(key);
      if (existing?.state !== 'failed') return;
      this.storage.saveProgress(key, restartedProgress(existing.progress), null);
      this.storage.replaceBody(key, parsed, now);
    }
    await this.arm(now);
  }

  /**
   * The installation was suspended on GitHub (`installation.suspend`), or is no longer
   * (`unsuspend`, `deleted`): while it is, `intake` takes no trigger.
   */
  setSuspended(suspended: boolean): void {
    this.storage.setSuspended(suspended ? Date.now() : null);
  }

  /** Takes the latest change of a job started from GitHub (idempotent: the latest wins). */
  async jobChanged(update: GitHubJobUpdate): Promise<void> {
    const parsed = updateSchema.parse(update);
    const key = jobKey(parsed.jobId);
    const now = Date.now();
    if (!this.storage.insert(key, 'job', parsed, parsed.jobId, now)) {
      const existing = this.storage.get(key);
      const current = updateSchema.safeParse(existing?.body);
      if (current.success && !supersedes(current.data, parsed)) return;
      this.storage.replaceBody(key, parsed, now);
    }
    await this.arm(now);
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const item of this.storage.due(now, ITEMS_PER_ALARM)) await this.runItem(item);
    this.storage.purgeFinished(now - KEEP_FINISHED_MS, PURGE_PER_ALARM);
    // The alarm that is running is spent: set the next one whatever getAlarm() says now.
    await this.arm(Date.now(), true);
  }

  /** Sets the alarm to the earliest due item (no sooner than now), unless one is set sooner. */
  private async arm(now: number, always = false): Promise<void> {
    const next = this.storage.nextDue();
    if (next === null) return;
    const at = Math.max(next, now);
    const current = always ? null : await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  private async runItem(item: Item): Promise<void> {
    const ctx: StepContext = {
      env: this.env,
      storage: this.storage,
      waitUntil: (promise) => this.ctx.waitUntil(promise),
      now: Date.now(),
    };
    try {
      if (item.kind === 'work') {
        const outcome = await carryOutWork(ctx, item, workSchema.parse(item.body));
        // A refusal is final for this delivery, but a redelivery may try it again.
        this.storage.finish(
          item.key,
          item.bodyText,
          outcome === 'done' ? 'done' : 'failed',
          null,
          Date.now(),
        );
      } else {
        await answerJobChange(ctx, item, updateSchema.parse(item.body));
        this.storage.finish(item.key, item.bodyText, 'done', null, Date.now());
      }
    } catch (error) {
      await this.afterError(item, error);
    }
  }

  private async afterError(item: Item, error: unknown): Promise<void> {
    const now = Date.now();
    const message = describe(error);
    if (error instanceof WaitForOther) {
      const at = afterWaiting(item.firstAt, now);
      if (at !== null) {
        this.storage.reschedule(item.key, at, null, false);
        return;
      }
    }
    const decision = isTransient(error)
      ? afterFailure(item.attempts + 1, item.firstAt, now, retryAfterOf(error))
      : ({ kind: 'give_up' } as const);
    const fields = { item: item.key, attempts: item.attempts + 1, ...errorFields(error) };
    if (decision.kind === 'retry') {
      log('warn', 'GitHub item failed; will retry', fields);
      this.storage.reschedule(item.key, decision.at, message, true);
      return;
    }
    log('error', 'GitHub item failed; gave up', fields);
    this.storage.finish(item.key, item.bodyText, 'failed', message, now);
    if (item.kind === 'work') {
      const deliveryId = workSchema.safeParse(item.body).data?.deliveryId;
      if (deliveryId !== undefined) {
        await recordDeliveryOutcome(this.env.DB, deliveryId, 'failed', message).catch(
          (recordError: unknown) =>
            log('warn', 'could not record a failed GitHub delivery', {
              item: item.key,
              ...errorFields(recordError),
            }),
        );
      }
    }
  }
}
