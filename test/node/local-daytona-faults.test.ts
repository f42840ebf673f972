/**
 * local-daytona's fault injection, driven by the real @daytonaio/sdk (Node runtime, polling as
 * the Job DO uses it): each fault kind and what the SDK makes of it, the admin endpoints that
 * install them, and the counters that prove what happened. Timing is only ever bounded loosely
 * from below (the box is small and loaded); hangs are proven by client-side timeouts.
 */
import { networkInterfaces } from 'node:os';
import {
  Daytona,
  DaytonaBadGatewayError,
  DaytonaConnectionError,
  DaytonaConnectionTimeoutError,
  DaytonaError,
  DaytonaGitRepoNotFoundError,
  DaytonaInternalServerError,
  DaytonaNotFoundError,
  DaytonaRateLimitError,
  DaytonaServiceUnavailableError,
  DaytonaTimeoutError,
  DaytonaValidationError,
  type Sandbox,
} from '@daytonaio/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
import {
  startLocalDaytona,
  type LocalDaytona,
  type RequestLogEntry,
} from '../../local-daytona/server.ts';
import { isAlive } from './processes.ts';

let server: LocalDaytona;
let daytona: Daytona;
/** A sandbox the non-destructive tests share. */
let shared: Sandbox;
const requests: RequestLogEntry[] = [];
const clients: Daytona[] = [];

