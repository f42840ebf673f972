/**
 * The real `omni` binary (cli/omni.ts, run by the pinned Node) against a real `wrangler dev` on
 * the embedded defaults (scripts/lib/dev-stack.ts): login, run, logs, jobs, cancel, errors, a
 * stream dropped mid-job, Ctrl-C, and the status line in a pseudo-terminal (util-linux `script`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startDevStack, type DevStack } from '../../scripts/lib/dev-stack.ts';
import { createSampleRepo, type SampleRepo } from '../../scripts/lib/sample-repo.ts';
import { FINAL_TEXT_PREFIX, GOOD_KEY_PREFIX } from '../anthropic-script.ts';
import { startAnthropicStandIn, type AnthropicStandIn } from '../anthropic-stand-in.ts';
import { startTcpProxy } from './tcp-proxy.ts';

const cli = fileURLToPath(new URL('../../cli/omni.ts', import.meta.url));
// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b/;

let dir: string;
let repo: SampleRepo;
let stack: DevStack;
let anthropic: AnthropicStandIn;
/** XDG_CONFIG_HOME of the logged-in user of these tests. */
let configHome: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-cli-'));
  repo = await createSampleRepo(dir);
  // Agent jobs run the real Claude Code CLI against a scripted stand-in of the Anthropic API.
  anthropic = await startAnthropicStandIn();
  stack = await startDevStack({
    port: 0,
    persistTo: join(dir, 'wrangler'),
    vars: { ANTHROPIC_BASE_URL: anthropic.url },
  });
  configHome = join(dir, 'config');
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await stack?.stop();
  await anthropic?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Resolves once stdout (or stderr) contains `text`. */
  waitFor(text: string | RegExp, stream?: 'stdout' | 'stderr'): Promise<void>;
}

/** The environment of `omni`: no colour settings, no credentials other than the config file's. */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dropped = new Set(['NO_COLOR', 'FORCE_COLOR', 'OMNI_URL', 'OMNI_API_KEY']);
  const inherited = Object.entries(process.env).filter(([name]) => !dropped.has(name));
  return { ...Object.fromEntries(inherited), XDG_CONFIG_HOME: configHome, ...extra };
}

/** Starts a process and collects its output. */
function start(command: string, args: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const waiters: (() => void)[] = [];
  const run: Run = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) =>
      child.on('exit', (code) => {
        children.delete(child);
        resolve(code);
      }),
    ),
    waitFor(text, stream = 'stdout') {
      const seen = () =>
        typeof text === 'string' ? run[stream].includes(text) : text.test(run[stream]);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (seen()) resolve();
          else if (child.exitCode !== null)
            reject(new Error(`exited before ${String(text)}:\n${run.stdout}\n${run.stderr}`));
          else waiters.push(check);
        };
        check();
      });
    },
  };
  const wake = () => waiters.splice(0).forEach((w) => w());
  child.stdout?.on('data', (d: Buffer) => {
    run.stdout += d.toString();
    wake();
  });
  child.stderr?.on('data', (d: Buffer) => {
    run.stderr += d.toString();
    wake();
  });
  child.on('exit', wake);
  return run;
}

/** `omni <args>` without a terminal. */
function omni(args: string[], extra: Record<string, string> = {}): Run {
  return start(process.execPath, [cli, ...args], cliEnv(extra));
}

/** Runs `omni <args>` to its end. */
async function omniDone(args: string[], extra: Record<string, string> = {}) {
  const run = omni(args, extra);
  const code = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr };
}

/** A word for `sh -c`, single-quoted. */
function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `omni <args>` in a pseudo-terminal: `script` gives it one for stdin, stdout and stderr. */
function omniInTerminal(args: string[], extra: Record<string, string> = {}): Run {
  const line = [process.execPath, cli, ...args].map(quote).join(' ');
  return start('script', ['-qfec', line, '/dev/null'], cliEnv({ TERM: 'xterm', ...extra }));
}

const jobIdIn = (text: string) => /job_[0-9a-f]{32}/.exec(text)?.[0] ?? '';

