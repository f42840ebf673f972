/**
 * The sandbox registry: creation, lookup, lifecycle transitions and the automatic lifecycle.
 *
 * Transitions are synchronous from the client's point of view (create answers `started`, stop
 * answers `stopped`), so the SDK never enters its polling loops, unless a slow-start fault
 * (fault-rules.ts) keeps a new sandbox `starting` for a while. Auto-stop follows the platform:
 * the timer is reset by toolbox requests and lifecycle changes, an open log-follow websocket keeps
 * the sandbox active, `autoDeleteInterval: 0` (ephemeral) deletes on stop, and a TTL destroys
 * the sandbox regardless. All timers are unref'd so they never keep the process alive.
 */
import { mkdir, rm } from 'node:fs/promises';
import {
  specFromRequest,
  validateCreateRequest,
  type CreateSandboxRequest,
} from './create-sandbox.ts';
import { HttpError } from './errors.ts';
import { LocalSandbox } from './sandbox.ts';

/** setTimeout cannot wait longer than this (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Timers {
  autoStop?: NodeJS.Timeout;
  autoDelete?: NodeJS.Timeout;
  ttl?: NodeJS.Timeout;
  starting?: NodeJS.Timeout;
}

function clearTimers(timers: Timers): void {
  for (const timer of [timers.autoStop, timers.autoDelete, timers.ttl, timers.starting]) {
    clearTimeout(timer);
  }
}

/** How long a new sandbox stays `starting` (milliseconds; 0 starts it at once). */
type StartingDelay = (sandbox: LocalSandbox) => number;

function later(minutes: number, fn: () => void): NodeJS.Timeout {
  const timer = setTimeout(fn, Math.min(minutes * 60_000, MAX_TIMER_MS));
  timer.unref();
  return timer;
}

/** All live sandboxes of one server. */
export class SandboxRegistry {
  readonly #root: string;
  readonly #snapshots: string[];
  readonly #byId = new Map<string, LocalSandbox>();
  readonly #timers = new Map<string, Timers>();
  /** Every sandbox ever created, destroyed ones included (for the stats endpoint). */
  readonly #history: LocalSandbox[] = [];
  readonly #startingMs: StartingDelay;
  readonly #toolsDir: string | null;

  constructor(
    root: string,
    snapshots: string[],
    startingMs: StartingDelay = () => 0,
    toolsDir: string | null = null,
  ) {
    this.#root = root;
    this.#snapshots = snapshots;
    this.#startingMs = startingMs;
    this.#toolsDir = toolsDir;
  }

