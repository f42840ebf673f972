/**
 * `npm run deploy` and `npm run rollback` in dry runs, against a stand-in for wrangler
 * (`OMNI_WRANGLER`, a shell script that records its arguments and answers the read-only
 * commands): what they would run, and what stops them. Nothing here needs a network.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployedUrl, rollbackTarget } from '../../scripts/lib/deploy-checks.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let configured: string;

// \`deploy\` records the OMNI_VERSION it was given, which the readiness stand-in then reports.
const FAKE = `#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_DIR/calls.log"
case "$1 $2" in
  "secret list") cat "$FAKE_DIR/secrets.json" ;;
  "deployments list") cat "$FAKE_DIR/deployments.json" ;;
  "d1 migrations") echo "Migrations applied" ;;
  "rollback "*) echo "rolled back" ;;
  "deploy --env")
    for arg in "$@"; do case "$arg" in OMNI_VERSION:*) printf '%s' "\${arg#OMNI_VERSION:}" > "$FAKE_DIR/version" ;; esac; done
    echo "Uploaded omni-staging"
    echo "Current Version ID: 0f6c1a52-7c35-4c0e-9a51-0c1f4f6f2a11" ;;
  *) echo "the stand-in does not run: $*" >&2; exit 3 ;;
esac
`;

/** A stand-in of the deployed Worker's /health/ready: \`status\`, with the deployed version. */
let readyStatus = 200;
let server: Server;
let serverUrl: string;

