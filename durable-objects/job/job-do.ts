/**
 * JobDO: one Durable Object per job. It drives the job's Daytona sandbox through
 * queued → provisioning → cloning → running → succeeded | failed | timed_out | canceled, keeps
 * the job's event log, streams it to WebSocket watchers and mirrors the job's row into D1.
 *
 * This file holds the entry points (RPC, WebSocket, alarm) and stays thin: what happens next is
 * decided in decisions.ts, the sandbox work is in runner.ts, status changes and output go through
 * record.ts (which tells watchers and D1), and all state is in SQLite (storage.ts), written
 * before anyone is told about it. Bookkeeping that no one watches (which step was requested, the
 * deadlines) is saved directly.
 */
import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import { AUTH_CACHE_TTL_MS } from '../../worker/db/auth-cache.ts';
import { upsertJob } from '../../worker/db/jobs.ts';
import { standingActors } from '../../worker/db/standing.ts';
import type { JobStatus } from '../../worker/domain/jobs.ts';
import { errorFields, log } from '../../worker/lib/log.ts';
import { reportError, type ErrorScope } from '../../worker/lib/sentry.ts';
import { jobMaxWatchers } from '../../worker/config.ts';
import { loadBudgetSettings } from '../../worker/lib/prices.ts';
import { JobCost } from './cost.ts';
import type { CostSummary } from './ledger.ts';
import { queueJobEvents } from './webhooks.ts';
import { pushPending } from './github.ts';
import { deadlineAttemptLimit, fitInBudget, isTerminal, retryDelayMs } from './decisions.ts';
import { mayErase, type EraseResult } from './erase.ts';
import { JobRecord } from './record.ts';
import { expireOutput } from './retention.ts';
import { JobRunner } from './runner.ts';
import { utf8Length } from './send-budget.ts';
import { closeQuietly, Watchers } from './sockets.ts';
import { initialState, toRow, type JobSpec, type JobState } from './state.ts';
import { toView, type JobView } from './view.ts';
import { JobStorage, type Deadline, type JobEvent } from './storage.ts';

/** Output bytes (UTF-8) in one page of events: pages stay small whatever `limit` asks for. */
const MAX_PAGE_OUTPUT_BYTES = 1024 * 1024;

/** What a Job DO knows of its job: see JobDO.activity(). */
export type JobActivity = 'active' | 'finished' | 'unknown';

/**
 * How soon an alarm invocation that died midway (an eviction, a crash, a runtime limit) is
 * followed by another. The runtime never runs two alarm invocations of one object at once, so a
 * watchdog that comes due while a long invocation (a log slice) still runs only fires after it,
 * and then the invocation has re-armed the alarm at the next real deadline.
 */
const ALARM_WATCHDOG_MS = 5_000;

/**
 * How often open watchers are checked against revocation: the auth cache's lifetime, so a
 * revoked key's streams end about as soon as its requests are refused everywhere.
 */
const STANDING_CHECK_MS = AUTH_CACHE_TTL_MS;

const viewerSchema = z.object({
  actor: z.string().min(1),
  grant: z.enum(['key', 'member', 'claim']),
});

/** What cancel() did: ended the job now, or found it had already ended. */
type CancelResult =
  | { canceled: true; previousStatus: JobStatus; job: PricedView }
  | { canceled: false; job: PricedView };

/** The job as the Job DO answers it, with what it has cost so far (null: prices misconfigured). */
export type PricedView = JobView & { cost: CostSummary | null };

export class JobDO extends DurableObject<Env> {
  private readonly store: JobStorage;
  private readonly record: JobRecord;
  private readonly runner: JobRunner;
  private readonly watchers: Watchers;
  private readonly cost: JobCost;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new JobStorage(ctx.storage);
    this.record = new JobRecord(ctx, env, this.store);
    this.runner = new JobRunner(this.record, env);
    this.cost = new JobCost(this.record, env, (message) => this.stopForBudget(message));
    this.record.priceWith((state, now) => this.cost.summary(state, now));
    this.record.onUsageChange(() => this.cost.usageChanged());
    this.watchers = new Watchers(ctx, this.store, () => {
      const state = this.record.state;
      return state !== null && isTerminal(state);
    });
    // Answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  // ---- RPC ---------------------------------------------------------------------------------

