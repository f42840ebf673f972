/**
 * local-daytona's sandbox faults, driven by the real @daytonaio/sdk (Node runtime, polling as the
 * Job DO uses it): lose (the sandbox and its processes vanish), stop (stopped, or deleted when
 * ephemeral) and slow-start (create answers starting, the SDK polls), through the admin endpoints
 * and as rules, and what the SDK makes of each. Timing is only ever bounded loosely from below
 * (the box is small and loaded). Setup and helpers are in faults-helpers.ts.
 */
import {
  DaytonaNotFoundError,
  DaytonaServiceUnavailableError,
  DaytonaTimeoutError,
  DaytonaValidationError,
} from '@daytonaio/sdk';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  add,
  admin,
  daytona,
  outcome,
  requests,
  rule,
  server,
  useFaultServer,
  waitFor,
} from './faults-helpers.ts';
import { isAlive } from './processes.ts';

useFaultServer();

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
