/**
 * The local stack of `npm run soak`, built so that the runtime can crash and come back:
 * local-daytona in this process (its request log goes to a file), the D1 migrations and a tenant
 * key in a persistence directory, and `wrangler dev` on loopback, which {@link SoakRuntime.crash}
 * kills with SIGKILL and {@link SoakRuntime.start} starts again on the same port and the same
 * directory, as a runtime that crashed and was restarted would. dev-stack.ts starts `wrangler
 * dev` once for good, which is why the command line is assembled here too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startLocalDaytona, type LocalDaytona } from '../../local-daytona/server.ts';
import { freePort, wrangler } from './dev-stack.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const wranglerBin = fileURLToPath(
  new URL('../../node_modules/wrangler/bin/wrangler.js', import.meta.url),
);
const createKey = fileURLToPath(new URL('../create-key.ts', import.meta.url));

/** A /health answer slower than this, while the runtime is up, counts as a stall. */
const SLOW_HEALTH_MS = 2000;

/** The tenant the soak's jobs belong to. */
const SOAK_TENANT = 'ten_soak';

interface SoakRuntimeOptions {
  /** Directory for local D1 and Durable Object state, kept across restarts. */
  persistTo: string;
  /** Where wrangler's output and local-daytona's request log are appended. */
  logFile: string;
  /** Worker settings passed with `--var`. */
  vars: Record<string, string>;
}

/** True while any process of the group `pid` leads is alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** When the runtime was crashed, and when it answered again (Unix ms). */
export interface Restart {
  crashedAt: number;
  upAt: number;
}

/** local-daytona plus a `wrangler dev` that can be crashed and started again. */
export class SoakRuntime {
  readonly url: string;
  readonly apiKey: string;
  readonly daytona: LocalDaytona;
  /** Times start() brought the runtime up again after a crash. */
  restarts = 0;
  /** Times wrangler said it reloaded the Worker on its own (a file of the project changed). */
  reloads = 0;
  readonly #port: number;
  readonly #options: SoakRuntimeOptions;
  readonly #log: WriteStream;
  #child: ChildProcess | null = null;
  /** True from a crash until the runtime answers again. */
  #down = false;
  #watching = false;
  /** /health answers slower than {@link SLOW_HEALTH_MS} while the runtime was up. */
  readonly stalls: { at: number; ms: number }[] = [];

  private constructor(
    daytona: LocalDaytona,
    apiKey: string,
    port: number,
    options: SoakRuntimeOptions,
    log: WriteStream,
  ) {
    this.daytona = daytona;
    this.apiKey = apiKey;
    this.#port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.#options = options;
    this.#log = log;
  }

  /** Starts local-daytona, prepares D1 (migrations, tenant, key) and starts `wrangler dev`. */
  static async open(options: SoakRuntimeOptions): Promise<SoakRuntime> {
    const log = createWriteStream(options.logFile, { flags: 'a' });
    const daytona = await startLocalDaytona({
      apiKey: `local-${crypto.randomUUID()}`,
      onRequest: (e) =>
        log.write(`daytona ${e.time} ${e.method} ${e.path} ${e.status} ${e.ms}ms\n`),
    });
    try {
      await wrangler([
        'd1',
        'migrations',
        'apply',
        'DB',
        '--local',
        '--persist-to',
        options.persistTo,
      ]);
      const apiKey = await run(createKey, [
        ...['--tenant', SOAK_TENANT, '--tenant-name', 'Soak', '--name', 'soak'],
        ...['--local', '--persist-to', options.persistTo],
      ]);
      const vars = {
        ENVIRONMENT: 'development',
        DAYTONA_API_URL: daytona.apiUrl,
        DAYTONA_API_KEY: daytona.apiKey,
        STREAM_TOKEN_SECRET: `${crypto.randomUUID()}${crypto.randomUUID()}`,
        ...options.vars,
      };
      const runtime = new SoakRuntime(
        daytona,
        apiKey.trim(),
        await freePort(),
        { ...options, vars },
        log,
      );
      await runtime.start();
      return runtime;
    } catch (error) {
      await daytona.close();
      log.end();
      throw error;
    }
  }

  /** Starts `wrangler dev` and resolves once it answers /health (within 120 s). */
  async start(): Promise<void> {
    if (this.#child) throw new Error('wrangler dev is already running');
    const args = [
      ...[wranglerBin, 'dev', '--ip', '127.0.0.1', '--port', String(this.#port)],
      ...['--inspector-port', String(await freePort()), '--persist-to', this.#options.persistTo],
      '--show-interactive-dev-session=false',
      ...Object.entries(this.#options.vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
    ];
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that a crash takes workerd (its child) down with it.
      detached: true,
    });
    this.#child = child;
    const onData = (d: Buffer) => {
      const text = d.toString();
      if (/reloading local server/i.test(text)) this.reloads++;
      this.#log.write(text);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode})`);
      const ok = await fetch(`${this.url}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) {
        this.#down = false;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`wrangler dev did not answer ${this.url}/health within 120 s`);
  }

  /** Kills `wrangler dev` and workerd at once (SIGKILL), as a crash would. */
  async crash(): Promise<void> {
    this.#down = true;
    await this.#kill('SIGKILL');
  }

  /**
   * Asks /health twice a second until unwatch(), recording answers slower than 2 s while the
   * runtime is meant to be up: the whole runtime stalling shows here, apart from any one job.
   */
  watch(): void {
    this.#watching = true;
    void (async () => {
      while (this.#watching) {
        const at = Date.now();
        const ok = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(120_000) }).then(
          (r) => r.ok,
          () => false,
        );
        const ms = Date.now() - at;
        if (!this.#down && (!ok || ms > SLOW_HEALTH_MS)) this.stalls.push({ at, ms });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
  }

  unwatch(): void {
    this.#watching = false;
  }

  /** Crashes the runtime and starts it again. */
  async restart(): Promise<Restart> {
    const crashedAt = Date.now();
    await this.crash();
    await this.start();
    this.restarts++;
    return { crashedAt, upAt: Date.now() };
  }

  /** Stops `wrangler dev` (SIGTERM, then SIGKILL) and local-daytona. */
  async close(): Promise<void> {
    this.#watching = false;
    this.#down = true;
    await this.#kill('SIGTERM');
    await this.daytona.close();
    await new Promise((resolve) => this.#log.end(resolve));
  }

  async #kill(signal: NodeJS.Signals): Promise<void> {
    const pid = this.#child?.pid;
    this.#child = null;
    if (pid === undefined || !groupAlive(pid)) return;
    process.kill(-pid, signal);
    const deadline = Date.now() + 10_000;
    while (groupAlive(pid) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
    while (groupAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs a Node script to completion and resolves with its stdout. */
function run(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${script} failed (${code}):\n${err}`)),
    );
  });
}