async function api(path: string, init: RequestInit = {}) {
  return fetch(`${stack.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
  });
}

describe('omni against wrangler dev', () => {
  it('logs in: checks the key, stores URL and key readable by the user only', async () => {
    const wrong = await omniDone(['login', '--url', stack.url, '--key', 'omni_wrong'], {
      XDG_CONFIG_HOME: join(dir, 'other-config'),
    });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/request id [0-9a-f-]{36}/);
    await expect(stat(join(dir, 'other-config', 'omni', 'config.json'))).rejects.toThrow();

    const ok = await omniDone(['login', '--url', `${stack.url}/`, '--key', stack.apiKey]);
    expect(ok.code).toBe(0);
    const file = join(configHome, 'omni', 'config.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(configHome, 'omni'))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      url: stack.url,
      apiKey: stack.apiKey,
    });
  });

  it('asks for the URL and the key on a terminal, and does not echo the key', async () => {
    const home = join(dir, 'asked-config');
    const run = omniInTerminal(['login'], { XDG_CONFIG_HOME: home });
    await run.waitFor('Omni API URL [http://127.0.0.1:8787]: ');
    run.child.stdin?.write(`${stack.url}\r`);
    await run.waitFor('API key: ');
    run.child.stdin?.write(`${stack.apiKey}\r`);
    expect(await run.exited).toBe(0);
    expect(run.stdout).toContain(stack.url);
    expect(run.stdout).not.toContain(stack.apiKey);
    expect(JSON.parse(await readFile(join(home, 'omni', 'config.json'), 'utf8'))).toEqual({
      url: stack.url,
      apiKey: stack.apiKey,
    });
  });

  it("runs a command, streams stdout and stderr apart, and exits with the job's exit code", async () => {
    const run = await omniDone([
      'run',
      '--repo',
      repo.url,
      '--',
      './count.sh 2 0.1; echo warn >&2; exit 3',
    ]);
    expect(run.stdout).toBe('step 1\nstep 2\n');
    expect(run.stderr).toMatch(
      /^warn\nomni: job job_[0-9a-f]{32} failed: its command exited with 3\n$/,
    );
    expect(run.code).toBe(3);

    // The same output from the log afterwards, and --follow exits like run.
    const id = jobIdIn(run.stderr);
    const logs = await omniDone(['logs', id]);
    expect(logs).toMatchObject({ code: 0, stdout: 'step 1\nstep 2\n', stderr: 'warn\n' });
    const follow = await omniDone(['logs', id, '--follow']);
    expect(follow.code).toBe(3);
    expect(follow.stdout).toBe('step 1\nstep 2\n');
  });

  it('runs an agent: its text on stdout, its tool calls on stderr, not its raw JSON', async () => {
    const secret = await api('/v1/secrets/ANTHROPIC_API_KEY', {
      method: 'PUT',
      body: JSON.stringify({ value: `${GOOD_KEY_PREFIX}${crypto.randomUUID()}` }),
    });
    expect(secret.ok).toBe(true);
    const run = await omniDone(['run', '--repo', repo.url, '--agent', 'Read the README.']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${FINAL_TEXT_PREFIX}# Sample repository`);
    expect(run.stdout).not.toContain('"type"');
    expect(run.stderr).toMatch(/^› Bash .*cat README\.md/m);
  });

  it('ends with a reason and its own exit code when the job fails before its command, or times out', async () => {
    const clone = await omniDone(['run', '--repo', `${repo.url}-missing`, '--', 'true']);
    expect(clone.code).toBe(125);
    expect(clone.stdout).toBe('');
    expect(clone.stderr).toMatch(/^omni: job job_[0-9a-f]{32} failed: .+ \(clone_failed\)\n$/);

    const slow = await omniDone(['run', '--repo', repo.url, '--timeout', '2', '--', 'sleep 60']);
    expect(slow.code).toBe(124);
    expect(slow.stderr).toMatch(/^omni: job job_[0-9a-f]{32} timed out/);
  });

  it('writes no escape codes when the output is not a terminal', async () => {
    const run = await omniDone(['run', '--repo', repo.url, '--', './count.sh', '2', '0.1']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('step 1\nstep 2\n');
    expect(run.stderr).toBe('');
    const jobs = await omniDone(['jobs']);
    expect(jobs.stdout).toContain('succeeded');
    for (const text of [run.stdout, run.stderr, jobs.stdout, jobs.stderr]) {
      expect(text).not.toMatch(ESCAPE);
    }
  });

  it('lists jobs as JSON lines, filtered by status', async () => {
    const failed = await omniDone(['run', '--repo', repo.url, '--', 'exit 4']);
    expect(failed.code).toBe(4);
    const id = jobIdIn(failed.stderr);
    const page = await omniDone(['jobs', '--json', '--status', 'failed', '--limit', '100']);
    expect(page.code).toBe(0);
    const jobs = page.stdout
      .trim()
      .split('\n')
      .map((line) => z.object({ id: z.string(), status: z.string() }).parse(JSON.parse(line)));
    expect(jobs.map((j) => j.id)).toContain(id);
    expect(new Set(jobs.map((j) => j.status))).toEqual(new Set(['failed']));
  });

  it("reports this month's usage, with the jobs run so far in its total", async () => {
    const month = new Date().toISOString().slice(0, 7);
    const json = await omniDone(['usage', '--json']);
    expect(json.code).toBe(0);
    const report = z
      .object({ from: z.string(), to: z.string(), totals: z.object({ jobs: z.number() }) })
      .parse(JSON.parse(json.stdout));
    expect(report.from).toBe(`${month}-01`);
    expect(report.totals.jobs).toBeGreaterThan(0);
    const text = await omniDone(['usage', '--group-by', 'project']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^total +${report.totals.jobs} +\\$`, 'm'));
    const bad = await omniDone(['usage', '--month', '2026-13']);
    expect(bad).toMatchObject({ code: 1, stderr: 'omni: --month 2026-13: expected YYYY-MM\n' });
  });

  it('cancels a job; canceling it again prints the detail and the request id', async () => {
    const created = await omniDone(['run', '--detach', '--repo', repo.url, '--', 'sleep 600']);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^job_[0-9a-f]{32}$/);
    const follower = omni(['logs', id, '--follow']);
    const canceled = await omniDone(['cancel', id]);
    expect(canceled).toMatchObject({ code: 0, stdout: `Canceled ${id}.\n` });
    expect(await follower.exited).toBe(130);
    expect(follower.stderr).toContain(`omni: job ${id} canceled`);

    const again = await omniDone(['cancel', id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /^omni: The job already ended \(canceled\); there is nothing to cancel\. \(HTTP 409, conflict\)\nomni: request id [0-9a-f-]{36}\n$/,
    );
  });

  it('prints an API error as its detail and request id, without a stack', async () => {
    const missing = await omniDone(['logs', 'job_00000000000000000000000000000000']);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    const lines = missing.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      'omni: No job with id job_00000000000000000000000000000000. (HTTP 404, not_found)',
    );
    expect(lines[1]).toMatch(/^omni: request id [0-9a-f-]{36}$/);

    const usage = await omniDone(['run', '--repo', repo.url]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('Nothing to run');
  });

  it('resumes a dropped stream after the last event: no line lost, none repeated', async () => {
    const proxy = await startTcpProxy(stack.url);
    try {
      // OMNI_URL and OMNI_API_KEY override the config file: the CLI goes through the proxy.
      const run = omni(['run', '--repo', repo.url, '--', './count.sh 8 0.3'], {
        OMNI_URL: proxy.url,
        OMNI_API_KEY: stack.apiKey,
        XDG_CONFIG_HOME: join(dir, 'no-config'),
      });
      await run.waitFor('step 3\n');
      expect(proxy.dropWebSockets()).toBe(1);
      expect(await run.exited).toBe(0);
      expect(run.stdout).toBe(Array.from({ length: 8 }, (_, i) => `step ${i + 1}\n`).join(''));
      expect(run.stderr).toMatch(
        /^omni: lost the stream: closed with code 1006; resuming after event \d+ in \d\.\d s\n$/,
      );
      // The second connection asked for the events after the last one received.
      const after = /resuming after event (\d+)/.exec(run.stderr)?.[1];
      expect(proxy.upgrades().map((line) => /[?&]after=(\d+)/.exec(line)?.[1])).toEqual([
        '0',
        after,
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('keeps trying while the API cannot be reached, and then resumes without a gap', async () => {
    const proxy = await startTcpProxy(stack.url);
    try {
      const run = omni(['run', '--repo', repo.url, '--', './count.sh 8 0.3'], {
        OMNI_URL: proxy.url,
        OMNI_API_KEY: stack.apiKey,
        XDG_CONFIG_HOME: join(dir, 'no-config'),
      });
      await run.waitFor('step 2\n');
      proxy.block();
      // The stream is cut, then getting a stream token fails at least twice.
      await run.waitFor(/(resuming after event[^\n]*\n[^]*){3}/, 'stderr');
      expect(proxy.refused()).toBeGreaterThanOrEqual(2);
      proxy.unblock();
      expect(await run.exited).toBe(0);
      expect(run.stdout).toBe(Array.from({ length: 8 }, (_, i) => `step ${i + 1}\n`).join(''));
      expect(run.stderr).toContain('Cannot reach');
    } finally {
      await proxy.close();
    }
  });

  it('detaches on the first Ctrl-C without a terminal, and says how to follow the job', async () => {
    const run = omni(['run', '--repo', repo.url, '--', 'echo started; sleep 600']);
    await run.waitFor('started\n');
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    const id = jobIdIn(run.stderr);
    expect(run.stderr).toContain(`omni logs ${id} --follow`);
    // Detached, not canceled: the job still runs.
    const job = z.object({ status: z.string() }).parse(await (await api(`/v1/jobs/${id}`)).json());
    expect(job.status).toBe('running');
    await api(`/v1/jobs/${id}/cancel`, { method: 'POST' });
  });

  it('shows the status line in a terminal: status, elapsed time and the final cost', async () => {
    const run = omniInTerminal(['run', '--repo', repo.url, '--', './count.sh 2 0.5; exit 5']);
    expect(await run.exited).toBe(5);
    // The line is redrawn in place (CR, erase line) with the status and the elapsed time.
    // eslint-disable-next-line no-control-regex
    expect(run.stdout).toMatch(/\r\x1b\[2K\S+ running {2}\d+s {2}/);
    expect(run.stdout).toContain('step 1\r\n');
    // It ends with the final status, colored, and the cost from the final event.
    // eslint-disable-next-line no-control-regex
    expect(run.stdout).toMatch(/✗ \x1b\[31mfailed\x1b\[0m {2}\d+s {2}\$\d+\.\d{4}/);
  });

  it('colours a terminal unless NO_COLOR is set', async () => {
    expect((await omniDone(['run', '--repo', repo.url, '--', 'true'])).code).toBe(0);
    const coloured = omniInTerminal(['jobs', '--status', 'succeeded']);
    expect(await coloured.exited).toBe(0);
    expect(coloured.stdout).toContain('\x1b[32msucceeded\x1b[0m');
    const plain = omniInTerminal(['jobs', '--status', 'succeeded'], { NO_COLOR: '1' });
    expect(await plain.exited).toBe(0);
    expect(plain.stdout).toMatch(/^job_[0-9a-f]{32} +succeeded /m);
    expect(plain.stdout).not.toMatch(ESCAPE);
  });

  it('asks on Ctrl-C in a terminal, and cancels the job when told to', async () => {
    const run = omniInTerminal(['run', '--repo', repo.url, '--', 'echo started; sleep 600']);
    await run.waitFor('started');
    // The terminal turns ^C into SIGINT for the foreground process, as a keyboard would.
    run.child.stdin?.write('\x03');
    await run.waitFor('Cancel the job, or detach? [c/d]');
    run.child.stdin?.write('c');
    expect(await run.exited).toBe(130);
    expect(run.stdout).toMatch(/omni: job job_[0-9a-f]{32} canceled/);
  });
});
