/**
 * Starts Omni locally on the embedded defaults: local-daytona on loopback, local D1 with the
 * migrations applied and a development API key, and `wrangler dev` pointed at both. Used by
 * `npm start`, `npm run demo`, `npm run bench` and the end-to-end tests.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startLocalDaytona, type LocalDaytona } from '../../local-daytona/server.ts';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../../worker/lib/api-keys.ts';
import { ensureWebBuilt } from './web-build.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const wranglerBin = fileURLToPath(
  new URL('../../node_modules/wrangler/bin/wrangler.js', import.meta.url),
);

export const DEV_TENANT_ID = 'ten_development';

interface DevStackOptions {
  /** Port of the API; 0 picks a free one. */
  port: number;
  /** Port of local-daytona; 0 picks a free one. */
  daytonaPort?: number;
  /** Directory for local D1 and Durable Object state (`wrangler --persist-to`). */
  persistTo: string;
  /** Receives wrangler's output lines (default: dropped). */
  onOutput?: (line: string) => void;
  /** More Worker settings, e.g. JWT_* for the benchmark. */
  vars?: Record<string, string>;
}

export interface DevStack {
  url: string;
  apiKey: string;
  daytona: LocalDaytona;
  /** The `wrangler dev` process; workerd runs as its descendant (memory figures read it). */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Runs wrangler to completion; rejects with its output if it fails. */
export function wrangler(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wranglerBin, ...args], {
      cwd: root,
      env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`wrangler ${args[0]} failed (${code}):\n${output}`)),
    );
  });
}

/**
 * SECRETS_KEYS and SECRETS_KEY_ID of the local stack. The key is made once and kept next to the
 * local D1 database, so secrets stored in one run still decrypt in the next.
 */
async function devSecretsKeys(persistTo: string): Promise<{ keys: string; id: string }> {
  const file = path.join(persistTo, 'secrets-key');
  let key = await readFile(file, 'utf8').catch(() => '');
  if (!key) {
    key = randomBytes(32).toString('base64');
    await mkdir(persistTo, { recursive: true });
    await writeFile(file, key, { mode: 0o600 });
  }
  return { keys: JSON.stringify({ dev: key.trim() }), id: 'dev' };
}

/**
 * The version GET /health/ready reports (`OMNI_VERSION`): the checked-out commit, marked
 * `-dirty` when the tree has changes; "dev" outside a git checkout.
 */
export function gitVersion(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=12'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'dev';
  }
}

/** Applies the D1 migrations and creates the development tenant and a fresh API key. */
async function prepareDatabase(persistTo: string): Promise<string> {
  await wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo]);
  const apiKey = generateApiKey();
  const now = Date.now();
  const sql = [
    `INSERT OR IGNORE INTO tenants (id, name, created_at) VALUES ('${DEV_TENANT_ID}', 'Development', ${now});`,
    // One development key at a time: earlier ones are revoked.
    `UPDATE api_keys SET revoked_at = ${now} WHERE tenant_id = '${DEV_TENANT_ID}' AND name = 'development' AND revoked_at IS NULL;`,
    `INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, role, created_at) VALUES ('key_${crypto.randomUUID().replaceAll('-', '')}', '${DEV_TENANT_ID}', 'development', '${apiKeyPrefix(apiKey)}', '${await hashApiKey(apiKey)}', 'owner', ${now});`,
  ].join(' ');
  await wrangler(['d1', 'execute', 'DB', '--local', '--persist-to', persistTo, '--command', sql]);
  return apiKey;
}

async function waitForHealth(
  url: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`wrangler dev exited (${child.exitCode}):\n${output()}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`wrangler dev did not answer ${url}/health within 90 s:\n${output()}`);
}

/** Starts the whole local stack and resolves once the API answers. */
export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  // wrangler dev refuses to start without the `[assets]` directory.
  await ensureWebBuilt();
  const daytona = await startLocalDaytona({
    apiKey: `local-${crypto.randomUUID()}`,
    port: options.daytonaPort ?? 0,
  });
  try {
    const apiKey = await prepareDatabase(options.persistTo);
    const secretsKeys = await devSecretsKeys(options.persistTo);
    const port = options.port || (await freePort());
    const inspectorPort = await freePort();
    const child = spawn(
      process.execPath,
      [
        wranglerBin,
        'dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--inspector-port',
        String(inspectorPort),
        '--persist-to',
        options.persistTo,
        '--show-interactive-dev-session=false',
        '--var',
        'ENVIRONMENT:development',
        '--var',
        `DAYTONA_API_URL:${daytona.apiUrl}`,
        '--var',
        `DAYTONA_API_KEY:${daytona.apiKey}`,
        '--var',
        `STREAM_TOKEN_SECRET:${crypto.randomUUID()}${crypto.randomUUID()}`,
        '--var',
        `SECRETS_KEYS:${secretsKeys.keys}`,
        '--var',
        `SECRETS_KEY_ID:${secretsKeys.id}`,
        '--var',
        `OMNI_VERSION:${gitVersion()}`,
        ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => [
          '--var',
          `${name}:${value}`,
        ]),
      ],
      {
        cwd: root,
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    let output = '';
    const onData = (d: Buffer) => {
      const text = d.toString();
      output = (output + text).slice(-20_000);
      for (const line of text.split('\n')) if (line.trim()) options.onOutput?.(line);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const url = `http://127.0.0.1:${port}`;
    const stopWrangler = async () => {
      const pid = child.pid;
      if (pid === undefined) return;
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        // wrangler runs workerd as a child: signal the whole process group.
        process.kill(-pid, 'SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      }
      // The launcher can exit on SIGTERM before its children do: end what is left of the group.
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // The group is gone already.
      }
    };
    try {
      await waitForHealth(url, child, () => output);
    } catch (error) {
      await stopWrangler();
      throw error;
    }
    const stop = async () => {
      await stopWrangler();
      await daytona.close();
    };
    return { url, apiKey, daytona, pid: child.pid, stop };
  } catch (error) {
    await daytona.close();
    throw error;
  }
}
