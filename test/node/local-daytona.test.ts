/**
 * local-daytona driven by the real @daytonaio/sdk (Node runtime): sandbox lifecycle and the
 * cloud's validation rules, one-shot commands, git clone, files and authentication.
 * Sessions and log streaming are in local-daytona-sessions.test.ts, the SDK's serverless
 * (workerd) code paths in local-daytona-serverless.test.ts.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  Daytona,
  DaytonaAuthenticationError,
  DaytonaConflictError,
  DaytonaFileNotFoundError,
  DaytonaGitBranchNotFoundError,
  DaytonaGitRepoNotFoundError,
  DaytonaNotFoundError,
  DaytonaTimeoutError,
  DaytonaValidationError,
  type Sandbox,
} from '@daytonaio/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startLocalDaytona, type LocalDaytona } from '../../local-daytona/server.ts';
import { createSampleRepo, type SampleRepo } from '../../scripts/lib/sample-repo.ts';
import { isAlive } from './processes.ts';

const run = promisify(execFile);

let server: LocalDaytona;
let daytona: Daytona;
/** The project's sample repository: `main`, and `feature` which adds FEATURE.txt. */
let repo: SampleRepo;
let repoDir: string;
let firstCommit: string;
const created: Sandbox[] = [];

async function newSandbox(params: { name?: string; labels?: Record<string, string> } = {}) {
  const sandbox = await daytona.create({ snapshot: 'omni-sandbox', ...params });
  created.push(sandbox);
  return sandbox;
}

beforeAll(async () => {
  server = await startLocalDaytona({ apiKey: `test-${crypto.randomUUID()}` });
  daytona = new Daytona({ apiKey: server.apiKey, apiUrl: server.apiUrl, target: 'us' });
  repo = await createSampleRepo();
  repoDir = repo.path;
  firstCommit = (await run('git', ['rev-parse', 'main'], { cwd: repoDir })).stdout.trim();
});

afterEach(async () => {
  for (const sandbox of created.splice(0)) await sandbox.delete().catch(() => undefined);
});

afterAll(async () => {
  await daytona[Symbol.asyncDispose]();
  await server.close();
  await repo.remove();
  expect(existsSync(server.root)).toBe(false);
});

describe('sandbox lifecycle', () => {
  it('creates a started sandbox from a snapshot and gets it by id and name', async () => {
    const name = `ld-${crypto.randomUUID()}`;
    const sandbox = await newSandbox({ name, labels: { suite: 'lifecycle' } });
    expect(sandbox.state).toBe('started');
    expect(sandbox.snapshot).toBe('omni-sandbox');
    expect(sandbox.user).toBe('daytona');
    expect(sandbox.toolboxProxyUrl).toBe(server.toolboxUrl);
    expect(sandbox.labels).toMatchObject({ suite: 'lifecycle', 'code-toolbox-language': 'python' });
    expect([sandbox.cpu, sandbox.gpu, sandbox.memory, sandbox.disk]).toEqual([1, 0, 1, 3]);
    expect((await daytona.get(sandbox.id)).name).toBe(name);
    expect((await daytona.get(name)).id).toBe(sandbox.id);
    expect(existsSync(path.join(server.root, sandbox.id, 'home', 'daytona'))).toBe(true);
  });

  it('lists live sandboxes filtered by labels', async () => {
    const suite = crypto.randomUUID();
    const sandbox = await newSandbox({ labels: { suite } });
    await newSandbox({ labels: { suite: 'other' } });
    const ids: string[] = [];
    for await (const item of daytona.list({ labels: { suite } })) ids.push(item.id);
    expect(ids).toEqual([sandbox.id]);
  });

  it('stop kills processes and refuses toolbox calls; start serves again', async () => {
    const sandbox = await newSandbox();
    const { result } = await sandbox.process.executeCommand(
      'nohup sleep 300 >/dev/null 2>&1 & echo $!',
    );
    const pid = Number(result.trim());
    expect(isAlive(pid)).toBe(true);
    await sandbox.stop();
    expect(sandbox.state).toBe('stopped');
    expect(isAlive(pid)).toBe(false);
    await expect(sandbox.process.executeCommand('true')).rejects.toBeInstanceOf(
      DaytonaValidationError,
    );
    await sandbox.start();
    expect(sandbox.state).toBe('started');
    expect((await sandbox.process.executeCommand('echo back')).result).toBe('back\n');
  });

  it('delete kills processes, removes the directory, and the sandbox is gone', async () => {
    const sandbox = await daytona.create({ snapshot: 'omni-sandbox' });
    const dir = path.join(server.root, sandbox.id);
    const { result } = await sandbox.process.executeCommand(
      'setsid sleep 300 >/dev/null 2>&1 < /dev/null & echo $!',
    );
    const pid = Number(result.trim());
    expect(isAlive(pid)).toBe(true);
    await sandbox.delete();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await expect(daytona.get(sandbox.id)).rejects.toBeInstanceOf(DaytonaNotFoundError);
    await expect(daytona.get(sandbox.id)).rejects.toThrow(/not found/);
  });

  it('deletes an ephemeral sandbox when it stops', async () => {
    const sandbox = await daytona.create({ snapshot: 'omni-sandbox', ephemeral: true });
    await sandbox.stop();
    await expect(daytona.get(sandbox.id)).rejects.toBeInstanceOf(DaytonaNotFoundError);
  });
});