const ALL_SECRETS = ['DAYTONA_API_KEY', 'STREAM_TOKEN_SECRET', 'SECRETS_KEYS', 'SECRETS_KEY_ID'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-deploy-test-'));
  server = createServer((req, res) => {
    void readFile(join(dir, 'version'), 'utf8')
      .catch(() => 'dev')
      .then((version) => {
        res.writeHead(req.url === '/health/ready' ? readyStatus : 404, {
          'content-type': 'application/json',
        });
        res.end(JSON.stringify({ status: readyStatus === 200 ? 'ready' : 'not_ready', version }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  serverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  await writeFile(join(dir, 'wrangler'), FAKE);
  await chmod(join(dir, 'wrangler'), 0o755);
  // wrangler.toml with real-looking database ids, as after docs/DEPLOYMENT.md's first steps.
  const toml = await readFile(join(root, 'wrangler.toml'), 'utf8');
  configured = join(dir, 'wrangler.toml');
  await writeFile(
    configured,
    toml.replace(/0{8}-0{4}-0{4}-0{4}-0{11}([12])/g, '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4$1'),
  );
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  calls: string[];
}

async function run(
  script: 'deploy' | 'rollback',
  args: string[],
  answers: { secrets?: string[]; deployments?: unknown[] },
): Promise<Result> {
  await rm(join(dir, 'calls.log'), { force: true });
  await writeFile(
    join(dir, 'secrets.json'),
    JSON.stringify((answers.secrets ?? []).map((name) => ({ name, type: 'secret_text' }))),
  );
  await writeFile(join(dir, 'deployments.json'), JSON.stringify(answers.deployments ?? []));
  const { code, stdout, stderr } = await new Promise<Omit<Result, 'calls'>>((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'scripts', `${script}.ts`), ...args],
      { cwd: root, env: { ...process.env, OMNI_WRANGLER: join(dir, 'wrangler'), FAKE_DIR: dir } },
      (error, out, err) => {
        const status = error && typeof error.code === 'number' ? error.code : error ? 1 : 0;
        resolve({ code: status, stdout: out, stderr: err });
      },
    );
  });
  const log = await readFile(join(dir, 'calls.log'), 'utf8').catch(() => '');
  return { code, stdout, stderr, calls: log.split('\n').filter(Boolean) };
}

const deployment = (id: string, created: string, versions: [string, number][]) => ({
  id,
  created_on: created,
  source: 'wrangler',
  versions: versions.map(([version_id, percentage]) => ({ version_id, percentage })),
});

describe('npm run deploy -- --dry-run', () => {
  it('checks the secrets, then plans the migrations, the deploy with its version and the smoke test', async () => {
    const r = await run('deploy', ['--env', 'staging', '--dry-run', '--config', configured], {
      secrets: ALL_SECRETS,
    });
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    // Only the read-only command ran.
    expect(r.calls).toEqual([`secret list --env staging --format json --config ${configured}`]);
    const planned = r.stdout.split('\n').filter((l) => l.startsWith('would '));
    expect(planned[0]).toBe('would run: wrangler d1 migrations apply DB --remote --env staging');
    expect(planned[1]).toMatch(
      /^would run: wrangler deploy --env staging --var OMNI_VERSION:[0-9a-f]{12}(-dirty)? --message 'omni [0-9a-f]{12}(-dirty)?'$/,
    );
    expect(planned[2]).toMatch(
      /^would check: GET <the URL wrangler deploy prints>\/health\/ready answers 200 with version [0-9a-f]{12}/,
    );
    expect(planned).toHaveLength(3);
    expect(r.stderr).toContain('warning: the secret SENTRY_DSN is not set');
    expect(r.stderr).toContain('warning: the secret METRICS_TOKEN is not set');
  });

  it('uses --url for the smoke test', async () => {
    const r = await run(
      'deploy',
      [
        '--env',
        'production',
        '--dry-run',
        '--config',
        configured,
        '--url',
        'https://api.example.com/',
      ],
      { secrets: [...ALL_SECRETS, 'SENTRY_DSN', 'METRICS_TOKEN'] },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'would run: wrangler d1 migrations apply DB --remote --env production',
    );
    expect(r.stdout).toContain('would check: GET https://api.example.com/health/ready answers 200');
    expect(r.stderr).not.toContain('is not set');
  });

  it('reports each missing secret and plans nothing', async () => {
    const r = await run('deploy', ['--env', 'staging', '--dry-run', '--config', configured], {
      secrets: ['DAYTONA_API_KEY', 'SECRETS_KEYS'],
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: the secret STREAM_TOKEN_SECRET is not set: npx wrangler secret put STREAM_TOKEN_SECRET --env staging',
    );
    expect(r.stderr).toContain('error: the secret SECRETS_KEY_ID is not set');
    expect(r.stderr).not.toContain('the secret DAYTONA_API_KEY is not set');
    expect(r.stdout).not.toContain('would run');
  });

  it("refuses the repository's wrangler.toml until its database ids are filled in", async () => {
    const r = await run('deploy', ['--env', 'production', '--dry-run'], { secrets: ALL_SECRETS });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'database_id is still the placeholder: set it to the id printed by `wrangler d1 create omni-production`',
    );
    expect(r.stdout).not.toContain('would run');
  });

  it('refuses an environment wrangler.toml does not define, and a missing --env', async () => {
    const unknown = await run('deploy', ['--env', 'qa', '--dry-run', '--config', configured], {});
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No environment found in configuration with name "qa"');
    expect(unknown.calls).toEqual([]);
    const none = await run('deploy', ['--dry-run'], {});
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--env is required');
  });
});

describe('npm run deploy (against the stand-ins)', () => {
  it('runs the migrations and the deploy, then passes the smoke test on the deployed version', async () => {
    readyStatus = 200;
    const r = await run(
      'deploy',
      ['--env', 'staging', '--config', configured, '--url', serverUrl, '--smoke-seconds', '30'],
      { secrets: [...ALL_SECRETS, 'SENTRY_DSN', 'METRICS_TOKEN'] },
    );
    expect(r.stderr).not.toMatch(/error|FAILED/);
    expect(r.code).toBe(0);
    expect(r.calls.map((c) => c.split(' --config ')[0])).toEqual([
      'secret list --env staging --format json',
      'd1 migrations apply DB --remote --env staging',
      expect.stringMatching(/^deploy --env staging --var OMNI_VERSION:[0-9a-f]{12}(-dirty)? /),
    ]);
    const version = await readFile(join(dir, 'version'), 'utf8');
    expect(r.stdout).toContain(
      `smoke test passed: GET ${serverUrl}/health/ready → 200, version ${version}`,
    );
  });

  it('fails loudly when /health/ready does not answer 200, and says how to roll back', async () => {
    readyStatus = 503;
    const r = await run(
      'deploy',
      ['--env', 'staging', '--config', configured, '--url', serverUrl, '--smoke-seconds', '0'],
      { secrets: ALL_SECRETS },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `smoke test FAILED: GET ${serverUrl}/health/ready did not answer 200`,
    );
    expect(r.stderr).toContain('last answer: HTTP 503');
    expect(r.stderr).toContain('npm run rollback -- --env staging');
  });
});

describe('npm run rollback -- --dry-run', () => {
  const history = [
    deployment('d1', '2026-11-20T10:00:00Z', [['v-old', 100]]),
    deployment('d2', '2026-11-25T10:00:00Z', [['v-prev', 100]]),
    deployment('d3', '2026-11-30T10:00:00Z', [['v-cur', 100]]),
  ];

  it('plans the rollback to the version deployed before the current one', async () => {
    const r = await run('rollback', ['--env', 'production', '--dry-run', '--config', configured], {
      deployments: history,
    });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([`deployments list --json --env production --config ${configured}`]);
    expect(r.stdout).toContain(
      "would run: wrangler rollback v-prev --env production --yes --message 'npm run rollback from v-cur'",
    );
  });

  it('says so when there is nothing to go back to', async () => {
    const r = await run('rollback', ['--env', 'staging', '--dry-run', '--config', configured], {
      deployments: [history[0]],
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('there is no earlier version to roll back to');
    expect(r.stdout).not.toContain('would run');
  });
});

describe('what the scripts read from wrangler', () => {
  it('the rollback target skips split deployments and earlier deployments of the same version', () => {
    const listed = JSON.stringify([
      deployment('a', '2026-11-01T00:00:00Z', [['v1', 100]]),
      deployment('b', '2026-11-02T00:00:00Z', [
        ['v1', 50],
        ['v2', 50],
      ]),
      deployment('c', '2026-11-03T00:00:00Z', [['v2', 100]]),
      deployment('d', '2026-11-04T00:00:00Z', [['v2', 100]]),
    ]);
    expect(rollbackTarget(`banner\n${listed}`)).toEqual({ current: 'v2', previous: 'v1' });
  });

  it("the deployed URL is wrangler's workers.dev address", () => {
    const output = [
      'Total Upload: 3844.67 KiB / gzip: 600.72 KiB',
      'Uploaded omni-staging (5.10 sec)',
      'Deployed omni-staging triggers (1.20 sec)',
      '  https://omni-staging.acme.workers.dev',
      '  schedule: */10 * * * *',
      'Current Version ID: 0f6c1a52-7c35-4c0e-9a51-0c1f4f6f2a11',
    ].join('\n');
    expect(deployedUrl(output)).toBe('https://omni-staging.acme.workers.dev');
    expect(deployedUrl('Uploaded omni-staging\nDeployed omni-staging triggers')).toBeNull();
  });
});
