/**
 * The git lines of a job from GitHub (durable-objects/job/git-lines.ts), run for real with bash and
 * git against repositories on disk: the push script commits the checkout's changes once and
 * pushes them to a new branch (again after an interruption without a second commit), pushes
 * nothing when nothing changed, pushes the agent's own commits, runs none of the checkout's
 * hooks and keeps the token from every program but `git push`; the credential helper hands the
 * token to the repository's origin alone, and a helper from the checkout's config never runs.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile, chmod, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  credentialSettings,
  GIT_TOKEN_VAR,
  PUSH_ENV,
  pushCommand,
  pushFailure,
  pushOutcome,
  type PushSpec,
} from '../../durable-objects/job/git-lines.ts';

const run = promisify(execFile);

const TOKEN = 'ghs_testtoken0123456789abcdefghijklmnop';

const identity = {
  GIT_AUTHOR_NAME: 'Someone',
  GIT_AUTHOR_EMAIL: 'someone@example.invalid',
  GIT_COMMITTER_NAME: 'Someone',
  GIT_COMMITTER_EMAIL: 'someone@example.invalid',
};

/** A clean environment for git: no global or system config of the machine running the tests. */
function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    ...extra,
  };
}

let work: string;
let home: string;

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: gitEnv(identity) });
  return stdout.trim();
}

/** Runs a shell line the way Daytona's process API does; never rejects. */
async function sh(line: string, cwd: string, env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run('bash', ['-c', line], { cwd, env: gitEnv(env) });
    return { exitCode: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { exitCode: e.code ?? -1, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

/** A bare "GitHub" repository with one commit on main, and a clone of it in `work/repo`. */
async function setUp(): Promise<{ bare: string; url: string; repo: string }> {
  const bare = join(work, 'origin.git');
  await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare], {
    env: gitEnv(),
  });
  const seed = join(work, 'seed');
  await run('git', ['init', '--quiet', '--initial-branch=main', seed], { env: gitEnv() });
  await writeFile(join(seed, 'README.md'), '# Sample\n');
  await git(seed, 'add', '.');
  await git(seed, 'commit', '--quiet', '-m', 'Initial commit');
  const url = pathToFileURL(bare).href;
  await git(seed, 'push', '--quiet', url, 'main');
  await git(work, 'clone', '--quiet', url, 'repo');
  return { bare, url, repo: join(work, 'repo') };
}

const pushEnv = { ...PUSH_ENV, [GIT_TOKEN_VAR]: TOKEN };

function spec(url: string): PushSpec {
  return {
    url,
    branch: 'omni/job-1',
    dir: 'repo',
    message: "Omni job job_1\n\nIt's the agent's work.",
    development: true,
  };
}

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'omni-git-scripts-'));
  home = join(work, 'home');
  await mkdir(home);
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the push script', () => {
  it('commits the changes as Omni and pushes them to the new branch, once', async () => {
    const { bare, url, repo } = await setUp();
    await writeFile(join(repo, 'README.md'), '# Sample\n\nEdited.\n');
    await writeFile(join(repo, 'NEW.md'), 'new\n');
    const line = pushCommand(spec(url));
    expect(line).not.toContain(TOKEN);
    const first = await sh(line, work, pushEnv);
    expect(first.exitCode, first.output).toBe(0);
    const outcome = pushOutcome(first.output);
    const sha = await git(bare, 'rev-parse', 'refs/heads/omni/job-1');
    expect(outcome).toEqual({ pushed: true, commitSha: sha, changedFiles: 2 });
    expect(await git(bare, 'log', '-1', '--format=%an <%ae>|%cn <%ce>|%B', sha)).toBe(
      "Omni <omni@users.noreply.github.com>|Omni <omni@users.noreply.github.com>|Omni job job_1\n\nIt's the agent's work.",
    );
    expect(await git(bare, 'show', `${sha}:README.md`)).toContain('Edited.');
    expect(await git(bare, 'rev-parse', `${sha}^`)).toBe(await git(bare, 'rev-parse', 'main'));

    // Run again (an eviction before the result was stored): the same commit, nothing new.
    const again = await sh(line, work, pushEnv);
    expect(again.exitCode, again.output).toBe(0);
    expect(pushOutcome(again.output)).toEqual(outcome);
    expect(await git(bare, 'rev-list', '--count', 'refs/heads/omni/job-1')).toBe('2');
  });

  it('pushes nothing when nothing changed', async () => {
    const { bare, url } = await setUp();
    const result = await sh(pushCommand(spec(url)), work, pushEnv);
    expect(result.exitCode, result.output).toBe(0);
    expect(pushOutcome(result.output)).toEqual({ pushed: false });
    expect(await git(bare, 'branch', '--list')).not.toContain('omni/job-1');
  });

  it("pushes the agent's own commits too", async () => {
    const { bare, url, repo } = await setUp();
    await writeFile(join(repo, 'A.md'), 'a\n');
    await git(repo, 'add', '.');
    await git(repo, 'commit', '--quiet', '-m', 'The agent committed');
    const result = await sh(pushCommand(spec(url)), work, pushEnv);
    expect(result.exitCode, result.output).toBe(0);
    expect(pushOutcome(result.output)).toEqual({
      pushed: true,
      commitSha: await git(repo, 'rev-parse', 'HEAD'),
      changedFiles: 1,
    });
    expect(await git(bare, 'log', '-1', '--format=%s', 'refs/heads/omni/job-1')).toBe(
      'The agent committed',
    );
  });

  it("runs none of the checkout's hooks, and no program of it sees the token", async () => {
    const { url, repo } = await setUp();
    const leak = join(work, 'leak');
    const hook = `#!/bin/sh\necho "hook:$${GIT_TOKEN_VAR}" >> ${leak}\n`;
    for (const name of ['pre-commit', 'commit-msg', 'pre-push', 'post-commit']) {
      await writeFile(join(repo, '.git', 'hooks', name), hook);
      await chmod(join(repo, '.git', 'hooks', name), 0o755);
    }
    const monitor = join(work, 'monitor.sh');
    await writeFile(monitor, `#!/bin/sh\necho "fsmonitor:$${GIT_TOKEN_VAR}" >> ${leak}\n`);
    await chmod(monitor, 0o755);
    await git(repo, 'config', 'core.fsmonitor', monitor);
    await writeFile(join(repo, 'B.md'), 'b\n');
    const result = await sh(pushCommand(spec(url)), work, pushEnv);
    expect(result.exitCode, result.output).toBe(0);
    await expect(stat(leak)).rejects.toThrow();
  });

  it('reports a branch that exists with other commits as a permanent failure', async () => {
    const { url, repo } = await setUp();
    await git(repo, 'push', '--quiet', url, 'HEAD:refs/heads/omni/job-1');
    await writeFile(join(work, 'other'), '');
    const other = join(work, 'other-clone');
    await git(work, 'clone', '--quiet', url, other);
    await writeFile(join(other, 'C.md'), 'c\n');
    await git(other, 'add', '.');
    await git(other, 'commit', '--quiet', '-m', 'Someone else');
    await git(other, 'push', '--quiet', url, 'HEAD:refs/heads/omni/job-1');
    await writeFile(join(repo, 'D.md'), 'd\n');
    const result = await sh(pushCommand(spec(url)), work, pushEnv);
    expect(result.exitCode).not.toBe(0);
    expect(pushOutcome(result.output)).toBeNull();
    const failure = pushFailure(result.exitCode, result.output);
    expect(failure.transient).toBe(false);
    expect(failure.message).toContain('the branch exists on GitHub with other commits');
  });
});

