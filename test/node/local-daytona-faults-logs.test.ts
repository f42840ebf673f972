/**
 * local-daytona's faults on the log websocket of a session command, driven by the real
 * @daytonaio/sdk (Node runtime) and, for close codes, a plain ws client: cut-logs (abrupt or
 * clean) and hold-logs, and a hung or failed upgrade, with what the SDK's log follow makes of
 * each. Hangs are proven by client-side timeouts. Setup and helpers are in faults-helpers.ts.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { add, outcome, rule, server, shared, useFaultServer, waitFor } from './faults-helpers.ts';

useFaultServer();

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