  /**
   * Accepts the job: persists it, writes its D1 row and schedules the first step; a `waiting`
   * job is held in `queued` until slotGranted(). Idempotent: a second call returns the first job.
   */
  async create(spec: JobSpec, slot: 'running' | 'waiting' = 'running'): Promise<PricedView> {
    const existing = this.record.state;
    if (existing) return this.view(existing);
    const state = initialState(spec, slot === 'waiting');
    this.store.ensureSchema();
    this.store.transaction(() => {
      this.record.save(state);
      this.store.appendEvent('status', spec.createdAt, { status: 'queued' });
      this.store.setDeadline('timeout', spec.createdAt + spec.timeoutSeconds * 1000);
      this.store.setDeadline('budget', spec.createdAt + this.budgetCheckMs());
      if (state.slotGranted) this.store.setDeadline('advance', Date.now());
    });
    await this.armAlarm();
    // The job is accepted now. If D1 cannot take its row, a `sync` deadline writes it later; the
    // job itself is in this object and runs meanwhile (it can be read, just not yet listed).
    await this.record.mirror(state);
    return this.view(state);
  }

  /**
   * Called by the tenant's TenantDO when a queued job may start. Idempotent. Answers what this
   * object knows of the job: the slot may be granted before create() got here, so while this
   * answers `unknown` the TenantDO asks again.
   */
  async slotGranted(): Promise<JobActivity> {
    const state = this.record.state;
    if (!state || isTerminal(state) || state.slotGranted) return this.activity();
    this.record.save({ ...state, slotGranted: true });
    this.store.setDeadline('advance', Date.now());
    await this.armAlarm();
    return 'active';
  }

  /**
   * `active` while the job waits or runs (or its changes are still being pushed to GitHub: its
   * sandbox is in use), `finished` once it has ended, `unknown` if this object holds no job
   * (never created, or its create() has not arrived yet). Creates no storage.
   */
  activity(): JobActivity {
    const state = this.record.state;
    if (state === null) return 'unknown';
    return isTerminal(state) && !pushPending(state) ? 'finished' : 'active';
  }

  /**
   * Cancels the job of `tenantId`: it ends as `canceled` and its sandbox is deleted. Says whether
   * this call canceled it (and from which status) or it had already ended; null if this object
   * holds no such job.
   */
  async cancel(tenantId: string, actor: string): Promise<CancelResult | null> {
    if (!this.record.ownedBy(tenantId)) return null;
    const before = this.record.require();
    if (isTerminal(before)) return { canceled: false, job: this.view(before) };
    this.runner.stop();
    await this.record.finish({
      status: 'canceled',
      errorCode: 'canceled',
      errorMessage: `Canceled by ${actor}.`,
    });
    await this.armAlarm();
    return {
      canceled: true,
      previousStatus: before.status,
      job: this.view(this.record.require()),
    };
  }

  /** The job as it is now, or null if this object holds no job of `tenantId`. */
  get(tenantId: string): PricedView | null {
    return this.record.ownedBy(tenantId) ? this.view(this.record.require()) : null;
  }

  /**
   * Up to `limit` events after `after`, and no more than about 1 MiB of output, or null if this
   * object holds no job of `tenantId`. Events are read from storage one at a time and reading
   * stops when the page is full, so at most one event more than the page is loaded.
   * `next_after` is null once the job ended and every event was read.
   */
  listEvents(
    tenantId: string,
    after: number,
    limit: number,
  ): { data: JobEvent[]; next_after: number | null } | null {
    if (!this.record.ownedBy(tenantId)) return null;
    const data = fitInBudget(this.store.eventsAfter(after, limit), MAX_PAGE_OUTPUT_BYTES, (e) =>
      utf8Length(e.data ?? (e.agent === undefined ? '' : JSON.stringify(e.agent))),
    );
    const last = data.at(-1)?.seq ?? after;
    const done = isTerminal(this.record.require()) && last >= this.store.lastSeq();
    return { data, next_after: done ? null : last };
  }

