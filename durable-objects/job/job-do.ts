/**
 * JobDO: one Durable Object per job. It drives the job's Daytona sandbox through
 * queued → provisioning → cloning → running → succeeded | failed | timed_out, keeps the job's
 * event log, streams it to WebSocket watchers and mirrors the job's row into D1.
 *
 * Entry points stay thin: what happens next is decided in decisions.ts, Daytona calls live in
 * daytona.ts, and all state is in SQLite (storage.ts), written before anyone is told about it.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Daytona, Sandbox } from '@daytonaio/sdk';
import { loadConfig } from '../../worker/config.ts';
import { upsertJob } from '../../worker/db/jobs.ts';
import type { JobRow } from '../../worker/db/schema.ts';
import { errorFields, log } from '../../worker/lib/log.ts';
import {
  commandOutcome,
  followUntil,
  isTerminal,
  MAX_CLEANUP_ATTEMPTS,
  MAX_OUTPUT_CHARS,
  MAX_STEP_ATTEMPTS,
  MAX_SYNC_ATTEMPTS,
  nextStep,
  retryDelayMs,
  splitChunk,
  unseenPart,
  autoStopMinutes,
  fitInBudget,
  type Step,
} from './decisions.ts';
import {
  createOrAdoptSandbox,
  daytonaClient,
  deleteSandbox,
  describeError,
  isRetryable,
  REPO_DIR,
  SESSION_ID,
  startCommand,
} from './daytona.ts';
import { acceptWatcher, broadcast, closeAll, closeQuietly, MAX_WATCHERS } from './sockets.ts';
import { initialState, toRow, type JobSpec, type JobState } from './state.ts';
import { JobStorage, type Deadline, type EventBody, type JobEvent } from './storage.ts';

/** How long create() may take to write the job's D1 row before the job starts anyway. */
const CREATE_GRACE_MS = 30_000;
/** Output characters in one page of events: pages stay small whatever `limit` asks for. */
const MAX_PAGE_OUTPUT_CHARS = 1024 * 1024;

type Outcome = Pick<JobState, 'status' | 'errorCode' | 'errorMessage'> & { exitCode?: number };

export class JobDO extends DurableObject<Env> {
  private readonly store: JobStorage;
  private state: JobState | null;
  private daytona: Daytona | null = null;
  private sandbox: Sandbox | null = null;
  /** Bumped to detach a log follower: output from an older follower is ignored. */
  private followGeneration = 0;
  /** Ends the current log follower's wait at once (cancel, timeout). */
  private stopFollowing: () => void = () => undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new JobStorage(ctx.storage);
    this.state = this.store.getState();
    // Answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  // ---- RPC ---------------------------------------------------------------------------------

  /**
   * Accepts the job: persists it, writes its D1 row and schedules the first step; a `waiting`
   * job is held in `queued` until slotGranted(). Idempotent: a second call returns the first job.
   */
  async create(spec: JobSpec, slot: 'running' | 'waiting' = 'running'): Promise<JobRow> {
    if (this.state) return toRow(this.state);
    const state = initialState(spec, slot === 'waiting');
    this.store.ensureSchema();
    this.store.transaction(() => {
      this.save(state);
      this.store.appendEvent('status', spec.createdAt, { status: 'queued' });
      this.store.setDeadline('timeout', spec.createdAt + spec.timeoutSeconds * 1000);
      // A safety net: if this object dies before the D1 write below finishes, the job still
      // starts (and its first transition writes the row). Moved to "now" once the row exists.
      this.store.setDeadline('advance', Date.now() + CREATE_GRACE_MS);
    });
    await this.armAlarm();
    try {
      await upsertJob(this.env.DB, toRow(state));
    } catch (error) {
      // Without its D1 row nobody could list the job: forget it and let the caller retry.
      await this.store.wipe();
      this.state = null;
      throw error;
    }
    if (state.slotGranted) this.store.setDeadline('advance', Date.now());
    else this.store.deleteDeadline('advance');
    await this.armAlarm();
    return toRow(state);
  }

  /** Called by the tenant's TenantDO when a queued job may start. Idempotent. */
  async slotGranted(): Promise<void> {
    const state = this.state;
    if (!state || isTerminal(state) || state.slotGranted) return;
    this.save({ ...state, slotGranted: true });
    this.store.setDeadline('advance', Date.now());
    await this.armAlarm();
  }

