/**
 * The job's record: its state and event log in the DO's SQLite, told to watchers and mirrored
 * into D1. A status change is persisted first, then broadcast, then mirrored, in that order;
 * output is persisted, then broadcast (D1 keeps no output); save() persists bookkeeping alone.
 */
import { upsertJob } from '../../worker/db/jobs.ts';
import { errorFields, log } from '../../worker/lib/log.ts';
import { isTerminal, MAX_EVENT_BYTES, MAX_OUTPUT_BYTES, retryDelayMs } from './decisions.ts';
import { OutputMasker } from './mask.ts';
import { broadcast, closeAll } from './sockets.ts';
import { endAgentStdout, readAgentStdout } from './agents/job-output.ts';
import type { AgentEvent } from './agents/types.ts';
import type { CostSummary } from './ledger.ts';
import { toRow, type JobState } from './state.ts';
import { queueJobEvents } from './webhooks.ts';
import { needsPush } from './github.ts';
import type { GitHubPush } from '../../worker/github/work.ts';
import type { EventBody, JobEvent, JobStorage } from './storage.ts';
import { completePrefix, decodeUtf8, splitOnCharacters } from './utf8.ts';

/** What the job costs as of `now` (cost.ts), or null if it cannot be priced. */
export type Pricer = (state: JobState, now: number) => CostSummary | null;

/** How a job ends. */
export type Outcome = Pick<JobState, 'status' | 'errorCode' | 'errorMessage'> & {
  exitCode?: number;
};