/** An SDK client configured as the Job DO configures it; extra options per test. */
function client(extra: { requestTimeoutMs?: number } = {}): Daytona {
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
async function waitFor(condition: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The listed state of rule `id`. */
function rule(id: string | undefined) {
  const found = server.faults.list().find((r) => r.id === id);
  if (!found) throw new Error(`no rule ${id}`);
  return found;
}

/** Adds one rule in process and returns its id. */
function add(...rules: Parameters<LocalDaytona['faults']['add']>): string {
  const [first] = server.faults.add(...rules);
  if (!first) throw new Error('no rule added');
  return first.id;
}

/** Calls an admin endpoint; answers status and parsed JSON body. */
async function admin(method: string, path: string, body?: unknown, key = server.apiKey) {
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
async function outcome<T>(
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

describe('admin endpoint', () => {
  it('adds, lists with fire counts, removes one and clears all', async () => {
    const added = await admin('POST', '/_faults', {
      rules: [
        { action: 'fail', method: 'GET', path: '/api/sandbox/:id', status: 503, times: 2 },
        { action: 'delay', path: '/toolbox/**', ms: 1 },
      ],
    });
    expect(added.status).toBe(201);
    const ids = z
      .object({ rules: z.array(z.looseObject({ id: z.string() })) })
      .parse(added.body)
      .rules.map((r) => r.id);
    expect(ids).toHaveLength(2);
    await expect(daytona.get(shared.id)).rejects.toBeInstanceOf(DaytonaServiceUnavailableError);
    expect((await admin('GET', '/_faults')).body).toEqual({
      rules: [
        {
          id: ids[0],
          action: 'fail',
          method: 'GET',
          path: '/api/sandbox/:id',
          status: 503,
          times: 2,
          fired: 1,
          remaining: 1,
          held: 0,
        },
        {
          id: ids[1],
          action: 'delay',
          path: '/toolbox/**',
          ms: 1,
          fired: 0,
          remaining: null,
          held: 0,
        },
      ],
    });
    expect(await admin('DELETE', `/_faults/${ids[0]}`)).toEqual({
      status: 200,
      body: { removed: ids[0] },
    });
    expect((await admin('DELETE', `/_faults/${ids[0]}`)).status).toBe(404);
    expect((await daytona.get(shared.id)).id).toBe(shared.id);
    expect(await admin('DELETE', '/_faults')).toEqual({ status: 200, body: { cleared: 1 } });
    expect((await admin('GET', '/_faults')).body).toEqual({ rules: [] });
  });

  it('rejects a body with unknown fields or bad values with a 400 that names the problem', async () => {
    const message = async (body: unknown): Promise<string> => {
      const res = await admin('POST', '/_faults', body);
      expect(res.status).toBe(400);
      return z.object({ message: z.string() }).parse(res.body).message;
    };
    expect(await message({ rules: [{ action: 'fail', status: 503, statsu: 1 }] })).toMatch(
      /Unrecognized key: "statsu"[\s\S]*rules\[0\]/,
    );
    expect(await message({ rules: [{ action: 'explode' }] })).toMatch(/rules\[0\]\.action/);
    expect(await message({ rules: [{ action: 'fail', status: 200 }] })).toMatch(
      /rules\[0\]\.status/,
    );
    expect(await message({ rules: [{ action: 'delay', ms: 5, path: 'api' }] })).toMatch(
      /path must be a template/,
    );
    expect(await message({ rules: [{ action: 'hold-logs', method: 'GET' }] })).toMatch(
      /Unrecognized key: "method"/,
    );
    expect(
      await message({ rules: [{ action: 'fail', status: 502, body: {}, message: 'x' }] }),
    ).toMatch(/either body or message/);
    expect(await message({ rules: [] })).toMatch(/rules/);
    expect(await message({ rule: { action: 'hang' } })).toMatch(/Unrecognized key: "rule"/);
    expect(await message('{not json')).toMatch(/malformed JSON/);
    expect(server.faults.list()).toEqual([]);
    // The in-process API validates with the same schema.
    expect(() => server.faults.add({ action: 'delay', ms: -1 })).toThrow(/ms/);
  });

  it('requires the API key', async () => {
    expect((await admin('GET', '/_stats', undefined, 'wrong')).status).toBe(401);
    const res = await fetch(`${server.adminUrl}/_faults`, { method: 'DELETE' });
    expect(res.status).toBe(401);
    expect((await admin('GET', '/_nothing-here')).status).toBe(404);
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a?.family === 'IPv4' && !a.internal)?.address;
  it.skipIf(external === undefined)(
    'refuses peers that are not on loopback, even with the key',
    async () => {
      const open = await startLocalDaytona({ apiKey: server.apiKey, host: '0.0.0.0' });
      try {
        const { port } = new URL(open.adminUrl);
        const headers = { authorization: `Bearer ${open.apiKey}` };
        const remote = await fetch(`http://${external}:${port}/_stats`, { headers });
        expect(remote.status).toBe(403);
        expect(await remote.text()).toMatch(/loopback/);
        const remoteAdd = await fetch(`http://${external}:${port}/_faults`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ rules: [{ action: 'hang' }] }),
        });
        expect(remoteAdd.status).toBe(403);
        expect(open.faults.list()).toEqual([]);
        // The same peer may still use the API itself, and loopback may use the admin endpoints.
        expect((await fetch(`http://${external}:${port}/api/config`, { headers })).status).toBe(
          200,
        );
        expect((await fetch(`${open.adminUrl}/_stats`, { headers })).status).toBe(200);
      } finally {
        await open.close();
      }
    },
  );

  it('counts sandboxes created and existing, live processes and started session commands', async () => {
    const before = await server.stats();
    const other = await daytona.create({ snapshot: 'omni-sandbox' });
    await other.process.createSession('s');
    await other.process.executeSessionCommand('s', { command: 'sleep 300', runAsync: true });
    await other.process.executeSessionCommand('s', { command: 'true', runAsync: true });
    const during = await server.stats();
    expect(during.sandboxesCreated).toBe(before.sandboxesCreated + 1);
    expect(during.sandboxesExisting).toBe(before.sandboxesExisting + 1);
    expect(during.sandboxes[other.id]).toMatchObject({ state: 'started', sessionCommands: 2 });
    expect(during.sandboxes[other.id]?.processesAlive).toBeGreaterThan(0);
    expect(during.sessionCommands).toBe(before.sessionCommands + 2);
    expect((await admin('GET', '/_stats')).body).toMatchObject({
      sandboxesCreated: during.sandboxesCreated,
      sandboxes: { [other.id]: { sessionCommands: 2 } },
    });
    await other.delete();
    const after = await server.stats();
    expect(after.sandboxesCreated).toBe(during.sandboxesCreated);
    expect(after.sandboxesExisting).toBe(before.sandboxesExisting);
    expect(after.sandboxes[other.id]).toMatchObject({ state: 'destroyed', processesAlive: 0 });
  });
});

describe('fail', () => {
  it('503 on create becomes DaytonaServiceUnavailableError; the SDK does not retry it', async () => {
    const before = await server.stats();
    const id = add({ action: 'fail', method: 'POST', path: '/api/sandbox', status: 503, times: 2 });
    const error = await daytona.create({ snapshot: 'omni-sandbox' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaytonaServiceUnavailableError);
    expect(error).toMatchObject({
      statusCode: 503,
      message: `injected fault (local-daytona rule ${id})`,
    });
    // One call, one request: the second failure is still there for the next call.
    expect(rule(id)).toMatchObject({ fired: 1, remaining: 1 });
    expect((await server.stats()).sandboxesCreated).toBe(before.sandboxesCreated);
  });

  it('429 carries Retry-After to the SDK error, which is not retried either', async () => {
    const id = add({ action: 'fail', path: '/api/sandbox/:id', status: 429, retryAfter: 7 });
    const error = await daytona.get(shared.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaytonaRateLimitError);
    expect(error instanceof DaytonaError && error.headers?.['retry-after']).toBe('7');
    expect(rule(id).fired).toBe(1);
  });

  it('toolbox errors take the SDK class of their status, or of a daemon code if given', async () => {
    const clone = '/toolbox/:id/git/clone';
    add({ action: 'fail', path: clone, status: 400, times: 1 });
    add({ action: 'fail', path: clone, status: 404, code: 'GIT_REPO_NOT_FOUND', times: 1 });
    add({ action: 'fail', path: clone, status: 404, times: 1 });
    add({ action: 'fail', path: clone, status: 502, body: { message: 'upstream went away' } });
    const cloneError = () => shared.git.clone('file:///nowhere', 'x').catch((e: unknown) => e);
    expect(await cloneError()).toBeInstanceOf(DaytonaValidationError);
    expect(await cloneError()).toBeInstanceOf(DaytonaGitRepoNotFoundError);
    const plain404 = await cloneError();
    expect(plain404).toBeInstanceOf(DaytonaNotFoundError);
    expect(plain404).not.toBeInstanceOf(DaytonaGitRepoNotFoundError);
    const custom = await cloneError();
    expect(custom).toBeInstanceOf(DaytonaBadGatewayError);
    expect(custom).toMatchObject({ message: 'upstream went away' });
  });

  it('404 on get makes a live sandbox look deleted to the SDK', async () => {
    add({ action: 'fail', method: 'GET', path: '/api/sandbox/:id', status: 404, times: 1 });
    await expect(daytona.get(shared.id)).rejects.toBeInstanceOf(DaytonaNotFoundError);
    expect((await daytona.get(shared.id)).state).toBe('started');
  });

  it('is limited to one sandbox by id or name, whichever the request uses', async () => {
    const name = `faulty-${crypto.randomUUID()}`;
    const other = await daytona.create({ snapshot: 'omni-sandbox', name });
    const id = add({ action: 'fail', path: '/toolbox/**', sandbox: name, status: 500 });
    // Toolbox paths carry the id; the rule names the sandbox by name.
    await expect(other.process.executeCommand('true')).rejects.toBeInstanceOf(
      DaytonaInternalServerError,
    );
    expect((await shared.process.executeCommand('echo fine')).result).toBe('fine\n');
    expect(rule(id).fired).toBe(1);
  });

  it('on create, is limited to one sandbox by the name in the body', async () => {
    const name = `mine-${crypto.randomUUID()}`;
    const id = add({
      action: 'fail',
      method: 'POST',
      path: '/api/sandbox',
      sandbox: name,
      status: 503,
    });
    await expect(daytona.create({ snapshot: 'omni-sandbox', name })).rejects.toBeInstanceOf(
      DaytonaServiceUnavailableError,
    );
    const other = `theirs-${crypto.randomUUID()}`;
    expect((await daytona.create({ snapshot: 'omni-sandbox', name: other })).name).toBe(other);
    expect((await daytona.create({ snapshot: 'omni-sandbox' })).state).toBe('started');
    expect(rule(id).fired).toBe(1);
  });

  it('after: the command starts but its answer is a 503', async () => {
    await shared.process.createSession('lost-reply');
    const started = (await server.stats()).sandboxes[shared.id]?.sessionCommands ?? 0;
    add({
      action: 'fail',
      after: true,
      method: 'POST',
      path: '/toolbox/:id/process/session/:sid/exec',
      status: 503,
      times: 1,
    });
    const command = 'echo ran > lost-reply.txt';
    await expect(
      shared.process.executeSessionCommand('lost-reply', { command, runAsync: true }),
    ).rejects.toBeInstanceOf(DaytonaServiceUnavailableError);
    expect((await server.stats()).sandboxes[shared.id]?.sessionCommands).toBe(started + 1);
    const session = await shared.process.getSession('lost-reply');
    expect(session.commands?.map((c) => c.command)).toEqual([command]);
    await waitFor(
      async () => (await shared.process.executeCommand('cat lost-reply.txt')).exitCode === 0,
    );
  });
});

describe('drop', () => {
  it('the SDK retries a dropped GET twice by itself, then gives up with DaytonaConnectionError', async () => {
    const twice = add({ action: 'drop', method: 'GET', path: '/api/sandbox/:id', times: 2 });
    expect((await daytona.get(shared.id)).id).toBe(shared.id);
    expect(rule(twice).fired).toBe(2);
    const thrice = add({ action: 'drop', method: 'GET', path: '/api/sandbox/:id', times: 3 });
    await expect(daytona.get(shared.id)).rejects.toBeInstanceOf(DaytonaConnectionError);
    expect(rule(thrice).fired).toBe(3);
  });

  it('a dropped POST is not retried: no sandbox is created', async () => {
    const before = await server.stats();
    const id = add({ action: 'drop', method: 'POST', path: '/api/sandbox' });
    await expect(daytona.create({ snapshot: 'omni-sandbox' })).rejects.toBeInstanceOf(
      DaytonaConnectionError,
    );
    expect(rule(id).fired).toBe(1);
    expect((await server.stats()).sandboxesCreated).toBe(before.sandboxesCreated);
  });

  it('after: create succeeds but its answer is lost; the sandbox exists and can be adopted', async () => {
    const before = await server.stats();
    const name = `adopt-${crypto.randomUUID()}`;
    add({ action: 'drop', after: true, method: 'POST', path: '/api/sandbox', times: 1 });
    await expect(daytona.create({ snapshot: 'omni-sandbox', name })).rejects.toBeInstanceOf(
      DaytonaConnectionError,
    );
    const after = await server.stats();
    expect(after.sandboxesCreated).toBe(before.sandboxesCreated + 1);
    expect((await daytona.get(name)).state).toBe('started');
  });
  it("after, on DELETE: the SDK replays the delete and reports the replay's 404", async () => {
    const victim = await daytona.create({ snapshot: 'omni-sandbox' });
    const id = add({
      action: 'drop',
      after: true,
      method: 'DELETE',
      path: '/api/sandbox/:id',
      times: 1,
    });
    // The first delete worked but its answer was dropped; the transport retry finds it gone.
    await expect(victim.delete()).rejects.toBeInstanceOf(DaytonaNotFoundError);
    expect(rule(id).fired).toBe(1);
    expect((await server.stats()).sandboxes[victim.id]?.state).toBe('destroyed');
  });
});

describe('delay', () => {
  it('delays a call, which then succeeds', async () => {
    const id = add({ action: 'delay', method: 'GET', path: '/api/sandbox/:id', ms: 600, times: 1 });
    const started = Date.now();
    expect((await daytona.get(shared.id)).id).toBe(shared.id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(rule(id)).toMatchObject({ fired: 1, held: 0 });
  });

  it('removing the rule ends a pending delay early and the call goes through', async () => {
    const impatient = client({ requestTimeoutMs: 30_000 });
    const id = add({ action: 'delay', path: '/api/sandbox/:id', ms: 600_000 });
    const get = outcome(impatient.get(shared.id));
    await waitFor(() => rule(id).held === 1);
    expect(server.faults.remove(id)).toBe(true);
    const result = await get;
    expect('ok' in result && result.ok.id).toBe(shared.id);
  });
});

describe('hang', () => {
  it('never answers: the SDK times out on its own deadline and does not retry', async () => {
    const impatient = client({ requestTimeoutMs: 500 });
    const id = add({ action: 'hang', method: 'GET', path: '/api/sandbox/:id' });
    const error = await impatient.get(shared.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaytonaConnectionTimeoutError);
    expect(error).toBeInstanceOf(DaytonaTimeoutError);
    expect(rule(id).fired).toBe(1);
    // The client went away, so the server let go of the request.
    await waitFor(() => rule(id).held === 0);
  });

  it('holds a request until the client aborts, and clearing drops the ones still waiting', async () => {
    const id = add({ action: 'hang', path: '/api/config' });
    const url = `${server.apiUrl}/config`;
    const init = { headers: { authorization: `Bearer ${server.apiKey}` } };
    const aborted = await outcome(fetch(url, { ...init, signal: AbortSignal.timeout(300) }));
    expect('error' in aborted && aborted.error).toMatchObject({ name: 'TimeoutError' });
    // The server notices the abort and lets go of that request.
    await waitFor(() => rule(id).held === 0);
    const waiting = outcome(fetch(url, init));
    await waitFor(() => rule(id).held === 1);
    expect(server.faults.clear()).toBe(1);
    const dropped = await waiting;
    expect('error' in dropped && dropped.error).toBeInstanceOf(TypeError);
  });

  it('after: the request is handled, then never answered', async () => {
    const before = await server.stats();
    const name = `hung-${crypto.randomUUID()}`;
    add({ action: 'hang', after: true, method: 'POST', path: '/api/sandbox', times: 1 });
    // create's own timeout (default 60 s) is the request deadline, not requestTimeoutMs, and
    // create reports any timeout as a plain DaytonaTimeoutError.
    const error = await client({ requestTimeoutMs: 500 })
      .create({ snapshot: 'omni-sandbox', name }, { timeout: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaytonaTimeoutError);
    expect(error).not.toBeInstanceOf(DaytonaConnectionTimeoutError);
    expect((await server.stats()).sandboxesCreated).toBe(before.sandboxesCreated + 1);
    expect((await daytona.get(name)).name).toBe(name);
  });

  it('close() ends hung and delayed requests and leaves no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const other = await startLocalDaytona({ apiKey: server.apiKey });
    const headers = { authorization: `Bearer ${other.apiKey}` };
    const [hang, delay] = other.faults.add(
      { action: 'hang', path: '/api/config' },
      { action: 'delay', path: '/api/snapshots', ms: 600_000 },
    );
    const baseline = timers();
    const hung = outcome(fetch(`${other.apiUrl}/config`, { headers }));
    const delayed = outcome(fetch(`${other.apiUrl}/snapshots`, { headers }));
    await waitFor(() => other.faults.list().every((r) => r.held === 1));
    expect([hang?.id, delay?.id]).toEqual(other.faults.list().map((r) => r.id));
    await other.close();
    for (const result of [await hung, await delayed]) {
      expect('error' in result && result.error).toBeInstanceOf(TypeError);
    }
    expect(timers()).toBeLessThanOrEqual(baseline);
  });
});

describe('log websocket', () => {
  /** Starts `echo first`, then waits for a file `go` before `echo second`. */
  async function twoPartCommand(session: string): Promise<string> {
    await shared.process.createSession(session);
    const command = 'echo first; while [ ! -e go ]; do sleep 0.05; done; rm go; echo second';
    const { cmdId } = await shared.process.executeSessionCommand(session, {
      command,
      runAsync: true,
    });
    await waitFor(
      async () => (await shared.process.getSessionCommandLogs(session, cmdId)).stdout !== '',
    );
    return cmdId;
  }

  /** Follows a command's log to its end; answers stdout and whether the follow resolved. */
  async function follow(session: string, cmdId: string) {
    let stdout = '';
    const result = await outcome(
      shared.process.getSessionCommandLogs(
        session,
        cmdId,
        (c) => (stdout += c),
        () => undefined,
      ),
    );
    return { stdout, result };
  }

  for (const close of ['abrupt', 'clean'] as const) {
    it(`cut-logs (${close}) ends the follow early, and the SDK takes that for the end`, async () => {
      const cmdId = await twoPartCommand(`cut-${close}`);
      const id = add({ action: 'cut-logs', afterFrames: 1, close, times: 1 });
      // The SDK resolves on any close, with or without a close frame: no error to see.
      expect(await follow(`cut-${close}`, cmdId)).toEqual({
        stdout: 'first\n',
        result: { ok: undefined },
      });
      expect(rule(id).fired).toBe(1);
      expect(
        (await shared.process.getSessionCommand(`cut-${close}`, cmdId)).exitCode,
      ).toBeUndefined();
      await shared.process.executeCommand('touch go');
      // The next follow is not cut and replays everything.
      expect((await follow(`cut-${close}`, cmdId)).stdout).toBe('first\nsecond\n');
      expect((await shared.process.getSessionCommand(`cut-${close}`, cmdId)).exitCode).toBe(0);
    });
  }

  it('cut-logs: abrupt sends no close frame (1006 at the client), clean closes with 1000', async () => {
    const cmdId = await twoPartCommand('cut-raw');
    const url = `${server.toolboxUrl.replace(/^http/, 'ws')}/${shared.id}/process/session/cut-raw/command/${cmdId}/logs?follow=true`;
    const closeCode = async (): Promise<{ code: number; frames: number }> => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${server.apiKey}` } });
      let frames = 0;
      ws.on('message', () => frames++);
      ws.on('error', () => undefined); // A reset may surface as an error before the close.
      const code = await new Promise<number>((resolve) => ws.once('close', resolve));
      return { code, frames };
    };
    add({ action: 'cut-logs', afterFrames: 1, close: 'abrupt', times: 1 });
    add({ action: 'cut-logs', afterFrames: 1, close: 'clean', times: 1 });
    expect(await outcome(closeCode())).toEqual({ ok: { code: 1006, frames: 1 } });
    expect(await outcome(closeCode())).toEqual({ ok: { code: 1000, frames: 1 } });
    await shared.process.executeCommand('touch go');
  });

  it('cut-logs after 0 frames delivers nothing', async () => {
    await shared.process.createSession('cut0');
    const { cmdId } = await shared.process.executeSessionCommand('cut0', { command: 'echo hi' });
    add({ action: 'cut-logs', afterFrames: 0, times: 1 });
    expect(await follow('cut0', cmdId)).toEqual({ stdout: '', result: { ok: undefined } });
  });

  it('hold-logs keeps the socket open after the command ended, until the rule goes', async () => {
    await shared.process.createSession('held');
    const id = add({
      action: 'hold-logs',
      path: '/toolbox/:id/process/session/held/command/:cid/logs',
    });
    const { cmdId } = await shared.process.executeSessionCommand('held', {
      command: 'echo done',
      runAsync: true,
    });
    let stdout = '';
    let settled = false;
    const following = shared.process
      .getSessionCommandLogs(
        'held',
        cmdId,
        (c) => (stdout += c),
        () => undefined,
      )
      .finally(() => (settled = true));
    await waitFor(
      async () => (await shared.process.getSessionCommand('held', cmdId)).exitCode === 0,
    );
    await waitFor(() => stdout === 'done\n' && rule(id).held === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false);
    server.faults.remove(id);
    expect(await outcome(following)).toEqual({ ok: undefined });
    expect(stdout).toBe('done\n');
  });

  it('a hung upgrade keeps the follow waiting; dropping it rejects the follow', async () => {
    await shared.process.createSession('hung-upgrade');
    const { cmdId } = await shared.process.executeSessionCommand('hung-upgrade', {
      command: 'true',
    });
    const id = add({ action: 'hang', path: '/toolbox/:id/process/session/hung-upgrade/**' });
    const following = shared.process.getSessionCommandLogs(
      'hung-upgrade',
      cmdId,
      () => undefined,
      () => undefined,
    );
    await waitFor(() => rule(id).held === 1);
    expect(await outcome(following, 500)).toEqual({ timedOut: true });
    server.faults.clear();
    const result = await outcome(following);
    expect('error' in result && result.error).toMatchObject({ message: 'socket hang up' });
  });

  it('a failed upgrade rejects with a ws ErrorEvent, not a DaytonaError', async () => {
    await shared.process.createSession('upgrade');
    const { cmdId } = await shared.process.executeSessionCommand('upgrade', { command: 'true' });
    add({
      action: 'fail',
      path: '/toolbox/:id/process/session/:sid/command/:cid/logs',
      status: 503,
    });
    const { result } = await follow('upgrade', cmdId);
    const error = 'error' in result ? result.error : undefined;
    expect(error).not.toBeInstanceOf(Error);
    expect(error).toMatchObject({ message: 'Unexpected server response: 503' });
  });
});

describe('sandbox faults', () => {
  it('lose: the sandbox vanishes mid-run, its processes die, every call is a 404', async () => {
    const doomed = await daytona.create({ snapshot: 'omni-sandbox' });
    await doomed.process.createSession('s');
    const { cmdId } = await doomed.process.executeSessionCommand('s', {
      command: 'sleep 300 & echo pid=$!; wait',
      runAsync: true,
    });
    let stdout = '';
    const following = doomed.process.getSessionCommandLogs(
      's',
      cmdId,
      (c) => (stdout += c),
      () => undefined,
    );
    await waitFor(() => stdout.includes('\n'));
    const pid = Number(/pid=(\d+)/.exec(stdout)?.[1]);
    expect(isAlive(pid)).toBe(true);
    expect(await admin('POST', `/_sandbox/${doomed.id}/lose`)).toEqual({
      status: 200,
      body: { id: doomed.id, name: doomed.name, state: 'destroyed' },
    });
    // The log ends as its command is killed.
    expect(await outcome(following)).toEqual({ ok: undefined });
    expect(isAlive(pid)).toBe(false);
    await expect(daytona.get(doomed.id)).rejects.toBeInstanceOf(DaytonaNotFoundError);
    await expect(doomed.process.getSessionCommand('s', cmdId)).rejects.toBeInstanceOf(
      DaytonaNotFoundError,
    );
    expect((await server.stats()).sandboxes[doomed.id]).toMatchObject({
      state: 'destroyed',
      processesAlive: 0,
    });
    expect((await admin('POST', `/_sandbox/${doomed.id}/lose`)).status).toBe(404);
  });

  it('lose-sandbox rule (after): the command starts, then the sandbox is gone', async () => {
    const doomed = await daytona.create({ snapshot: 'omni-sandbox' });
    await doomed.process.createSession('s');
    const id = add({
      action: 'lose-sandbox',
      after: true,
      method: 'POST',
      path: '/toolbox/:id/process/session/:sid/exec',
      sandbox: doomed.id,
    });
    const { cmdId } = await doomed.process.executeSessionCommand('s', {
      command: 'sleep 300',
      runAsync: true,
    });
    expect(cmdId).toBeTruthy();
    await waitFor(async () => (await server.stats()).sandboxes[doomed.id]?.state === 'destroyed');
    expect(rule(id).fired).toBe(1);
    await expect(doomed.process.getSessionCommand('s', cmdId)).rejects.toBeInstanceOf(
      DaytonaNotFoundError,
    );
    expect((await server.stats()).sandboxes[doomed.id]?.sessionCommands).toBe(1);
    // The sandbox is gone at once; its processes are killed right after (a bounded wait).
    await waitFor(async () => (await server.stats()).sandboxes[doomed.id]?.processesAlive === 0);
  });

  it('lose-sandbox rule (after) on create: created, answered, and gone', async () => {
    const name = `gone-${crypto.randomUUID()}`;
    add({
      action: 'lose-sandbox',
      after: true,
      method: 'POST',
      path: '/api/sandbox',
      sandbox: name,
    });
    const sandbox = await daytona.create({ snapshot: 'omni-sandbox', name });
    expect(sandbox.state).toBe('started');
    await waitFor(async () => (await server.stats()).sandboxes[sandbox.id]?.state === 'destroyed');
    await expect(daytona.get(name)).rejects.toBeInstanceOf(DaytonaNotFoundError);
  });

  it('stop: the sandbox reports stopped, its processes die; an ephemeral one is deleted', async () => {
    const victim = await daytona.create({ snapshot: 'omni-sandbox' });
    const { result } = await victim.process.executeCommand(
      'nohup sleep 300 >/dev/null 2>&1 & echo $!',
    );
    const pid = Number(result.trim());
    expect(await admin('POST', `/_sandbox/${victim.name}/stop`)).toMatchObject({
      status: 200,
      body: { id: victim.id, state: 'stopped' },
    });
    expect(isAlive(pid)).toBe(false);
    await victim.refreshData();
    expect(victim.state).toBe('stopped');
    await expect(victim.process.executeCommand('true')).rejects.toBeInstanceOf(
      DaytonaValidationError,
    );
    expect((await admin('POST', `/_sandbox/${victim.id}/stop`)).status).toBe(409);
    await victim.start();
    expect((await victim.process.executeCommand('echo again')).result).toBe('again\n');

    // As a rule: the next toolbox call finds the sandbox stopped (400 from the toolbox).
    const id = add({ action: 'stop-sandbox', path: '/toolbox/**', sandbox: victim.id, times: 1 });
    await expect(victim.process.executeCommand('true')).rejects.toBeInstanceOf(
      DaytonaValidationError,
    );
    expect(rule(id).fired).toBe(1);
    expect((await daytona.get(victim.id)).state).toBe('stopped');

    const ephemeral = await daytona.create({ snapshot: 'omni-sandbox', ephemeral: true });
    expect((await server.faults.stopSandbox(ephemeral.id)).state).toBe('destroyed');
    await expect(daytona.get(ephemeral.id)).rejects.toBeInstanceOf(DaytonaNotFoundError);
  });

  it('slow-start: create answers starting and the SDK polls until started', async () => {
    const id = add({ action: 'slow-start', seconds: 1.5, times: 1 });
    const seen = requests.length;
    const started = Date.now();
    const sandbox = await daytona.create({ snapshot: 'omni-sandbox' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(sandbox.state).toBe('started');
    expect(rule(id)).toMatchObject({ fired: 1, remaining: 0 });
    const polls = requests
      .slice(seen)
      .filter((r) => r.method === 'GET' && r.path === `/api/sandbox/${sandbox.id}`);
    expect(polls.length).toBeGreaterThanOrEqual(2);
    // Only the next create was slow.
    expect((await daytona.create({ snapshot: 'omni-sandbox' })).state).toBe('started');
  });

  it('slow-start as seen on the wire: starting, toolbox refused, then started', async () => {
    add({ action: 'slow-start', seconds: 1, times: 1 });
    const headers = {
      authorization: `Bearer ${server.apiKey}`,
      'content-type': 'application/json',
    };
    const Dto = z.object({ id: z.string(), state: z.string(), desiredState: z.string() });
    const started = Date.now();
    const res = await fetch(`${server.apiUrl}/sandbox`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ snapshot: 'omni-sandbox' }),
    });
    const created = Dto.parse(await res.json());
    expect(created).toMatchObject({ state: 'starting', desiredState: 'started' });
    const get = async () =>
      Dto.parse(await (await fetch(`${server.apiUrl}/sandbox/${created.id}`, { headers })).json());
    const exec = await fetch(`${server.toolboxUrl}/${created.id}/process/execute`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ command: 'true' }),
    });
    expect(exec.status).toBe(400);
    await waitFor(async () => (await get()).state === 'started');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('slow-start: one failed poll fails the create, though the sandbox exists', async () => {
    const name = `poll-${crypto.randomUUID()}`;
    add({ action: 'slow-start', seconds: 2, sandbox: name });
    add({
      action: 'fail',
      method: 'GET',
      path: '/api/sandbox/:id',
      sandbox: name,
      status: 503,
      times: 1,
    });
    await expect(daytona.create({ snapshot: 'omni-sandbox', name })).rejects.toBeInstanceOf(
      DaytonaServiceUnavailableError,
    );
    expect((await daytona.get(name)).state).toBe('starting');
  });

  it('slow-start beyond the create timeout: DaytonaTimeoutError, the sandbox stays starting', async () => {
    const name = `slow-${crypto.randomUUID()}`;
    add({ action: 'slow-start', seconds: 60, sandbox: name });
    const error = await daytona
      .create({ snapshot: 'omni-sandbox', name }, { timeout: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaytonaTimeoutError);
    expect(error).toMatchObject({
      message: 'Failed to create and start sandbox within 1 seconds. Operation timed out.',
    });
    expect((await daytona.get(name)).state).toBe('starting');
  });
});
