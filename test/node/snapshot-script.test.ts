/**
 * `npm run snapshot` (sandbox-image/snapshot.ts) against local-daytona. local-daytona registers a
 * snapshot without building it (it has no Docker): it is `pending`, then `active`, so what is
 * checked here is the argument checks, the registration request (the Dockerfile text, the
 * resources), the wait until active, the record in snapshot.json, and pruning. The Docker build
 * itself only happens on a real Daytona (npm run test:live does not build one either).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Daytona } from '@daytonaio/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startLocalDaytona, type LocalDaytona } from '../../local-daytona/server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = path.join(ROOT, 'sandbox-image', 'snapshot.ts');
const DOCKERFILE = path.join(ROOT, 'sandbox-image', 'Dockerfile');

let server: LocalDaytona;
let daytona: Daytona;
let stateDir: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function runScript(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SCRIPT, ...args],
      {
        cwd: ROOT,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: process.env['HOME'] ?? '',
          DAYTONA_API_KEY: server.apiKey,
          DAYTONA_API_URL: server.apiUrl,
          OMNI_STATE_DIR: stateDir,
          ...env,
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function snapshotNames(): Promise<string[]> {
  return (await daytona.snapshot.list(1, 100)).items.map((s) => s.name);
}

beforeAll(async () => {
  server = await startLocalDaytona({ apiKey: `test-${crypto.randomUUID()}` });
  daytona = new Daytona({ apiKey: server.apiKey, apiUrl: server.apiUrl, target: 'us' });
  stateDir = await mkdtemp(path.join(tmpdir(), 'omni-snapshot-'));
});

afterAll(async () => {
  await daytona?.[Symbol.asyncDispose]();
  await server?.close();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('arguments', () => {
  it('refuses to run without DAYTONA_API_KEY, with exit code 2', async () => {
    const r = await runScript(['--name', 'omni-sandbox-x'], { DAYTONA_API_KEY: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DAYTONA_API_KEY is not set');
  });

  it.each([
    [[], '--name'],
    [['--name', 'has space'], 'snapshot name'],
    [['--name', 'omni-sandbox-x', '--env', 'qa'], '--env must be one of staging, production'],
    [['--name', 'omni-sandbox-x', '--keep', '3'], 'go with --prune'],
    [['--prune', '--replace'], 'go with --name'],
    [['--prune', '--keep', '0'], '--keep must be a whole number'],
    [['--name', 'omni-sandbox-x', '--timeout-minutes', 'soon'], '--timeout-minutes'],
    [['--bogus'], 'Unknown option'],
  ])('refuses %j with exit code 2', async (args, message) => {
    const r = await runScript(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(await snapshotNames()).not.toContain('omni-sandbox-x');
  });

  it('prints its usage with --help', async () => {
    const r = await runScript(['--help'], { DAYTONA_API_KEY: '' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--prune');
  });
});

describe('building', () => {
  it('registers the Dockerfile, waits until the snapshot is active and records it', async () => {
    const r = await runScript(['--name', 'omni-sandbox-t1', '--env', 'staging']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The SDK's wait loop reported the pending state before the snapshot became active.
    expect(r.stdout).toContain('Creating snapshot omni-sandbox-t1 (pending)');
    expect(r.stdout).toContain('Snapshot "omni-sandbox-t1" is active');
    expect(r.stdout).toContain('under [env.staging.vars]');
    expect(r.stdout).toContain('DAYTONA_SNAPSHOT = "omni-sandbox-t1"');

    const registered = z
      .object({
        state: z.string(),
        cpu: z.number(),
        mem: z.number(),
        disk: z.number(),
        buildInfo: z.object({ dockerfileContent: z.string() }),
      })
      .parse(await daytona.snapshot.get('omni-sandbox-t1'));
    expect(registered.buildInfo.dockerfileContent).toBe(await readFile(DOCKERFILE, 'utf8'));
    expect(registered).toMatchObject({ state: 'active', cpu: 2, mem: 4, disk: 8 });

    const recorded = z
      .record(z.string(), z.object({ name: z.string(), state: z.string(), cpu: z.number() }))
      .parse(JSON.parse(await readFile(path.join(stateDir, 'snapshot.json'), 'utf8')));
    expect(recorded['staging']).toMatchObject({ name: 'omni-sandbox-t1', state: 'active', cpu: 2 });

    // Job sandboxes can be created from it.
    const sandbox = await daytona.create({ snapshot: 'omni-sandbox-t1' });
    await sandbox.delete();
  });

  it('sends the resources given in the environment', async () => {
    const r = await runScript(['--name', 'omni-sandbox-small'], {
      OMNI_SNAPSHOT_CPU: '1',
      OMNI_SNAPSHOT_MEMORY: '2',
      OMNI_SNAPSHOT_DISK: '3',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('under [vars]');
    expect(await daytona.snapshot.get('omni-sandbox-small')).toMatchObject({
      cpu: 1,
      mem: 2,
      disk: 3,
    });
    await daytona.snapshot.delete('omni-sandbox-small');
  });

  it('leaves an existing snapshot alone, and rebuilds it with --replace', async () => {
    const again = await runScript(['--name', 'omni-sandbox-t1']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already exists (state active); not rebuilding it');
    expect(again.stdout).not.toContain('Creating snapshot');

    const replaced = await runScript(['--name', 'omni-sandbox-t1', '--replace']);
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain('Deleting snapshot "omni-sandbox-t1"');
    expect(replaced.stdout).toContain('Creating snapshot omni-sandbox-t1 (pending)');
    expect(replaced.stdout).toContain('Snapshot "omni-sandbox-t1" is active');
  });

  it('says when Daytona cannot be reached, with exit code 1', async () => {
    const r = await runScript(['--name', 'omni-sandbox-x'], {
      DAYTONA_API_URL: 'http://127.0.0.1:9/api',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^snapshot: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('pruning', () => {
  it('keeps the newest N and the names wrangler.toml uses, and deletes the rest', async () => {
    for (const name of ['omni-sandbox-t2', 'omni-sandbox-t3']) {
      expect((await runScript(['--name', name])).code).toBe(0);
    }
    const before = await snapshotNames();
    expect(before).toEqual(
      expect.arrayContaining([
        'omni-sandbox',
        'omni-sandbox-t1',
        'omni-sandbox-t2',
        'omni-sandbox-t3',
      ]),
    );

    const dry = await runScript(['--prune', '--keep', '2', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would delete omni-sandbox-t1');
    expect(dry.stdout).toContain('keep    omni-sandbox-t3');
    expect(await snapshotNames()).toEqual(before);

    const pruned = await runScript(['--prune', '--keep', '2']);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain('deleted omni-sandbox-t1');
    const after = await snapshotNames();
    expect(after).not.toContain('omni-sandbox-t1');
    // omni-sandbox is what wrangler.toml names, and Daytona's defaults do not match the prefix.
    expect(after).toEqual(
      expect.arrayContaining([
        'omni-sandbox',
        'daytona-small',
        'omni-sandbox-t2',
        'omni-sandbox-t3',
      ]),
    );

    const nothing = await runScript(['--prune', '--keep', '2']);
    expect(nothing.stdout).toContain('Nothing to delete.');
  });

  it('never prunes the snapshot it has just built', async () => {
    const r = await runScript([
      '--name',
      'omni-sandbox-t4',
      '--prune',
      '--keep',
      '1',
      '--prefix',
      'omni-sandbox-t',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('deleted omni-sandbox-t2');
    expect(r.stdout).toContain('deleted omni-sandbox-t3');
    expect(await snapshotNames()).toContain('omni-sandbox-t4');
  });
});