describe('the credential helper', () => {
  const fill = async (cwd: string, url: string, request: string) => {
    const settings = credentialSettings(url).flatMap((s) => ['-c', s]);
    const line = `printf '${request}' | git ${settings.map((s) => `'${s.replaceAll("'", `'\\''`)}'`).join(' ')} credential fill`;
    return sh(line, cwd, { [GIT_TOKEN_VAR]: TOKEN });
  };

  it('hands the token to the repository origin from the environment', async () => {
    const result = await fill(
      work,
      'https://github.example/o/r.git',
      'protocol=https\\nhost=github.example\\npath=o/r.git\\n\\n',
    );
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output).toContain('username=x-access-token');
    expect(result.output).toContain(`password=${TOKEN}`);
    expect(credentialSettings('https://github.example/o/r.git').join(' ')).not.toContain(TOKEN);
  });

  it('gives it to no other host, and no helper of the checkout runs', async () => {
    const { repo } = await setUp();
    const leak = join(work, 'leak');
    await git(
      repo,
      'config',
      'credential.helper',
      `!f() { echo "$${GIT_TOKEN_VAR}" > ${leak}; }; f`,
    );
    const other = await fill(
      repo,
      'https://github.example/o/r.git',
      'protocol=https\\nhost=elsewhere.example\\n\\n',
    );
    expect(other.exitCode).not.toBe(0);
    expect(other.output).not.toContain(TOKEN);
    const own = await fill(
      repo,
      'https://github.example/o/r.git',
      'protocol=https\\nhost=github.example\\n\\n',
    );
    expect(own.output).toContain(`password=${TOKEN}`);
    await expect(readFile(leak, 'utf8')).rejects.toThrow();
  });
});
