/**
 * DaytonaBreakerDO: one per Daytona endpoint (named by its API URL and target), the circuit
 * breaker every Job DO consults before it creates a sandbox and tells how the create went (see
 * breaker.ts for the rules). Its state is a few numbers in durable storage, so an outage seen
 * by one job holds back all of them, in every isolate.
 */
import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import { log } from '../../worker/lib/log.ts';
import { admit, closedBreaker, report, type BreakerState } from './breaker.ts';

const stateSchema = z.object({
  failures: z.number().int().nonnegative(),
  openUntil: z.number().nullable(),
  coolDownMs: z.number().positive(),
  probeSince: z.number().nullable(),
});

const KEY = 'breaker';

export class DaytonaBreakerDO extends DurableObject<Env> {
  /** Null if a job may create a sandbox now; otherwise when to ask again. */
  async admit(): Promise<number | null> {
    const { admission, next } = admit(await this.load(), Date.now());
    await this.save(next);
    return admission.go ? null : admission.retryAt;
  }

  /** How a create call went: answered (`ok`), or failed with a transient error. */
  async report(ok: boolean): Promise<void> {
    const before = await this.load();
    const next = report(before, ok, Date.now());
    if (before.openUntil === null && next.openUntil !== null) {
      log('warn', 'Daytona circuit breaker opened', {
        failures: next.failures,
        until: next.openUntil,
      });
    } else if (before.openUntil !== null && next.openUntil === null) {
      log('info', 'Daytona circuit breaker closed', {});
    }
    await this.save(next);
  }

  /** The breaker's state, for diagnostics and tests. */
  async state(): Promise<BreakerState> {
    return this.load();
  }

  private async load(): Promise<BreakerState> {
    const raw: unknown = await this.ctx.storage.get(KEY);
    const parsed = stateSchema.safeParse(raw);
    return parsed.success ? parsed.data : closedBreaker;
  }

  private async save(state: BreakerState): Promise<void> {
    await this.ctx.storage.put(KEY, state);
  }
}