  /** False once the job has ended (or if this object holds none): its slot may be reclaimed. */
  isActive(): boolean {
    return this.state !== null && !isTerminal(this.state);
  }

  /**
   * Cancels the job of `tenantId`: it ends as `canceled` and its sandbox is deleted. Returns the
   * job afterwards (unchanged if it had already ended), or null if this object holds no such job.
   */
  async cancel(tenantId: string, actor: string): Promise<JobRow | null> {
    if (!this.ownedBy(tenantId)) return null;
    if (!isTerminal(this.requireState())) {
      this.followGeneration++;
      this.stopFollowing();
      await this.finish({
        status: 'canceled',
        errorCode: 'canceled',
        errorMessage: `Canceled by ${actor}.`,
      });
      await this.armAlarm();
    }
    return toRow(this.requireState());
  }

  /** The job as it is now, or null if this object holds no job of `tenantId`. */
  get(tenantId: string): JobRow | null {
    return this.ownedBy(tenantId) ? toRow(this.requireState()) : null;
  }

  /**
   * Up to `limit` events after `after`, or null if this object holds no job of `tenantId`.
   * `next_after` is null once the job ended and every event was read.
   */
  listEvents(
    tenantId: string,
    after: number,
    limit: number,
  ): { data: JobEvent[]; next_after: number | null } | null {
    if (!this.ownedBy(tenantId)) return null;
    const data = fitInBudget(this.store.eventsAfter(after, limit), MAX_PAGE_OUTPUT_CHARS);
    const last = data.at(-1)?.seq ?? after;
    const done = this.state !== null && isTerminal(this.state) && last >= this.store.lastSeq();
    return { data, next_after: done ? null : last };
  }

  // ---- WebSocket stream -------------------------------------------------------------------

  /** Upgrades to a WebSocket that replays events after `?after=` and then follows live. */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (!this.state || !this.ownedBy(url.searchParams.get('tenant') ?? '')) {
      return new Response('no such job', { status: 404 });
    }
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    if (this.ctx.getWebSockets().length >= MAX_WATCHERS) {
      return new Response('too many watchers on this job', { status: 429 });
    }
    const after = Number(url.searchParams.get('after') ?? '0');
    const client = acceptWatcher(this.ctx, this.store, after, isTerminal(this.state));
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(): Promise<void> {
    // Watchers only listen; "ping" is answered by the auto-response without waking us.
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    closeQuietly(ws, code, reason);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    closeQuietly(ws, 1011, 'socket error');
  }

  // ---- Alarm: one alarm over the deadlines table ------------------------------------------

  override async alarm(): Promise<void> {
    const handled = new Set<string>();
    for (;;) {
      const due = this.store.deadlines().find((d) => d.dueAt <= Date.now() && !handled.has(d.kind));
      if (!due) break;
      handled.add(due.kind);
      await this.runDeadline(due);
    }
    await this.armAlarm();
  }

  /** Runs a due deadline's handler; a failure re-arms it with backoff, up to a limit. */
  private async runDeadline(deadline: Deadline): Promise<void> {
    try {
      switch (deadline.kind) {
        case 'advance':
          await this.advance(deadline.attempts);
          break;
        case 'timeout':
          await this.onTimeout();
          break;
        case 'cleanup':
          await this.cleanup();
          break;
        case 'sync':
          if (this.state) await upsertJob(this.env.DB, toRow(this.state));
          break;
        case 'release':
          if (this.state)
            await this.env.TENANT.getByName(this.state.tenantId).release(this.state.id);
          break;
      }
      this.store.clearDeadline(deadline);
    } catch (error) {
      const attempts = deadline.attempts + 1;
      const limit = deadline.kind === 'sync' ? MAX_SYNC_ATTEMPTS : MAX_CLEANUP_ATTEMPTS;
      const fields = {
        job_id: this.state?.id,
        deadline: deadline.kind,
        attempts,
        ...errorFields(error),
      };
      if (attempts >= limit) {
        log('error', 'deadline handler gave up', fields);
        this.store.clearDeadline(deadline);
      } else {
        log('warn', 'deadline handler failed; will retry', fields);
        this.store.setDeadline(deadline.kind, Date.now() + retryDelayMs(attempts), attempts);
      }
    }
  }

  private async armAlarm(): Promise<void> {
    const next = this.store.deadlines()[0];
    if (next) await this.ctx.storage.setAlarm(next.dueAt);
    else await this.ctx.storage.deleteAlarm();
  }

