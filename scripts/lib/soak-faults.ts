/**
 * The soak's faults, through local-daytona's loopback admin API (local-daytona/README.md, "Fault
 * injection"): global rules drawn at random while jobs run (they hit whichever job makes the
 * next matching call, since job ids are the server's), rules aimed at one job's sandbox, lost
 * and stopped sandboxes, and the counters read at the end.
 */
import { z } from 'zod';
import type { JobFault, Random } from './soak-plan.ts';

const ruleStatusSchema = z.looseObject({ id: z.string(), action: z.string(), fired: z.number() });
const rulesSchema = z.object({ rules: z.array(ruleStatusSchema) });

export const statsSchema = z.object({
  sandboxesCreated: z.number(),
  sandboxesExisting: z.number(),
  processesAlive: z.number(),
  sessionCommands: z.number(),
  sandboxes: z.record(
    z.string(),
    z.object({
      name: z.string(),
      state: z.string(),
      processesAlive: z.number(),
      sessionCommands: z.number(),
    }),
  ),
});
export type DaytonaStats = z.infer<typeof statsSchema>;

/** A rule the soak installed: what it was for, and (at the end) how often it fired. */
export interface InstalledRule {
  id: string;
  rule: Record<string, unknown>;
  /** The job it was aimed at, or null for a global rule. */
  job: string | null;
  at: number;
  fired: number;
}

const TOOLBOX_EXEC = '/toolbox/:id/process/session/:sid/exec';
const TOOLBOX_COMMAND = '/toolbox/:id/process/session/:sid/command/:cid';
/** The clone runs git through the one-shot process API; a job's first call there is the clone. */
const CLONE = '/toolbox/:id/process/execute';

/** One global rule, drawn at random. */
function globalRule(r: Random): Record<string, unknown> {
  const times = r.int(1, 3);
  return r.pick<() => Record<string, unknown>>([
    () => ({ action: 'fail', method: 'POST', path: '/api/sandbox', status: 503, times }),
    () => ({
      action: 'fail',
      method: 'POST',
      path: '/api/sandbox',
      status: 429,
      retryAfter: r.int(1, 3),
      times: r.int(1, 2),
    }),
    () => ({ action: 'delay', method: 'POST', path: '/api/sandbox', ms: r.int(500, 4000), times }),
    () => ({ action: 'slow-start', seconds: r.int(1, 4), times: r.int(1, 2) }),
    () => ({ action: 'drop', method: 'GET', path: '/api/sandbox/:id', times: r.int(1, 2) }),
    () => ({ action: 'fail', method: 'GET', path: TOOLBOX_COMMAND, status: 503, times }),
    () => ({ action: 'cut-logs', afterFrames: r.int(0, 3), times: r.int(1, 2) }),
    () => ({ action: 'delay', path: '/toolbox/**', ms: r.int(300, 3000), times: r.int(1, 5) }),
    () => ({ action: 'fail', method: 'DELETE', path: '/api/sandbox/:id', status: 503, times }),
    () => ({ action: 'drop', after: true, method: 'DELETE', path: '/api/sandbox/:id', times: 1 }),
    () => ({ action: 'hang', method: 'GET', path: '/api/sandbox/:id', times: 1 }),
  ])();
}

/** The rule for a fault aimed at one sandbox (lose and stop are calls, not rules). */
function jobRule(fault: JobFault, sandbox: string, r: Random): Record<string, unknown> | null {
  switch (fault) {
    case 'cut-logs':
      return {
        action: 'cut-logs',
        sandbox,
        afterFrames: r.int(0, 4),
        close: r.pick(['abrupt', 'clean']),
        times: r.int(1, 3),
      };
    case 'hold-logs':
      return { action: 'hold-logs', sandbox, times: 1 };
    case 'hang-clone':
      return { action: 'hang', sandbox, path: CLONE, times: 1 };
    case 'clone-reply-lost':
      return { action: 'fail', sandbox, path: CLONE, status: 502, after: true, times: 1 };
    case 'exec-reply-lost':
      return { action: 'drop', sandbox, path: TOOLBOX_EXEC, after: true, times: 1 };
    case 'exec-fails':
      return { action: 'fail', sandbox, path: TOOLBOX_EXEC, status: 500, times: 1 };
    case 'exec-delayed':
      return { action: 'delay', sandbox, path: TOOLBOX_EXEC, ms: r.int(2000, 12000), times: 1 };
    case 'toolbox-delayed':
      return { action: 'delay', sandbox, path: '/toolbox/**', ms: r.int(1000, 5000), times: 2 };
    case 'lose':
    case 'stop':
      return null;
  }
}

export class SoakFaults {
  readonly installed: InstalledRule[] = [];
  /** Lose/stop calls: the job, what, when, and what local-daytona answered. */
  readonly sandboxActions: { job: string; action: string; at: number; status: number }[] = [];
  readonly #url: string;
  readonly #auth: { authorization: string };

  constructor(adminUrl: string, apiKey: string) {
    this.#url = adminUrl;
    this.#auth = { authorization: `Bearer ${apiKey}` };
  }

  /** Installs one random global rule. */
  async addGlobal(r: Random): Promise<void> {
    await this.#add(globalRule(r), null);
  }

  /** Installs the rule of `fault` for job `jobId` (lose and stop happen later, see act()). */
  async addForJob(fault: JobFault, jobId: string, r: Random): Promise<void> {
    const rule = jobRule(fault, `omni-${jobId}`, r);
    if (rule) await this.#add(rule, jobId);
  }

  /** Loses or stops the sandbox of a running job; a 404/409 (already gone) is recorded too. */
  async act(action: 'lose' | 'stop', jobId: string): Promise<void> {
    const res = await fetch(`${this.#url}/_sandbox/omni-${jobId}/${action}`, {
      method: 'POST',
      headers: this.#auth,
    });
    await res.arrayBuffer();
    this.sandboxActions.push({ job: jobId, action, at: Date.now(), status: res.status });
  }

  /** Reads how often each installed rule fired. */
  async readFired(): Promise<void> {
    const res = await fetch(`${this.#url}/_faults`, { headers: this.#auth });
    const { rules } = rulesSchema.parse(await res.json());
    const fired = new Map(rules.map((r) => [r.id, r.fired]));
    for (const rule of this.installed) rule.fired = fired.get(rule.id) ?? rule.fired;
  }

  /** Removes every rule, which lets go of whatever they hold (hung requests, held logs). */
  async clear(): Promise<void> {
    const res = await fetch(`${this.#url}/_faults`, { method: 'DELETE', headers: this.#auth });
    await res.arrayBuffer();
  }

  async stats(): Promise<DaytonaStats> {
    const res = await fetch(`${this.#url}/_stats`, { headers: this.#auth });
    return statsSchema.parse(await res.json());
  }

  async #add(rule: Record<string, unknown>, job: string | null): Promise<void> {
    const res = await fetch(`${this.#url}/_faults`, {
      method: 'POST',
      headers: { ...this.#auth, 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [rule] }),
    });
    if (res.status !== 201)
      throw new Error(`POST /_faults answered ${res.status}: ${await res.text()}`);
    const [status] = rulesSchema.parse(await res.json()).rules;
    if (!status) throw new Error('POST /_faults returned no rule');
    this.installed.push({ id: status.id, rule, job, at: Date.now(), fired: 0 });
  }
}