  /** Validates a create request, creates the sandbox directory and starts the sandbox. */
  async create(req: CreateSandboxRequest): Promise<LocalSandbox> {
    validateCreateRequest(req, this.#snapshots);
    if (req.name !== undefined && this.#findByName(req.name)) {
      throw new HttpError(409, `Sandbox with name ${req.name} already exists`);
    }
    const sandbox = new LocalSandbox(this.#root, specFromRequest(req), req, this.#toolsDir);
    await mkdir(sandbox.fs.workDir, { recursive: true });
    this.#byId.set(sandbox.id, sandbox);
    this.#history.push(sandbox);
    this.#timers.set(sandbox.id, {});
    const startingMs = this.#startingMs(sandbox);
    if (startingMs > 0) {
      sandbox.state = 'starting';
      this.#timersOf(sandbox).starting = later(startingMs / 60_000, () => {
        sandbox.state = 'started';
        sandbox.updatedAt = new Date();
        this.touch(sandbox);
      });
    }
    if (sandbox.spec.ttlMinutes > 0) {
      this.#timersOf(sandbox).ttl = later(sandbox.spec.ttlMinutes, () => {
        this.destroy(sandbox).catch(() => undefined);
      });
    }
    this.touch(sandbox);
    return sandbox;
  }

  #findByName(name: string): LocalSandbox | undefined {
    for (const sandbox of this.#byId.values()) if (sandbox.spec.name === name) return sandbox;
    return undefined;
  }

  #timersOf(sandbox: LocalSandbox): Timers {
    return this.#timers.get(sandbox.id) ?? {};
  }

  /** Finds a live sandbox by id or name, or throws the API's 404. */
  find(idOrName: string): LocalSandbox {
    const sandbox = this.#byId.get(idOrName) ?? this.#findByName(idOrName);
    if (!sandbox) throw new HttpError(404, `Sandbox with ID or name ${idOrName} not found`);
    return sandbox;
  }

  /** Every sandbox created so far, oldest first, destroyed ones included. */
  history(): readonly LocalSandbox[] {
    return this.#history;
  }

  /** Live sandboxes, newest first. */
  list(): LocalSandbox[] {
    return [...this.#byId.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  /** Records activity: updates lastActivityAt and restarts the auto-stop countdown. */
  touch(sandbox: LocalSandbox): void {
    sandbox.lastActivityAt = new Date();
    const timers = this.#timersOf(sandbox);
    clearTimeout(timers.autoStop);
    timers.autoStop = undefined;
    if (sandbox.state !== 'started' || sandbox.spec.autoStopInterval <= 0) return;
    timers.autoStop = later(sandbox.spec.autoStopInterval, () => {
      if (sandbox.inFlight > 0) this.touch(sandbox);
      else this.stop(sandbox).catch(() => undefined);
    });
  }

  /** Changes the auto-stop interval (minutes, 0 disables) and restarts the countdown. */
  setAutoStop(sandbox: LocalSandbox, minutes: number): void {
    sandbox.spec.autoStopInterval = minutes;
    this.touch(sandbox);
  }

  /** Stops a started sandbox: kills its processes; ephemeral sandboxes are deleted. */
  async stop(sandbox: LocalSandbox): Promise<void> {
    if (sandbox.state !== 'started') {
      throw new HttpError(400, 'Sandbox is not in a stoppable state');
    }
    sandbox.state = 'stopped';
    sandbox.updatedAt = new Date();
    this.touch(sandbox);
    sandbox.sessions.clear();
    await sandbox.processes.killAll();
    const interval = sandbox.spec.autoDeleteInterval;
    if (interval === 0) {
      await this.destroy(sandbox);
    } else if (interval > 0) {
      this.#timersOf(sandbox).autoDelete = later(interval, () => {
        if (sandbox.state === 'stopped') this.destroy(sandbox).catch(() => undefined);
      });
    }
  }

  /** Starts a stopped sandbox (a no-op for a started or starting one, as in the cloud). */
  start(sandbox: LocalSandbox): void {
    if (sandbox.state === 'started' || sandbox.state === 'starting') return;
    clearTimeout(this.#timersOf(sandbox).autoDelete);
    sandbox.state = 'started';
    sandbox.updatedAt = new Date();
    this.touch(sandbox);
  }

  /** Destroys a sandbox: it disappears at once, then its processes and files are removed. */
  async destroy(sandbox: LocalSandbox): Promise<void> {
    if (!this.#byId.has(sandbox.id)) return;
    this.#byId.delete(sandbox.id);
    clearTimers(this.#timersOf(sandbox));
    this.#timers.delete(sandbox.id);
    sandbox.state = 'destroyed';
    sandbox.updatedAt = new Date();
    sandbox.sessions.clear();
    await sandbox.processes.killAll();
    await rm(sandbox.fs.rootDir, { recursive: true, force: true, maxRetries: 3 });
  }

  /** Server shutdown: kills every sandbox's processes and timers; files are left in place. */
  async shutdown(): Promise<void> {
    const sandboxes = [...this.#byId.values()];
    for (const timers of this.#timers.values()) clearTimers(timers);
    this.#timers.clear();
    this.#byId.clear();
    await Promise.all(
      sandboxes.map(async (sandbox) => {
        sandbox.sessions.clear();
        await sandbox.processes.killAll();
      }),
    );
  }
}