  // ---- Lifecycle ----------------------------------------------------------------------------

  /** Carries the job forward step by step until it waits on something or ends. */
  private async advance(attempts: number): Promise<void> {
    let failures = attempts;
    for (;;) {
      const state = this.state;
      if (!state) return;
      const step = nextStep(state, Date.now());
      if (step === 'none') return;
      try {
        const more = await this.runStep(step, state, failures);
        if (!more) return;
        failures = 0;
      } catch (error) {
        if (isRetryable(error) && failures + 1 < MAX_STEP_ATTEMPTS) {
          log('warn', 'job step failed; will retry', {
            job_id: state.id,
            step,
            attempts: failures + 1,
            ...errorFields(error),
          });
          this.store.setDeadline('advance', Date.now() + retryDelayMs(failures + 1), failures + 1);
          return;
        }
        await this.finish(stepFailure(step, state, error));
        return;
      }
    }
  }

  /** Runs one step. Returns false when the job must wait (the step re-armed `advance` itself). */
  private async runStep(step: Step, state: JobState, failures: number): Promise<boolean> {
    const now = Date.now();
    switch (step) {
      case 'provision': {
        let current = state;
        if (current.status === 'queued') {
          current = await this.transition({ status: 'provisioning', provisioningAt: now });
        }
        const mayExist = current.createRequested;
        if (!mayExist) this.save({ ...current, createRequested: true });
        this.sandbox = await createOrAdoptSandbox(this.client(), {
          name: current.sandboxName,
          snapshot: current.snapshot,
          labels: { 'omni.job': current.id, 'omni.tenant': current.tenantId },
          autoStopMinutes: autoStopMinutes(current.timeoutSeconds),
          mayExist,
        });
        await this.transition({
          status: 'cloning',
          cloningAt: Date.now(),
          sandboxId: this.sandbox.id,
        });
        return true;
      }
      case 'clone': {
        const sandbox = await this.getSandbox(state);
        // A failed attempt may have left a partial checkout behind.
        if (failures > 0) await sandbox.process.executeCommand(`rm -rf ${REPO_DIR}`);
        await sandbox.git.clone(state.repoUrl, REPO_DIR, state.repoRef ?? undefined);
        await this.transition({ status: 'running', runningAt: Date.now() });
        return true;
      }
      case 'start_command': {
        const sandbox = await this.getSandbox(state);
        const requested = state.commandRequested;
        if (!requested) this.save({ ...state, commandRequested: true });
        const cmdId = await startCommand(sandbox, state.command, requested);
        this.save({ ...this.requireState(), cmdId });
        return true;
      }
      case 'follow': {
        const sandbox = await this.getSandbox(state);
        const exitCode = await this.followLog(sandbox, state, followUntil(state, now));
        // Canceled or timed out meanwhile: the cleanup deadline takes it from here.
        if (this.state && isTerminal(this.state)) return false;
        if (exitCode === null) {
          // The slice ended or the log closed early: re-attach (deduplicated by offset).
          this.store.setDeadline('advance', Date.now());
          return false;
        }
        await this.finish({ ...commandOutcome(exitCode), exitCode });
        return false;
      }
      case 'none':
        return false;
    }
  }

