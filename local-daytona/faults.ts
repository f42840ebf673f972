/**
 * The live set of fault rules of one server: adding and removing them, matching requests against
 * them (first rule added wins, and firing uses up one of its `times`), and keeping track of the
 * requests and log sockets a rule is holding open so that removing the rule or closing the
 * server always lets them go. What a fired rule does is in fault-apply.ts and logs-ws.ts.
 */
import type { FaultControl, SandboxHooks, SandboxOutcome } from './fault-control.ts';
import {
  compilePath,
  FaultRuleSchema,
  type FaultRule,
  type FaultRuleInput,
  type FaultRuleStatus,
} from './fault-rules.ts';

/** Why something a rule held is let go: its rule was removed, or the server is closing. */
type ReleaseReason = 'removed' | 'closed';

/** What a request looks like to the matcher. */
interface FaultRequest {
  /** `logs` for log websocket upgrades, `http` for everything else. */
  readonly channel: 'http' | 'logs';
  readonly method: string;
  readonly path: string;
  /** The sandbox id or name the request is about, if any (see requestSandbox). */
  readonly sandbox: string | undefined;
}

/** A rule that fired for one request. */
export interface FiredFault {
  readonly id: string;
  readonly rule: FaultRule;
  /** The sandbox a lose/stop acts on: the rule's, else the request's. */
  readonly sandbox: string | undefined;
  /**
   * Keeps something open on behalf of the rule; `release` runs when the rule is removed or the
   * server closes (at once if that already happened), and is told which. Returns a function to
   * call instead when the thing ended by itself (say, the client went away).
   */
  hold(release: (why: ReleaseReason) => void): () => void;
}

interface Entry {
  readonly id: string;
  readonly rule: FaultRule;
  readonly path: RegExp | undefined;
  fired: number;
  removed: boolean;
  readonly held: Set<(why: ReleaseReason) => void>;
}

/** The fault rules of one server. */
export class FaultSet implements FaultControl {
  readonly #hooks: SandboxHooks;
  #entries: Entry[] = [];
  #nextId = 1;
  #closed = false;

  constructor(hooks: SandboxHooks) {
    this.#hooks = hooks;
  }

  add(...rules: FaultRuleInput[]): FaultRuleStatus[] {
    const parsed = rules.map((rule) => FaultRuleSchema.parse(rule));
    const entries = parsed.map((rule): Entry => {
      const path = 'path' in rule && rule.path !== undefined ? compilePath(rule.path) : undefined;
      return { id: `f${this.#nextId++}`, rule, path, fired: 0, removed: false, held: new Set() };
    });
    this.#entries.push(...entries);
    return entries.map(status);
  }

  remove(id: string): boolean {
    const entry = this.#entries.find((e) => e.id === id);
    if (!entry) return false;
    this.#entries = this.#entries.filter((e) => e !== entry);
    release(entry, 'removed');
    return true;
  }

  clear(): number {
    return this.#clear('removed');
  }

  list(): FaultRuleStatus[] {
    return this.#entries.map(status);
  }

  loseSandbox(idOrName: string): Promise<SandboxOutcome> {
    return this.#hooks.lose(idOrName);
  }

  stopSandbox(idOrName: string): Promise<SandboxOutcome> {
    return this.#hooks.stop(idOrName);
  }

  /** Finds the first live rule for a request and uses up one of its `times`. */
  match(request: FaultRequest): FiredFault | undefined {
    if (this.#closed) return undefined;
    const entry = this.#entries.find((e) => !exhausted(e) && this.#applies(e, request));
    if (!entry) return undefined;
    entry.fired++;
    const sandbox = entry.rule.sandbox ?? request.sandbox;
    return { id: entry.id, rule: entry.rule, sandbox, hold: (fn) => this.#hold(entry, fn) };
  }

  /** How long a sandbox being created stays `starting` (0: it starts at once). */
  startingMs(sandbox: { id: string; name: string }): number {
    const entry = this.#entries.find(
      (e) =>
        e.rule.action === 'slow-start' &&
        !exhausted(e) &&
        (e.rule.sandbox === undefined || [sandbox.id, sandbox.name].includes(e.rule.sandbox)),
    );
    if (entry?.rule.action !== 'slow-start') return 0;
    entry.fired++;
    return entry.rule.seconds * 1000;
  }

  /** Server shutdown: no rule fires any more and everything held is released. */
  close(): void {
    this.#closed = true;
    this.#clear('closed');
  }

  #clear(why: ReleaseReason): number {
    const entries = this.#entries;
    this.#entries = [];
    for (const entry of entries) release(entry, why);
    return entries.length;
  }

  #applies(entry: Entry, request: FaultRequest): boolean {
    const { rule } = entry;
    switch (rule.action) {
      case 'slow-start':
        return false; // Consulted by the registry on create, not per request.
      case 'cut-logs':
      case 'hold-logs':
        if (request.channel !== 'logs') return false;
        break;
      case 'lose-sandbox':
      case 'stop-sandbox':
        if ((rule.sandbox ?? request.sandbox) === undefined) return false;
        if (rule.after === true && request.channel === 'logs') return false;
        break;
      case 'fail':
      case 'hang':
      case 'drop':
        // A websocket upgrade has no answer to replace: only "before" applies to it.
        if (rule.after === true && request.channel === 'logs') return false;
        break;
      case 'delay':
        break;
    }
    if ('method' in rule && rule.method !== undefined && rule.method !== request.method) {
      return false;
    }
    if (entry.path && !entry.path.test(request.path)) return false;
    if (rule.sandbox !== undefined) {
      if (request.sandbox === undefined) return false;
      const known = this.#hooks.identify(request.sandbox);
      const names = known ? [known.id, known.name] : [request.sandbox];
      if (!names.includes(rule.sandbox)) return false;
    }
    return true;
  }

  #hold(entry: Entry, fn: (why: ReleaseReason) => void): () => void {
    if (entry.removed) {
      fn(this.#closed ? 'closed' : 'removed');
      return () => undefined;
    }
    entry.held.add(fn);
    return () => entry.held.delete(fn);
  }
}

function exhausted(entry: Entry): boolean {
  return entry.rule.times !== undefined && entry.fired >= entry.rule.times;
}

function release(entry: Entry, why: ReleaseReason): void {
  entry.removed = true;
  const held = [...entry.held];
  entry.held.clear();
  for (const fn of held) fn(why);
}

function status(entry: Entry): FaultRuleStatus {
  const { times } = entry.rule;
  return {
    ...entry.rule,
    id: entry.id,
    fired: entry.fired,
    remaining: times === undefined ? null : times - entry.fired,
    held: entry.held.size,
  };
}
