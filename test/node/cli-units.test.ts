/** The CLI's pure parts: command lines, env flags, months, exit codes, backoff, the status line. */
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { answerOf } from '../../cli/interrupt.ts';
import { exitCodeOf, reasonOf } from '../../cli/outcome.ts';
import { commandLine, jobEnv } from '../../cli/run.ts';
import { backoffMs, followJob, parseEvent, type JobEvent } from '../../cli/stream.ts';
import { formatElapsed, StatusLine } from '../../cli/terminal.ts';
import { monthRange } from '../../cli/usage.ts';

describe('omni run arguments', () => {
  it('takes one word as a shell line and quotes several', () => {
    expect(commandLine(['make && make test'])).toBe('make && make test');
    expect(commandLine(['npm', 'test', '--', '--grep=a b'])).toBe("npm test -- '--grep=a b'");
    expect(commandLine(['echo', "it's"])).toBe(`echo 'it'\\''s'`);
  });

  it('turns --env and --secret into the API env', () => {
    expect(jobEnv(['A=1', 'B=x=y', 'C='], ['TOKEN', 'GH=GITHUB_TOKEN'])).toEqual({
      A: '1',
      B: 'x=y',
      C: '',
      TOKEN: { secret: 'TOKEN' },
      GH: { secret: 'GITHUB_TOKEN' },
    });
    expect(jobEnv([], [])).toBeUndefined();
    expect(() => jobEnv(['=1'], [])).toThrow('expected NAME=VALUE');
    expect(() => jobEnv(['NOVALUE'], [])).toThrow('expected NAME=VALUE');
  });
});

describe('omni usage --month', () => {
  it('covers the whole month, leap days included', () => {
    expect(monthRange('2024-02')).toEqual({ from: '2024-02-01', to: '2024-02-29' });
    expect(monthRange('2026-12')).toEqual({ from: '2026-12-01', to: '2026-12-31' });
    expect(monthRange(undefined, new Date('2026-04-15T00:00:00Z'))).toEqual({
      from: '2026-04-01',
      to: '2026-04-30',
    });
    expect(() => monthRange('2026-13')).toThrow('expected YYYY-MM');
    expect(() => monthRange('april')).toThrow('expected YYYY-MM');
  });
});

describe("a job's end", () => {
  it('gives the exit code of the command, or one that says what happened', () => {
    expect(exitCodeOf({ status: 'succeeded', exitCode: 0 })).toBe(0);
    expect(exitCodeOf({ status: 'failed', exitCode: 3 })).toBe(3);
    expect(exitCodeOf({ status: 'failed', exitCode: null })).toBe(125);
    expect(exitCodeOf({ status: 'failed', exitCode: 0 })).toBe(125);
    expect(exitCodeOf({ status: 'timed_out', exitCode: null })).toBe(124);
    expect(exitCodeOf({ status: 'canceled', exitCode: null })).toBe(130);
    expect(exitCodeOf({ status: 'running', exitCode: null })).toBeNull();
  });

  it('says in one line why a job did not succeed', () => {
    const error = { code: 'clone_failed', message: 'Repository not found' };
    expect(reasonOf('job_1', { status: 'failed', exitCode: null, error, costUsd: null })).toBe(
      'omni: job job_1 failed: Repository not found (clone_failed)',
    );
    expect(
      reasonOf('job_1', { status: 'timed_out', exitCode: null, error: null, costUsd: null }),
    ).toBe('omni: job job_1 timed out');
    expect(
      reasonOf('job_1', { status: 'succeeded', exitCode: 0, error: null, costUsd: null }),
    ).toBeNull();
  });
});

