/**
 * local-daytona sessions and log streaming, driven by the real @daytonaio/sdk (Node runtime).
 */
import { Daytona, DaytonaNotFoundError, type Sandbox } from '@daytonaio/sdk';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalDaytona, type LocalDaytona } from '../../local-daytona/server.ts';
import { isAlive } from './processes.ts';

let server: LocalDaytona;
let daytona: Daytona;
let sandbox: Sandbox;

/** Polls `condition` until it holds; `ms` is only an upper bound against hanging forever. */
async function waitFor(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Follows a command's logs, collecting each stream; `seen(text)` resolves once stdout has it. */
function follow(sessionId: string, cmdId: string) {
  const out: string[] = [];
  const err: string[] = [];
  const waiters: { text: string; resolve: () => void }[] = [];
  const check = () => {
    for (const w of waiters) if (out.join('').includes(w.text)) w.resolve();
  };
  const done = sandbox.process.getSessionCommandLogs(
    sessionId,
    cmdId,
    (chunk) => {
      out.push(chunk);
      check();
    },
    (chunk) => err.push(chunk),
  );
  const seen = (text: string) =>
    new Promise<void>((resolve) => {
      waiters.push({ text, resolve });
      check();
    });
  return { done, seen, stdout: () => out.join(''), stderr: () => err.join('') };
}

beforeAll(async () => {
  server = await startLocalDaytona({ apiKey: `test-${crypto.randomUUID()}` });
  daytona = new Daytona({ apiKey: server.apiKey, apiUrl: server.apiUrl, target: 'us' });
  sandbox = await daytona.create({ snapshot: 'omni-sandbox' });
});

afterEach(async () => {
  for (const session of await sandbox.process.listSessions()) {
    await sandbox.process.deleteSession(session.sessionId);
  }
});

afterAll(async () => {
  await sandbox.delete();
  await daytona[Symbol.asyncDispose]();
  await server.close();
});

describe('sessions', () => {
  it('streams a running command live to concurrent followers, stdout and stderr apart', async () => {
    await sandbox.process.createSession('live');
    // The command waits for a file the test creates once both followers are attached.
    const command =
      'echo ready; while [ ! -e go ]; do sleep 0.05; done; rm go; ' +
      'for i in 1 2 3; do echo out$i; echo err$i >&2; done; exit 7';
    const { cmdId } = await sandbox.process.executeSessionCommand('live', {
      command,
      runAsync: true,
    });
    expect((await sandbox.process.getSessionCommand('live', cmdId)).exitCode).toBeUndefined();
    const a = follow('live', cmdId);
    const b = follow('live', cmdId);
    await Promise.all([a.seen('ready'), b.seen('ready')]);
    await sandbox.process.executeCommand('touch go');
    await Promise.all([a.done, b.done]);
    for (const f of [a, b]) {
      expect(f.stdout()).toBe('ready\nout1\nout2\nout3\n');
      expect(f.stderr()).toBe('err1\nerr2\nerr3\n');
    }
    expect((await sandbox.process.getSessionCommand('live', cmdId)).exitCode).toBe(7);
    const logs = await sandbox.process.getSessionCommandLogs('live', cmdId);
    expect(logs.stdout).toBe('ready\nout1\nout2\nout3\n');
    expect(logs.stderr).toBe('err1\nerr2\nerr3\n');
  });

  it('replays a finished command to a late follower and then closes', async () => {
    await sandbox.process.createSession('late');
    const res = await sandbox.process.executeSessionCommand('late', {
      command: "printf 'a\\nb\\n'; printf 'e\\n' >&2; exit 3",
    });
    expect(res).toMatchObject({ exitCode: 3, stdout: 'a\nb\n', stderr: 'e\n' });
    const f = follow('late', res.cmdId);
    await f.done;
    expect([f.stdout(), f.stderr()]).toEqual(['a\nb\n', 'e\n']);
  });

  it('runs commands in order and keeps cwd and exports between them', async () => {
    await sandbox.process.createSession('state');
    const first = await sandbox.process.executeSessionCommand('state', {
      command:
        'mkdir -p deep/er && cd deep/er && export GREETING=hi && sleep 0.2 && echo 1 > order',
      runAsync: true,
    });
    const second = await sandbox.process.executeSessionCommand('state', {
      command: 'cat order; echo "$GREETING"; basename "$PWD"',
    });
    expect(second.stdout).toBe('1\nhi\ner\n');
    expect((await sandbox.process.getSessionCommand('state', first.cmdId)).exitCode).toBe(0);
    const session = await sandbox.process.getSession('state');
    expect(session.commands?.map((c) => c.id)).toEqual([first.cmdId, second.cmdId]);
  });

  it('deleting a session kills its running command and ends its followers', async () => {
    await sandbox.process.createSession('doomed');
    const { cmdId } = await sandbox.process.executeSessionCommand('doomed', {
      command: 'sleep 300 & echo pid=$!; wait',
      runAsync: true,
    });
    const f = follow('doomed', cmdId);
    await f.seen('\n');
    const pid = Number(/pid=(\d+)/.exec(f.stdout())?.[1]);
    expect(isAlive(pid)).toBe(true);
    await sandbox.process.deleteSession('doomed');
    await f.done;
    // The kill is asynchronous; the process must be gone shortly (it would live 300 s).
    await waitFor(() => !isAlive(pid));
    await expect(sandbox.process.getSession('doomed')).rejects.toBeInstanceOf(DaytonaNotFoundError);
  });

  it('keeps stdin open for async commands and feeds it sendSessionCommandInput', async () => {
    await sandbox.process.createSession('stdin');
    const { cmdId } = await sandbox.process.executeSessionCommand('stdin', {
      command: 'echo waiting; read line; echo "got $line"',
      runAsync: true,
    });
    const f = follow('stdin', cmdId);
    await f.seen('waiting');
    await sandbox.process.sendSessionCommandInput('stdin', cmdId, 'hello\n');
    await f.done;
    expect(f.stdout()).toBe('waiting\ngot hello\n');
    // A synchronous command sees EOF on stdin at once, as with the daemon.
    const sync = await sandbox.process.executeSessionCommand('stdin', {
      command: 'cat; echo eof',
    });
    expect(sync.stdout).toBe('eof\n');
  });

  it('without follow=true sends the log so far and closes normally', async () => {
    await sandbox.process.createSession('nofollow');
    const { cmdId } = await sandbox.process.executeSessionCommand('nofollow', {
      command: 'echo hi; echo ho >&2',
    });
    const url = `${server.toolboxUrl.replace(/^http/, 'ws')}/${sandbox.id}/process/session/nofollow/command/${cmdId}/logs`;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${server.apiKey}` } });
    const frames: Buffer[] = [];
    ws.on('message', (data: Buffer) => frames.push(data));
    const code = await new Promise<number>((resolve) => ws.once('close', resolve));
    expect(code).toBe(1000);
    // stdout and stderr are separate pipes, so their relative order is not fixed.
    expect(['\x01\x01\x01hi\n\x02\x02\x02ho\n', '\x02\x02\x02ho\n\x01\x01\x01hi\n']).toContain(
      Buffer.concat(frames).toString('latin1'),
    );
  });

  it('authenticates log websockets by API key or preview token and echoes the SDK subprotocol', async () => {
    await sandbox.process.createSession('ws');
    const { cmdId } = await sandbox.process.executeSessionCommand('ws', { command: 'echo hi' });
    const base = `${server.toolboxUrl.replace(/^http/, 'ws')}/${sandbox.id}/process/session/ws/command/${cmdId}/logs`;
    const status = (url: string, protocols: string[] = []) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url, protocols);
        ws.once('open', () => {
          resolve(`open ${ws.protocol}`);
          ws.close();
        });
        ws.once('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
        ws.once('error', () => resolve('error'));
      });
    const { token } = await sandbox.getPreviewLink(1);
    const protocol = 'X-Daytona-SDK-Version~0.218.0';
    expect(await status(`${base}?follow=true&DAYTONA_SANDBOX_AUTH_KEY=${token}`, [protocol])).toBe(
      `open ${protocol}`,
    );
    expect(await status(`${base}?DAYTONA_SANDBOX_AUTH_KEY=wrong`, [protocol])).toBe('http 401');
    expect(await status(base)).toBe('http 401');
  });
});
