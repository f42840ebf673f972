/**
 * Readiness (GET /health/ready): can this Worker serve jobs right now? It checks D1 with a
 * trivial query and Daytona with a cheap authenticated call, in parallel, each bounded by its
 * own timeout, so a hung dependency costs at most that long. What it reports never holds a
 * secret, a URL or an upstream message: only each dependency's status, latency and a fixed
 * phrase saying what failed (the log line beside it has the details).
 */
import { z } from 'zod';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { errorFields, log } from '../lib/log.ts';

/** How long one dependency may take to answer before it counts as down. */
export const DEPENDENCY_TIMEOUT_MS = 2000;

/**
 * The sandbox the Daytona check looks up. It never exists, so Daytona answers 404, which proves
 * the API answers and accepted the key (a refused key is a 401 or 403), at the price of one read.
 */
export const DAYTONA_PROBE_SANDBOX = 'omni-readiness-probe';

/** The dependencies checked, by the name the report and the 503 use. */
export type Dependency = 'd1' | 'daytona';

/** The outcome of one check. */
export interface DependencyCheck {
  status: 'up' | 'down';
  latency_ms: number;
  /** What failed, in fixed words (never an upstream message or URL); only when down. */
  error?: string;
}

/** The readiness report: 200 with it when every dependency is up, else a 503 that includes it. */
export interface Readiness {
  ready: boolean;
  /** The dependencies that are down, in a fixed order. */
  down: Dependency[];
  version: string;
  /** Seconds since this isolate started serving; the Worker as a whole has no uptime to know. */
  uptime_seconds: number;
  checks: Record<Dependency, DependencyCheck>;
}

/** The first request this isolate served (see noteIsolateStart). */
let isolateStartedAt: number | null = null;

/**
 * Remembers when this isolate started serving. Called by the Worker's fetch handler on each
 * request (only the first counts): the clock does not advance while a module is being loaded,
 * so the isolate's first request is the earliest moment it can measure.
 */
export function noteIsolateStart(now = Date.now()): void {
  isolateStartedAt ??= now;
}

const versionSchema = z.object({ OMNI_VERSION: z.string().trim().min(1).catch('dev') });

/** The deployed version: `OMNI_VERSION` (the git commit, set at deploy or dev time) or "dev". */
export function omniVersion(env: object): string {
  const parsed = versionSchema.safeParse(env);
  return parsed.success ? parsed.data.OMNI_VERSION : 'dev';
}

/** A check's failure, in the words the report uses. */
class CheckFailed extends Error {}

/**
 * Runs `work` with an abort signal and rejects with CheckFailed once `ms` have passed, whether
 * or not `work` honours the signal (a D1 query cannot be aborted).
 */
async function bounded<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new CheckFailed(`no answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Times `check`; a CheckFailed (or whatever else it throws) makes the dependency down. */
async function timed(
  dependency: Dependency,
  timeoutMs: number,
  check: (signal: AbortSignal) => Promise<void>,
  otherwise: string,
): Promise<DependencyCheck> {
  const started = performance.now();
  const latency = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    await bounded(timeoutMs, check);
    return { status: 'up', latency_ms: latency() };
  } catch (error) {
    const reason = error instanceof CheckFailed ? error.message : otherwise;
    log('warn', 'readiness check failed', { dependency, reason, ...errorFields(error) });
    return { status: 'down', latency_ms: latency(), error: reason };
  }
}

/** D1 is up when it runs `SELECT 1`. */
export function checkD1(
  db: D1Database,
  timeoutMs = DEPENDENCY_TIMEOUT_MS,
): Promise<DependencyCheck> {
  return timed(
    'd1',
    timeoutMs,
    async () => {
      await db.prepare('SELECT 1 AS ok').first();
    },
    'query failed',
  );
}

/** The Daytona settings; a setting that is missing or invalid makes Daytona `not configured`. */
function daytonaSettings(env: object): Config['daytona'] {
  try {
    return loadConfig(env).daytona;
  } catch (error) {
    if (error instanceof ConfigError) throw new CheckFailed('not configured');
    throw error;
  }
}

/**
 * Daytona is up when it answers the probe lookup with 404 (or 200) with the Worker's key: a
 * plain fetch, so the timeout also ends the request itself.
 */
export function checkDaytona(
  env: object,
  timeoutMs = DEPENDENCY_TIMEOUT_MS,
): Promise<DependencyCheck> {
  return timed(
    'daytona',
    timeoutMs,
    async (signal) => {
      const daytona = daytonaSettings(env);
      const base = daytona.apiUrl.replace(/\/+$/, '');
      const res = await fetch(`${base}/sandbox/${DAYTONA_PROBE_SANDBOX}`, {
        headers: { authorization: `Bearer ${daytona.apiKey}` },
        signal,
      }).catch((error: unknown) => {
        if (signal.aborted) throw error; // bounded() reports the timeout
        throw new CheckFailed('unreachable');
      });
      await res.body?.cancel();
      if (res.status === 404 || res.ok) return;
      if (res.status === 401 || res.status === 403) {
        throw new CheckFailed(`credentials refused (HTTP ${res.status})`);
      }
      throw new CheckFailed(`HTTP ${res.status}`);
    },
    'failed',
  );
}

/** Checks every dependency at once; answers within about `timeoutMs` whatever they do. */
export async function readiness(
  env: Env,
  timeoutMs = DEPENDENCY_TIMEOUT_MS,
  now = Date.now(),
): Promise<Readiness> {
  noteIsolateStart(now);
  const [d1, daytona] = await Promise.all([
    checkD1(env.DB, timeoutMs),
    checkDaytona(env, timeoutMs),
  ]);
  const checks = { d1, daytona };
  const down = (['d1', 'daytona'] as const).filter((name) => checks[name].status === 'down');
  return {
    ready: down.length === 0,
    down,
    version: omniVersion(env),
    uptime_seconds: Math.max(0, Math.floor((now - (isolateStartedAt ?? now)) / 1000)),
    checks,
  };
}