describe('the stream', () => {
  it('backs off from a quarter second to five seconds', () => {
    for (let failures = 1; failures < 12; failures += 1) {
      const ms = backoffMs(failures);
      expect(ms).toBeGreaterThanOrEqual(Math.min(5000, 250 * 2 ** (failures - 1)) * 0.75);
      expect(ms).toBeLessThanOrEqual(5000);
    }
  });

  it('reads events and ignores what is not one (the pong of a ping)', () => {
    expect(parseEvent('pong')).toBeNull();
    expect(parseEvent('{"type":"stdout"}')).toBeNull();
    expect(parseEvent('{"seq":2,"type":"stdout","ts":"t","data":"x"}')).toMatchObject({
      seq: 2,
      data: 'x',
    });
  });

  it('reconnects after the last seq, skips what it has seen, and ends with the final status', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const event = (seq: number, extra: object) =>
      JSON.stringify({ seq, ts: new Date(0).toISOString(), ...extra });
    let connections = 0;
    server.on('connection', (socket) => {
      connections += 1;
      if (connections === 1) {
        socket.send(event(1, { type: 'status', status: 'running' }));
        socket.send(event(2, { type: 'stdout', data: 'a' }), () => socket.terminate());
      } else {
        // A server that sends an event again: it is skipped.
        socket.send(event(2, { type: 'stdout', data: 'a' }));
        socket.send('pong');
        socket.send(event(3, { type: 'stdout', data: 'b' }));
        socket.send(event(4, { type: 'status', status: 'succeeded' }));
      }
    });
    const asked: number[] = [];
    const seen: JobEvent[] = [];
    try {
      const result = await followJob({
        jobId: 'job_1',
        connectUrl: async (after) => {
          asked.push(after);
          return `ws://127.0.0.1:${port}/?after=${after}`;
        },
        onEvent: (e) => seen.push(e),
      });
      expect(asked).toEqual([0, 2]);
      expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect(result).toMatchObject({ last: 4, final: { status: 'succeeded' } });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('gives up at once on a refusal that is not worth another try', async () => {
    const refusal = new Error('No job with id job_1.');
    await expect(
      followJob({
        jobId: 'job_1',
        connectUrl: () => Promise.reject(refusal),
        retryable: () => false,
        onEvent: () => undefined,
      }),
    ).rejects.toBe(refusal);
  });

  it('reads a second Ctrl-C at the prompt as detach', () => {
    expect(answerOf('c')).toBe('cancel');
    expect(answerOf('D')).toBe('detach');
    expect(answerOf('\x03')).toBe('detach');
    expect(answerOf('x')).toBe('continue');
  });
});

/** A stand-in terminal stream that records what is written to it. */
function fakeTerminal() {
  const written: string[] = [];
  const stream = Object.assign(Object.create(process.stderr) as NodeJS.WriteStream, {
    isTTY: true,
    columns: 80,
    write: (text: string) => written.push(text) > 0,
  });
  return { stream, written };
}

describe('the status line', () => {
  it('is redrawn below output, never in the middle of a line', () => {
    const err = fakeTerminal();
    const out = fakeTerminal();
    const line = new StatusLine({
      stream: err.stream,
      other: out.stream,
      jobId: 'job_1',
      since: Date.now(),
      colours: false,
    });
    line.update({ status: 'running' });
    // eslint-disable-next-line no-control-regex
    expect(err.written.at(-1)).toMatch(/^\r\x1b\[2K. running {2}0s {2}job_1$/);
    line.write(out.stream, 'partial');
    err.written.length = 0;
    line.update({ costUsd: 0.5 });
    expect(err.written).toEqual([]);
    line.write(out.stream, ' line\n');
    expect(err.written.at(-1)).toMatch(/running {2}0s {2}\$0\.5000 {2}job_1$/);
    // The final line stays; a cost that arrives after it draws nothing more.
    line.update({ status: 'succeeded' });
    line.finish();
    expect(err.written.at(-1)).toMatch(/^✓ succeeded {2}0s {2}\$0\.5000 {2}job_1\n$/);
    const count = err.written.length;
    line.update({ costUsd: 0.75 });
    expect(err.written).toHaveLength(count);
  });

  it('is not drawn at all when stderr is not a terminal', () => {
    const err = fakeTerminal();
    err.stream.isTTY = false;
    const line = new StatusLine({
      stream: err.stream,
      other: process.stdout,
      jobId: 'job_1',
      since: 0,
      colours: true,
    });
    line.start();
    line.update({ status: 'succeeded', costUsd: 1 });
    line.finish();
    expect(err.written).toEqual([]);
  });

  it('formats elapsed time', () => {
    expect(formatElapsed(59_999)).toBe('59s');
    expect(formatElapsed(65_000)).toBe('1m05s');
    expect(formatElapsed(3_723_000)).toBe('1h02m');
  });
});