  /**
   * Erases the job, for the deletion of its tenant (erase.ts): the whole storage and the alarm
   * go, and the object is as if it had never held a job. Refuses (`busy`) while the job has not
   * ended, its end is still being carried out, or watchers are still connected; `unknown` if this
   * object holds no job of `tenantId` (never created, or already erased).
   */
  async erase(tenantId: string): Promise<EraseResult> {
    const state = this.record.state;
    if (state === null || !this.record.ownedBy(tenantId)) return 'unknown';
    const pending = this.store.deadlines().map((d) => d.kind);
    const open = this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN);
    if (!mayErase(state, pending, open.length)) return 'busy';
    this.record.forget();
    // Also deletes the alarm (compatibility date 2026-02-24 or later:
    // https://developers.cloudflare.com/changelog/2026-02-24-deleteall-deletes-alarms).
    await this.ctx.storage.deleteAll();
    log('info', 'job erased', { job_id: state.id, tenant_id: tenantId });
    return 'erased';
  }

  // ---- WebSocket stream -------------------------------------------------------------------

  /**
   * Upgrades to a WebSocket that replays events after `?after=` and then follows live (see
   * sockets.ts). 429 beyond JOB_MAX_WATCHERS watchers; 503 if that setting is invalid.
   */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const state = this.record.state;
    if (!state || !this.record.ownedBy(url.searchParams.get('tenant') ?? '')) {
      return new Response('no such job', { status: 404 });
    }
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade', {
        status: 426,
        headers: { Upgrade: 'websocket' },
      });
    }
    let maxWatchers: number;
    try {
      maxWatchers = jobMaxWatchers(this.env);
    } catch (error) {
      return new Response(error instanceof Error ? error.message : String(error), { status: 503 });
    }
    if (this.watchers.count() >= maxWatchers) {
      return new Response('too many watchers on this job', { status: 429 });
    }
    const after = Number(url.searchParams.get('after') ?? '0');
    const viewer = viewerSchema.safeParse({
      actor: url.searchParams.get('actor'),
      grant: url.searchParams.get('grant'),
    });
    if (!viewer.success) return new Response('who opens the stream is missing', { status: 400 });
    const client = this.watchers.accept(after, viewer.data);
    // Watchers are checked against revocation while they stay connected.
    if (!this.store.deadlines().some((d) => d.kind === 'standing')) {
      this.store.setDeadline('standing', Date.now() + STANDING_CHECK_MS);
      await this.armAlarm();
    }
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

  /**
   * Runs every due deadline, then points the alarm at the next one. It never throws: the
   * runtime retries a failed alarm only a few times before dropping it, and a dropped alarm
   * would leave the job running forever. A watchdog alarm is set first, so that an invocation
   * that dies midway (eviction, a runtime limit) is followed by another within seconds.
   */
  override async alarm(): Promise<void> {
    // An erased job has nothing left to do: no watchdog may bring its storage back.
    if (this.record.state === null) return;
    // A run can take minutes (following a command's log): the `standing` deadline would wait
    // for its end, so while it runs, watchers are checked on a timer too. The object is awake
    // for the run anyway; between runs it may hibernate and the deadline does the checking.
    const checking = setInterval(() => {
      this.checkWatchers().catch((error: unknown) => {
        log('warn', 'could not check watchers against revocation', errorFields(error));
      });
    }, STANDING_CHECK_MS);
    // Likewise budgets: a slice of following a command's log must not outlast a reached budget.
    const pricing = setInterval(() => {
      const state = this.record.state;
      if (!state || isTerminal(state)) return;
      this.cost.check().catch((error: unknown) => {
        log('warn', 'budget check failed; the next one retries', errorFields(error));
      });
    }, this.budgetCheckMs());
    try {
      await this.ctx.storage.setAlarm(Date.now() + ALARM_WATCHDOG_MS);
      const handled = new Set<string>();
      for (;;) {
        const due = this.store
          .deadlines()
          .find((d) => d.dueAt <= Date.now() && !handled.has(d.kind));
        if (!due) break;
        handled.add(due.kind);
        await this.runDeadline(due);
      }
    } catch (error) {
      log('error', 'job alarm failed', { job_id: this.record.state?.id, ...errorFields(error) });
      this.report(error, 'job alarm');
    } finally {
      clearInterval(checking);
      clearInterval(pricing);
      await this.armAlarm().catch((error: unknown) => {
        log('error', 'could not re-arm the job alarm', errorFields(error));
      });
    }
  }

  /** Reports an error to Sentry (if SENTRY_DSN is set) with the job's ids, never its content. */
  private report(error: unknown, where: string, extra: Partial<ErrorScope> = {}): void {
    const state = this.record.state;
    const scope: ErrorScope = {
      where,
      job_id: state?.id,
      tenant_id: state?.tenantId,
      sandbox_id: state?.sandboxId ?? undefined,
      ...extra,
    };
    reportError(this.env, error, scope, (promise) => this.ctx.waitUntil(promise));
  }

  /**
   * Runs a due deadline's handler; a failure re-arms it with capped backoff, up to the kind's
   * limit (deadlineAttemptLimit: D1 sync, slot release and retention never give up).
   */
  private async runDeadline(deadline: Deadline): Promise<void> {
    const state = this.record.state;
    try {
      switch (deadline.kind) {
        case 'advance':
          await this.runner.advance(deadline.attempts);
          break;
        case 'timeout':
          if (state && !isTerminal(state)) {
            this.runner.stop();
            await this.record.finish({
              status: 'timed_out',
              errorCode: 'timeout',
              errorMessage: `The job exceeded its time limit of ${state.timeoutSeconds} seconds.`,
            });
          }
          break;
        case 'push':
          await this.runner.push(deadline.attempts);
          break;
        case 'cleanup':
          await this.runner.cleanup();
          // The sandbox's time is known now: the final ledger (retried until it is written).
          if (this.record.state?.sandboxDeleted) this.store.setDeadline('ledger', Date.now());
          break;
        case 'budget':
          if (state && !isTerminal(state)) {
            // The next check is one interval away whatever this one meets: a write or report
            // that failed is retried by it (each carries the whole ledger), so the cadence and
            // the overshoot bound hold while D1 or the TenantDO fail (no backoff here).
            this.store.setDeadline('budget', Date.now() + this.budgetCheckMs());
            await this.cost.check().catch((error: unknown) => {
              log('warn', 'budget check failed; the next one retries', {
                job_id: state.id,
                ...errorFields(error),
              });
            });
          }
          break;
        case 'ledger':
          if (state) await this.cost.check();
          break;
        case 'sync':
          if (state) await upsertJob(this.env.DB, toRow(state));
          break;
        case 'release':
          if (state) await this.env.TENANT.getByName(state.tenantId).release(state.id);
          break;
        case 'retention':
          if (state) expireOutput(this.store, state, this.env, Date.now());
          break;
        case 'standing':
          await this.checkWatchers();
          break;
        case 'webhook':
          if (state) await queueJobEvents(this.env, state);
          break;
      }
      this.store.clearDeadline(deadline);
    } catch (error) {
      const attempts = deadline.attempts + 1;
      const limit = deadlineAttemptLimit(deadline.kind);
      const fields = {
        job_id: state?.id,
        deadline: deadline.kind,
        attempts,
        ...errorFields(error),
      };
      if (limit !== null && attempts >= limit) {
        log('error', 'deadline handler gave up', fields);
        this.report(error, 'job deadline', { deadline: deadline.kind });
        this.store.clearDeadline(deadline);
      } else {
        log('warn', 'deadline handler failed; will retry', fields);
        this.store.setDeadline(deadline.kind, Date.now() + retryDelayMs(attempts), attempts);
      }
    }
  }

  /**
   * Closes the watchers whose key or membership was revoked since they connected, reading D1
   * itself (not the auth cache), and checks again in STANDING_CHECK_MS while some remain.
   */
  private async checkWatchers(): Promise<void> {
    const state = this.record.state;
    if (!state) return;
    const { open, closed } = await this.watchers.checkStanding((viewers) =>
      standingActors(this.env.DB, state.tenantId, viewers),
    );
    if (closed > 0)
      log('info', 'closed watchers whose credentials were revoked', { job_id: state.id, closed });
    if (open > 0) this.store.setDeadline('standing', Date.now() + STANDING_CHECK_MS);
  }

  /** The job with its cost, priced now: while the sandbox exists, its time counts up to now. */
  private view(state: JobState): PricedView {
    return { ...toView(state), cost: this.cost.summary(state, Date.now()) };
  }

  /** Ends the job because a budget was reached, like a cancel: its sandbox is deleted. */
  private async stopForBudget(message: string): Promise<void> {
    const state = this.record.state;
    if (!state || isTerminal(state)) return;
    this.runner.stop();
    await this.record.finish({
      status: 'failed',
      errorCode: 'budget_exceeded',
      errorMessage: message,
    });
    await this.armAlarm();
  }

  /** BUDGET_CHECK_SECONDS in milliseconds; its default if the setting is invalid (logged). */
  private budgetCheckMs(): number {
    try {
      return loadBudgetSettings(this.env).checkSeconds * 1000;
    } catch (error) {
      log('error', 'invalid budget setting; checking every 10 s', errorFields(error));
      return 10_000;
    }
  }

  /** Points the single alarm at the earliest deadline. */
  private async armAlarm(): Promise<void> {
    const next = this.store.deadlines()[0];
    if (next) await this.ctx.storage.setAlarm(next.dueAt);
    else await this.ctx.storage.deleteAlarm();
  }
}
