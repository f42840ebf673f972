/**
 * The job's record: its state and event log in the DO's SQLite, told to watchers and mirrored
 * into D1. A status change is persisted first, then broadcast, then mirrored, in that order;
 * output is persisted, then broadcast (D1 keeps no output); save() persists bookkeeping alone.
 */
import { upsertJob } from '../../worker/db/jobs.ts';
import { errorFields, log } from '../../worker/lib/log.ts';
import { isTerminal, MAX_OUTPUT_CHARS, retryDelayMs, splitChunk, unseenPart } from './decisions.ts';
import { broadcast, closeAll } from './sockets.ts';
import { toRow, type JobState } from './state.ts';
import type { EventBody, JobEvent, JobStorage } from './storage.ts';

/** How a job ends. */
export type Outcome = Pick<JobState, 'status' | 'errorCode' | 'errorMessage'> & {
  exitCode?: number;
};

export class JobRecord {
  readonly store: JobStorage;
  private readonly ctx: DurableObjectState;
  private readonly env: Env;
  private current: JobState | null;

  constructor(ctx: DurableObjectState, env: Env, store: JobStorage) {
    this.ctx = ctx;
    this.env = env;
    this.store = store;
    this.current = store.getState();
  }

  /** The job's state, or null if this object holds no job. */
  get state(): JobState | null {
    return this.current;
  }

  require(): JobState {
    if (!this.current) throw new Error('this Job DO holds no job');
    return this.current;
  }

  /** True if this object holds a job and it belongs to `tenantId`. */
  ownedBy(tenantId: string): boolean {
    return this.current !== null && this.current.tenantId === tenantId;
  }

  save(state: JobState): void {
    this.store.putState(state);
    this.current = state;
  }

  /** Moves a running job to a new non-final status, records it, tells watchers and D1. */
  async transition(patch: Partial<JobState>): Promise<JobState> {
    const now = Date.now();
    const previous = this.require();
    const next: JobState = { ...previous, ...patch, updatedAt: nextVersion(previous, now) };
    const event = this.store.transaction(() => {
      this.save(next);
      return this.store.appendEvent('status', now, statusBody(next));
    });
    broadcast(this.ctx, event);
    await this.mirror(next);
    return next;
  }

  /** Ends the job: final state and events first, then watchers, D1; schedules cleanup. */
  async finish(outcome: Outcome): Promise<void> {
    const state = this.require();
    if (isTerminal(state)) return;
    const now = Date.now();
    const next: JobState = {
      ...state,
      status: outcome.status,
      errorCode: outcome.errorCode,
      errorMessage: outcome.errorMessage,
      exitCode: outcome.exitCode ?? null,
      finishedAt: now,
      updatedAt: nextVersion(state, now),
    };
    const events = this.store.transaction(() => {
      this.save(next);
      const appended: JobEvent[] = [];
      if (outcome.exitCode !== undefined) {
        appended.push(this.store.appendEvent('exit', now, { exit_code: outcome.exitCode }));
      }
      appended.push(this.store.appendEvent('status', now, statusBody(next)));
      this.store.deleteDeadline('advance');
      this.store.deleteDeadline('timeout');
      this.store.setDeadline('cleanup', now);
      this.store.setDeadline('release', now);
      this.store.setDeadline('retention', now); // re-armed for when the output expires: retention.ts
      return appended;
    });
    for (const event of events) broadcast(this.ctx, event);
    closeAll(this.ctx);
    log('info', 'job finished', {
      job_id: next.id,
      tenant_id: next.tenantId,
      status: next.status,
      exit_code: next.exitCode,
      duration_ms: now - next.createdAt,
    });
    await this.mirror(next);
  }

  /** Writes the job's row to D1; if D1 fails, a `sync` deadline retries later. */
  async mirror(state: JobState): Promise<void> {
    try {
      await upsertJob(this.env.DB, toRow(state));
    } catch (error) {
      log('warn', 'could not mirror job to D1; will retry', {
        job_id: state.id,
        ...errorFields(error),
      });
      this.store.setDeadline('sync', Date.now() + retryDelayMs(1));
    }
  }

  /**
   * Stores the not-yet-stored part of an output chunk as events and broadcasts them.
   * `seenBefore` is how many characters of this stream the current log connection delivered
   * before this chunk (see unseenPart).
   */
  storeOutput(stream: 'stdout' | 'stderr', chunk: string, seenBefore: number): void {
    const state = this.require();
    if (isTerminal(state)) return;
    const offsetKey = stream === 'stdout' ? 'stdoutOffset' : 'stderrOffset';
    const fresh = unseenPart(chunk, seenBefore, state[offsetKey]);
    if (fresh === '') return;
    const now = Date.now();
    const kept = fresh.slice(0, Math.max(0, MAX_OUTPUT_CHARS - state.storedOutputChars));
    const truncateNow = kept.length < fresh.length && !state.outputTruncated;
    const events = this.store.transaction(() => {
      const appended = splitChunk(kept).map((data) =>
        this.store.appendEvent(stream, now, { data }),
      );
      if (truncateNow) {
        appended.push(this.store.appendEvent('truncated', now, { limit_chars: MAX_OUTPUT_CHARS }));
      }
      this.save({
        ...state,
        [offsetKey]: seenBefore + chunk.length,
        storedOutputChars: state.storedOutputChars + kept.length,
        outputTruncated: state.outputTruncated || truncateNow,
      });
      return appended;
    });
    for (const event of events) broadcast(this.ctx, event);
  }
}

/**
 * `updated_at` of the next state: the clock, but always past the previous value, so that D1
 * can tell an older mirror write from a newer one (see upsertJob).
 */
function nextVersion(previous: JobState, now: number): number {
  return Math.max(now, previous.updatedAt + 1);
}

/** The body of a `status` event. */
function statusBody(state: JobState): EventBody {
  return {
    status: state.status,
    ...(state.errorCode ? { error: { code: state.errorCode, message: state.errorMessage } } : {}),
  };
}