describe('create validation mirrors the cloud', () => {
  it('rejects resources together with a snapshot (400)', async () => {
    // The SDK's types forbid this combination but it sends it anyway; the cloud answers 400.
    const params = { snapshot: 'omni-sandbox', resources: { cpu: 2, memory: 4 } };
    await expect(daytona.create(params)).rejects.toSatisfy(
      (e) =>
        e instanceof DaytonaValidationError &&
        e.message === 'Cannot specify Sandbox resources when using a snapshot',
    );
  });

  it('rejects a duplicate live name (409)', async () => {
    const name = `dup-${crypto.randomUUID()}`;
    await newSandbox({ name });
    await expect(newSandbox({ name })).rejects.toBeInstanceOf(DaytonaConflictError);
  });

  it('rejects an unknown snapshot (400) naming it', async () => {
    await expect(daytona.create({ snapshot: 'no-such-snapshot' })).rejects.toSatisfy(
      (e) => e instanceof DaytonaValidationError && e.message.includes('no-such-snapshot'),
    );
  });

  it('rejects a network allow list that is not IPv4 CIDR (400)', async () => {
    const create = (networkAllowList: string) =>
      daytona.create({ snapshot: 'omni-sandbox', networkAllowList });
    await expect(create('10.0.0.0')).rejects.toBeInstanceOf(DaytonaValidationError);
    await expect(create('fe80::/10')).rejects.toBeInstanceOf(DaytonaValidationError);
    const eleven = Array.from({ length: 11 }, (_, i) => `10.0.${i}.0/24`).join(',');
    await expect(create(eleven)).rejects.toBeInstanceOf(DaytonaValidationError);
  });

  it('rejects a bad API key (401)', async () => {
    const intruder = new Daytona({ apiKey: 'wrong', apiUrl: server.apiUrl, target: 'us' });
    try {
      await expect(intruder.create({ snapshot: 'omni-sandbox' })).rejects.toBeInstanceOf(
        DaytonaAuthenticationError,
      );
      const res = await fetch(`${server.toolboxUrl}/x/process/execute`, { method: 'POST' });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    } finally {
      await intruder[Symbol.asyncDispose]();
    }
  });
});