  /**
   * Follows the command's log until it ends or `until`, storing each new chunk as an event.
   * Returns the exit code, or null if the command was still running when following stopped.
   */
  private async followLog(
    sandbox: Sandbox,
    state: JobState,
    until: number,
  ): Promise<number | null> {
    const cmdId = state.cmdId;
    if (cmdId === null) return null;
    const generation = ++this.followGeneration;
    const seen = { stdout: 0, stderr: 0 };
    const onChunk = (stream: 'stdout' | 'stderr') => (chunk: string) => {
      if (generation !== this.followGeneration) return;
      this.storeOutput(stream, chunk, seen[stream]);
      seen[stream] += chunk.length;
    };
    const logs = sandbox.process.getSessionCommandLogs(
      SESSION_ID,
      cmdId,
      onChunk('stdout'),
      onChunk('stderr'),
    );
    // If the slice ends first, a later failure of this follower is of no interest.
    logs.catch(() => undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const sliceEnd = new Promise<'slice'>((resolve) => {
      timer = setTimeout(() => resolve('slice'), Math.max(0, until - Date.now()));
      this.stopFollowing = () => resolve('slice');
    });
    try {
      const ended = await Promise.race([logs.then(() => 'closed' as const), sliceEnd]);
      if (ended === 'slice') return null;
    } finally {
      clearTimeout(timer);
      if (generation === this.followGeneration) this.followGeneration++;
    }
    const command = await sandbox.process.getSessionCommand(SESSION_ID, cmdId);
    return command.exitCode ?? null;
  }

  /** Stores the not-yet-stored part of an output chunk as events and broadcasts them. */
  private storeOutput(stream: 'stdout' | 'stderr', chunk: string, seenBefore: number): void {
    const state = this.requireState();
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

  private async onTimeout(): Promise<void> {
    const state = this.state;
    if (!state || isTerminal(state)) return;
    this.followGeneration++;
    this.stopFollowing();
    await this.finish({
      status: 'timed_out',
      errorCode: 'timeout',
      errorMessage: `The job exceeded its time limit of ${state.timeoutSeconds} seconds.`,
    });
  }

  /** Ends the job: final state and events first, then watchers, D1 and sandbox deletion. */
  private async finish(outcome: Outcome): Promise<void> {
    const state = this.requireState();
    if (isTerminal(state)) return;
    const now = Date.now();
    const next: JobState = {
      ...state,
      status: outcome.status,
      errorCode: outcome.errorCode,
      errorMessage: outcome.errorMessage,
      exitCode: outcome.exitCode ?? null,
      finishedAt: now,
      updatedAt: now,
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

  /** Moves a running job to a new non-final status, records it, tells watchers and D1. */
  private async transition(patch: Partial<JobState>): Promise<JobState> {
    const now = Date.now();
    const next: JobState = { ...this.requireState(), ...patch, updatedAt: now };
    const event = this.store.transaction(() => {
      this.save(next);
      return this.store.appendEvent('status', now, statusBody(next));
    });
    broadcast(this.ctx, event);
    await this.mirror(next);
    return next;
  }

  /** Writes the job's row to D1; if D1 fails, a `sync` deadline retries later. */
  private async mirror(state: JobState): Promise<void> {
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

  /** Deletes the job's sandbox (if one may exist). */
  private async cleanup(): Promise<void> {
    const state = this.state;
    if (!state || state.sandboxDeleted) return;
    if (state.createRequested) {
      this.followGeneration++;
      await deleteSandbox(this.client(), state.sandboxId ?? state.sandboxName);
      this.sandbox = null;
    }
    this.save({ ...this.requireState(), sandboxDeleted: true });
    log('info', 'sandbox deleted', {
      job_id: state.id,
      sandbox: state.sandboxId ?? state.sandboxName,
    });
  }

  // ---- Helpers ------------------------------------------------------------------------------

  private save(state: JobState): void {
    this.store.putState(state);
    this.state = state;
  }

  /** True if this object holds a job and it belongs to `tenantId`. */
  private ownedBy(tenantId: string): boolean {
    return this.state !== null && this.state.tenantId === tenantId;
  }

  private requireState(): JobState {
    if (!this.state) throw new Error('this Job DO holds no job');
    return this.state;
  }

  private client(): Daytona {
    this.daytona ??= daytonaClient(loadConfig(this.env).daytona);
    return this.daytona;
  }

  private async getSandbox(state: JobState): Promise<Sandbox> {
    this.sandbox ??= await this.client().get(state.sandboxId ?? state.sandboxName);
    return this.sandbox;
  }
}

/** The body of a `status` event. */
function statusBody(state: JobState): EventBody {
  return {
    status: state.status,
    ...(state.errorCode ? { error: { code: state.errorCode, message: state.errorMessage } } : {}),
  };
}

/** How a step that could not be completed ends the job, in words the user can act on. */
function stepFailure(step: Step, state: JobState, error: unknown): Outcome {
  const reason = describeError(error);
  switch (step) {
    case 'provision':
      return {
        status: 'failed',
        errorCode: 'sandbox_create_failed',
        errorMessage: `Could not create the sandbox: ${reason}`,
      };
    case 'clone':
      return {
        status: 'failed',
        errorCode: 'clone_failed',
        errorMessage: `Could not clone ${state.repoUrl}${state.repoRef ? ` at ${state.repoRef}` : ''}: ${reason}`,
      };
    default:
      return {
        status: 'failed',
        errorCode: 'sandbox_error',
        errorMessage: `The sandbox failed: ${reason}`,
      };
  }
}