export class JobRecord {
  readonly store: JobStorage;
  private readonly ctx: DurableObjectState;
  private readonly env: Env;
  private current: JobState | null;
  private pricer: Pricer | null = null;
  private usageListener: (() => void) | null = null;
  /** Masks the secret values of the job's command in its output (set by the runner). */
  private masker = OutputMasker.none;
  private maskedValues: string[] = [];

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
    const usageChanged = this.current !== null && state.agentUsage !== this.current.agentUsage;
    this.store.putState(state);
    this.current = state;
    if (usageChanged) this.usageListener?.();
  }

  /** Prices the job at its end, for its final event (cost.ts). */
  priceWith(pricer: Pricer): void {
    this.pricer = pricer;
  }

  /** Calls `listener` whenever the agent's token counts change (cost.ts checks the budgets). */
  onUsageChange(listener: () => void): void {
    this.usageListener = listener;
  }

  /** Masks `values` in all output stored from now on (mask.ts); they are kept in memory only. */
  maskSecrets(values: readonly string[]): void {
    this.maskedValues = [...values];
    this.masker = new OutputMasker(values);
  }

  /** Masks `values` too, next to those already masked (an installation token, github.ts). */
  maskAlso(values: readonly string[]): void {
    this.maskSecrets([...this.maskedValues, ...values]);
  }

  /** Drops the job from memory, once its storage is being erased (JobDO.erase). */
  forget(): void {
    this.current = null;
  }

  /**
   * Applies bookkeeping (which step was requested, offsets) to a job that still runs. Returns
   * false, writing nothing, once the job has ended: a step that resumes after a cancel or a
   * timeout must leave no trace.
   */
  update(patch: Partial<JobState>): boolean {
    const current = this.require();
    if (isTerminal(current)) return false;
    this.save({ ...current, ...patch });
    return true;
  }

  /**
   * Moves a running job to a new non-final status, records it, tells watchers and D1. Returns
   * null, writing and telling nothing, if the job has ended meanwhile (see update()).
   */
  async transition(patch: Partial<JobState>): Promise<JobState | null> {
    const now = Date.now();
    const previous = this.require();
    if (isTerminal(previous)) return null;
    const next: JobState = { ...previous, ...patch, updatedAt: nextVersion(previous, now) };
    const started = next.status === 'running' && previous.status !== 'running';
    const event = this.store.transaction(() => {
      this.save(next);
      // job.started is queued through a deadline, so that it survives an eviction or D1 failing.
      if (started) this.store.setDeadline('webhook', now);
      return this.store.appendEvent('status', now, statusBody(next));
    });
    broadcast(this.ctx, event);
    log('info', 'job transition', { ...transitionFields(previous, next, now) });
    await this.mirror(next);
    if (started) await this.queueWebhooks();
    return next;
  }

  /** Ends the job: final state and events first, then watchers, D1; schedules cleanup. */
  async finish(outcome: Outcome): Promise<void> {
    const state = this.require();
    if (isTerminal(state)) return;
    const now = Date.now();
    let next: JobState = {
      ...state,
      status: outcome.status,
      errorCode: outcome.errorCode,
      errorMessage: outcome.errorMessage,
      exitCode: outcome.exitCode ?? null,
      finishedAt: now,
      updatedAt: nextVersion(state, now),
      // No output is stored from now on, so the secrets to mask in it are not needed either.
      envSealed: {},
    };
    // A succeeded agent job from GitHub pushes its changes before its sandbox is deleted.
    const push = needsPush(next);
    if (push) next = { ...next, githubPushStep: 'pending' };
    // The final event says what the job cost; the sandbox's seconds until it is deleted are
    // added to the ledger afterwards (cost.ts).
    const cost = this.pricer?.(next, now) ?? null;
    if (cost) next = { ...next, costMicroUsd: Math.round(cost.total_usd * 1_000_000) };
    const events = this.store.transaction(() => {
      this.save(next);
      const appended: JobEvent[] = [];
      if (outcome.exitCode !== undefined) {
        appended.push(this.store.appendEvent('exit', now, { exit_code: outcome.exitCode }));
      }
      appended.push(
        this.store.appendEvent('status', now, { ...statusBody(next), ...(cost ? { cost } : {}) }),
      );
      this.store.deleteDeadline('advance');
      this.store.deleteDeadline('timeout');
      this.store.setDeadline(push ? 'push' : 'cleanup', now);
      this.store.setDeadline('release', now);
      this.store.setDeadline('retention', now); // re-armed for when the output expires: retention.ts
      this.store.setDeadline('webhook', now);
      return appended;
    });
    for (const event of events) broadcast(this.ctx, event);
    closeAll(this.ctx);
    log('info', 'job finished', {
      ...transitionFields(state, next, now),
      exit_code: next.exitCode,
    });
    await this.mirror(next);
    await this.queueWebhooks();
  }

  /**
   * Records what the push of the job's changes did (runner.ts), once: then the sandbox may be
   * deleted, and the job's end is reported to GitHub with it.
   */
  async pushed(push: GitHubPush | null, pushError: string | null): Promise<void> {
    const state = this.require();
    if (state.githubPushStep === 'done') return;
    const now = Date.now();
    this.store.transaction(() => {
      this.save({ ...state, githubPushStep: 'done', githubPush: push, githubPushError: pushError });
      this.store.setDeadline('cleanup', now);
      this.store.setDeadline('webhook', now);
    });
    await this.queueWebhooks();
  }

  /**
   * Queues the job's webhook events now (webhooks.ts) and clears the `webhook` deadline; if that
   * fails, the deadline is left for the alarm, which retries with backoff.
   */
  async queueWebhooks(): Promise<void> {
    const deadline = this.store.deadlines().find((d) => d.kind === 'webhook');
    const state = this.current;
    if (!deadline || !state) return;
    try {
      await queueJobEvents(this.env, state);
      this.store.clearDeadline(deadline);
    } catch (error) {
      log('warn', 'could not queue webhook events; will retry', {
        job_id: state.id,
        ...errorFields(error),
      });
    }
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
   * Stores new output of `stream` (complete UTF-8, not stored before) as events of at most
   * MAX_EVENT_BYTES and broadcasts them. Once MAX_OUTPUT_BYTES are stored, one `truncated` event
   * says so and nothing more is written; nothing is written after the job ended either. Secret
   * values are masked first; a tail that may be the start of one is not taken unless `final`
   * (the command has ended). Returns how many bytes of `raw` were taken: offer the rest again,
   * followed by the next output.
   */
  storeOutput(stream: 'stdout' | 'stderr', raw: Uint8Array, final = false): number {
    const state = this.require();
    if (isTerminal(state) || raw.length === 0) return raw.length;
    if (state.outputTruncated) return this.readPastCap(state, stream, raw, final);
    // Secret values are masked before anything else sees the output (mask.ts).
    const { output: bytes, consumed } = this.masker.mask(raw, final);
    if (consumed === 0) return 0;
    const room = MAX_OUTPUT_BYTES - state.storedOutputBytes;
    const keptLength = bytes.length <= room ? bytes.length : completePrefix(bytes, room);
    const truncateNow = keptLength < bytes.length;
    const offsetKey = stream === 'stdout' ? 'stdoutBytes' : 'stderrBytes';
    const now = Date.now();
    const kept = bytes.subarray(0, keptLength);
    const events = this.store.transaction(() => {
      const appended = splitOnCharacters(kept, MAX_EVENT_BYTES).map((piece) =>
        this.store.appendEvent(stream, now, { data: decodeUtf8(piece) }),
      );
      if (truncateNow) {
        appended.push(this.store.appendEvent('truncated', now, { limit_bytes: MAX_OUTPUT_BYTES }));
      }
      let next: JobState = {
        ...state,
        [offsetKey]: state[offsetKey] + consumed,
        storedOutputBytes: state.storedOutputBytes + keptLength,
        outputTruncated: truncateNow,
        firstOutputAt: state.firstOutputAt ?? (keptLength > 0 ? now : null),
      };
      // An agent job's stdout also yields typed events (agents/job-output.ts); all of it, even
      // past the output cap, so that its result line counts.
      if (stream === 'stdout') next = this.readAgentOutput(next, decodeUtf8(bytes), now, appended);
      this.save(next);
      return appended;
    });
    for (const event of events) broadcast(this.ctx, event);
    return consumed;
  }

  /**
   * Stores the typed events an agent job's stdout `text` held (appending them to `appended`) and
   * returns the state with the agent fields updated; a command job's state is returned as it is.
   * Once the output cap is reached only the `result` event is stored: the log stays bounded.
   */
  private readAgentOutput(
    state: JobState,
    text: string,
    now: number,
    appended: JobEvent[],
  ): JobState {
    const read = readAgentStdout(state, text);
    const events = state.outputTruncated
      ? read.events.filter((event) => event.kind === 'result')
      : read.events;
    appended.push(...this.appendAgentEvents(events, now));
    return read.state;
  }

  /**
   * Output past the cap: nothing of it is stored, but an agent job's stdout is still read (masked
   * first, like all output) for its outcome, usage and final text. Returns the bytes taken.
   */
  private readPastCap(
    state: JobState,
    stream: 'stdout' | 'stderr',
    raw: Uint8Array,
    final: boolean,
  ): number {
    if (stream !== 'stdout' || state.agentRun === null) return raw.length;
    const { output, consumed } = this.masker.mask(raw, final);
    if (consumed === 0) return 0;
    const now = Date.now();
    const events = this.store.transaction(() => {
      const appended: JobEvent[] = [];
      const next = { ...state, stdoutBytes: state.stdoutBytes + consumed };
      this.save(this.readAgentOutput(next, decodeUtf8(output), now, appended));
      return appended;
    });
    for (const event of events) broadcast(this.ctx, event);
    return consumed;
  }

  /**
   * Reads the last line of an agent job's stdout if it had no newline, once the command exited
   * and its whole log is stored: the result line must count even then.
   */
  endAgentOutput(): void {
    const state = this.require();
    if (isTerminal(state) || state.agentRun === null) return;
    const now = Date.now();
    const events = this.store.transaction(() => {
      const read = endAgentStdout(state);
      const appended = this.appendAgentEvents(read.events, now);
      this.save(read.state);
      return appended;
    });
    for (const event of events) broadcast(this.ctx, event);
  }

  private appendAgentEvents(events: AgentEvent[], now: number): JobEvent[] {
    return events.map((agent) => this.store.appendEvent('agent', now, { agent }));
  }
}

/**
 * `updated_at` of the next state: the clock, but always past the previous value, so that D1
 * can tell an older mirror write from a newer one (see upsertJob).
 */
function nextVersion(previous: JobState, now: number): number {
  return Math.max(now, previous.updatedAt + 1);
}

/**
 * The fields of a status change's log line: the job's ids (`user_id` is the actor that created
 * it, `sandbox_id` Daytona's id once known), the change, and the time since the job was created.
 */
function transitionFields(previous: JobState, next: JobState, now: number) {
  return {
    job_id: next.id,
    tenant_id: next.tenantId,
    user_id: next.createdBy ?? undefined,
    sandbox_id: next.sandboxId ?? undefined,
    from: previous.status,
    status: next.status,
    duration_ms: now - next.createdAt,
  };
}

/** The body of a `status` event. */
function statusBody(state: JobState): EventBody {
  return {
    status: state.status,
    ...(state.errorCode ? { error: { code: state.errorCode, message: state.errorMessage } } : {}),
  };
}