describe('process.executeCommand', () => {
  it('returns exit code and combined output, with sandbox and call env', async () => {
    const sandbox = await daytona.create({ snapshot: 'omni-sandbox', envVars: { FOO: 'bar' } });
    created.push(sandbox);
    const res = await sandbox.process.executeCommand(
      'echo "$FOO $X"; echo oops >&2; exit 3',
      undefined,
      { X: 'x1' },
    );
    expect(res.exitCode).toBe(3);
    expect(res.result).toBe('bar x1\noops\n');
    const home = await sandbox.process.executeCommand('test "$HOME" = "$PWD" && echo same');
    expect(home.result).toBe('same\n');
  });

  it('kills the process group on timeout (408 → DaytonaTimeoutError)', async () => {
    const sandbox = await newSandbox();
    await expect(
      sandbox.process.executeCommand('sleep 30', undefined, undefined, 1),
    ).rejects.toBeInstanceOf(DaytonaTimeoutError);
  });

  it('maps absolute cwd under the sandbox and jails escapes', async () => {
    const sandbox = await newSandbox();
    await sandbox.fs.uploadFile(Buffer.from('x'), '/home/daytona/sub/f.txt');
    expect((await sandbox.process.executeCommand('ls', '/home/daytona/sub')).result).toBe(
      'f.txt\n',
    );
    await expect(
      sandbox.fs.uploadFile(Buffer.from('x'), '../../../../escape.txt'),
    ).rejects.toBeInstanceOf(DaytonaValidationError);
  });
});

describe('git.clone', () => {
  it('clones a branch over file:// and the checkout is usable', async () => {
    const sandbox = await newSandbox();
    await sandbox.git.clone(pathToFileURL(repoDir).href, 'work/repo', 'feature');
    const ls = await sandbox.process.executeCommand('ls work/repo');
    expect(ls.result.split('\n')).toEqual(expect.arrayContaining(['FEATURE.txt', 'README.md']));
    expect((await sandbox.process.executeCommand('cat work/repo/FEATURE.txt')).result).toBe(
      'only on the feature branch\n',
    );
    await sandbox.git.clone(repoDir, '/home/daytona/pinned', undefined, firstCommit);
    const head = await sandbox.process.executeCommand('git rev-parse HEAD', 'pinned');
    expect(head.result.trim()).toBe(firstCommit);
  });

  it("fails with git's reason for a missing repository or branch", async () => {
    const sandbox = await newSandbox();
    await expect(sandbox.git.clone('file:///nonexistent/repo.git', 'x')).rejects.toSatisfy(
      (e) =>
        e instanceof DaytonaGitRepoNotFoundError &&
        /does not (exist|appear to be a git repository)/.test(e.message),
    );
    await expect(sandbox.git.clone(repoDir, 'y', 'no-such-branch')).rejects.toSatisfy(
      (e) => e instanceof DaytonaGitBranchNotFoundError && e.message.includes('no-such-branch'),
    );
  });
});

describe('files', () => {
  it('round-trips an upload and reports a missing download as FILE_NOT_FOUND', async () => {
    const sandbox = await newSandbox();
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13, 0x01, 0x02]);
    await sandbox.fs.uploadFile(bytes, 'data/blob.bin');
    expect(Buffer.compare(await sandbox.fs.downloadFile('data/blob.bin'), bytes)).toBe(0);
    expect((await sandbox.fs.getFileDetails('data/blob.bin')).size).toBe(bytes.length);
    await expect(sandbox.fs.downloadFile('data/missing.txt')).rejects.toBeInstanceOf(
      DaytonaFileNotFoundError,
    );
  });
});

describe('CLI', () => {
  it('prints its connection details as one JSON line and exits cleanly on SIGTERM', async () => {
    const main = path.resolve(import.meta.dirname, '../../local-daytona/main.ts');
    const child = spawn(process.execPath, [main], {
      env: { ...process.env, LOCAL_DAYTONA_PORT: '0', LOCAL_DAYTONA_API_KEY: 'cli-key' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines = createInterface({ input: child.stdout });
    const line = await new Promise<string>((resolve) => lines.once('line', resolve));
    lines.close();
    const info = z
      .object({ apiUrl: z.string(), toolboxUrl: z.string(), apiKey: z.string(), root: z.string() })
      .parse(JSON.parse(line));
    expect(info).toMatchObject({ apiKey: 'cli-key', apiUrl: expect.stringMatching(/\/api$/) });
    const { apiUrl, root } = info;
    const res = await fetch(`${apiUrl}/config`, { headers: { authorization: 'Bearer cli-key' } });
    expect(res.status).toBe(200);
    expect(existsSync(root)).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(root)).toBe(false);
  });
});
