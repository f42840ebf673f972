/**
 * The setup and helpers shared by the local-daytona fault tests (local-daytona-faults-*.test.ts).
 * `useFaultServer()` gives the calling test file its own local-daytona and SDK client, with a
 * sandbox its non-destructive tests share; after each test it clears the faults and deletes what
 * the test left, and at the end it expects no sandbox and no process left behind. The bindings
 * below are live: they hold that file's server, client and sandbox once its beforeAll has run.
 */
import { Daytona, type Sandbox } from '@daytonaio/sdk';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { z } from 'zod';
import {
  startLocalDaytona,
  type LocalDaytona,
  type RequestLogEntry,
} from '../../local-daytona/server.ts';

export let server: LocalDaytona;
export let daytona: Daytona;
/** A sandbox the non-destructive tests share. */
export let shared: Sandbox;
/** Every request the server saw, in order. */
export const requests: RequestLogEntry[] = [];
const clients: Daytona[] = [];

/** An SDK client configured as the Job DO configures it; extra options per test. */
export function client(extra: { requestTimeoutMs?: number } = {}): Daytona {
  const made = new Daytona({
    apiKey: server.apiKey,
    apiUrl: server.apiUrl,
    target: 'us',
    useDeprecatedPolling: true,
    ...extra,
  });
  clients.push(made);
  return made;
}

/** Polls `condition` until it holds; `ms` is only an upper bound against hanging forever. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The listed state of rule `id`. */
export function rule(id: string | undefined) {
  const found = server.faults.list().find((r) => r.id === id);
  if (!found) throw new Error(`no rule ${id}`);
  return found;
}

/** Adds one rule in process and returns its id. */
export function add(...rules: Parameters<LocalDaytona['faults']['add']>): string {
  const [first] = server.faults.add(...rules);
  if (!first) throw new Error('no rule added');
  return first.id;
}

/** Calls an admin endpoint; answers status and parsed JSON body. */
export async function admin(method: string, path: string, body?: unknown, key = server.apiKey) {
  const res = await fetch(`${server.adminUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: z.json().parse(await res.json()) };
}

/**
 * Settles `promise` into what it resolved to or the error it rejected with, or `timedOut` after
 * `ms`, a generous bound that only exists so a broken fault fails the test instead of hanging it.
 */
export async function outcome<T>(
  promise: Promise<T>,
  ms = 15_000,
): Promise<{ ok: T } | { error: unknown } | { timedOut: true }> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<{ timedOut: true }>((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: true }), ms);
  });
  const settled = promise.then(
    (ok) => ({ ok }),
    (error: unknown) => ({ error }),
  );
  try {
    return await Promise.race([settled, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** Registers the calling test file's hooks: its server and shared sandbox, cleanup, final check. */
export function useFaultServer(): void {
  beforeAll(async () => {
    server = await startLocalDaytona({
      apiKey: `test-${crypto.randomUUID()}`,
      onRequest: (entry) => requests.push(entry),
    });
    daytona = client();
    shared = await daytona.create({ snapshot: 'omni-sandbox' });
  });

  afterEach(async () => {
    server.faults.clear();
    for (const session of await shared.process.listSessions()) {
      await shared.process.deleteSession(session.sessionId);
    }
    const stats = await server.stats();
    for (const [id, s] of Object.entries(stats.sandboxes)) {
      if (id !== shared.id && s.state !== 'destroyed') await (await daytona.get(id)).delete();
    }
  });

  afterAll(async () => {
    await shared?.delete();
    const stats = await server?.stats();
    for (const c of clients) await c[Symbol.asyncDispose]();
    await server?.close();
    // Nothing the faults did may leave a sandbox or a process behind.
    expect(stats?.sandboxesExisting).toBe(0);
    expect(stats?.processesAlive).toBe(0);
  });
}
