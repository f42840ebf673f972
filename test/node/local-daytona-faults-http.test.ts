/**
 * local-daytona's HTTP faults, driven by the real @daytonaio/sdk (Node runtime, polling as the
 * Job DO uses it): fail, drop, delay and hang, before or after the request is handled (`after`),
 * limited to one sandbox or not, and what the SDK makes of each: which error class, whether it
 * retries. Timing is only ever bounded loosely from below (the box is small and loaded); hangs
 * are proven by client-side timeouts, and close() ends the requests still held. Setup and
 * helpers are in faults-helpers.ts.
 */
import {
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
} from '@daytonaio/sdk';
import { describe, expect, it } from 'vitest';
import { startLocalDaytona } from '../../local-daytona/server.ts';
import {
  add,
  client,
  daytona,
  outcome,
  rule,
  server,
  shared,
  useFaultServer,
  waitFor,
} from './faults-helpers.ts';

useFaultServer();

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
