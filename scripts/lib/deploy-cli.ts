/**
 * What `npm run deploy` and `npm run rollback` share: their options, running wrangler (or a
 * stand-in named by `OMNI_WRANGLER`, which the tests use), dry runs, and the readiness smoke test.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** The options both scripts take. */
export interface DeployOptions {
  env: string;
  dryRun: boolean;
  url: string | null;
  /** How long the smoke test waits for `/health/ready` to answer 200. */
  smokeSeconds: number;
  config: string;
}

/** Parses the options; a mistake prints `usage` and exits with status 2. */
export function readOptions(argv: string[], usage: string): DeployOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        env: { type: 'string', short: 'e' },
        'dry-run': { type: 'boolean', default: false },
        url: { type: 'string' },
        'smoke-seconds': { type: 'string' },
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error), usage);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  if (!values.env) fail('--env is required (staging or production)', usage);
  if (!/^[a-z][a-z0-9-]*$/.test(values.env))
    fail(`--env ${values.env} is not an environment name`, usage);
  if (values.url !== undefined && !URL.canParse(values.url)) fail('--url is not a URL', usage);
  const smokeSeconds = Number(values['smoke-seconds'] ?? 90);
  if (!Number.isInteger(smokeSeconds) || smokeSeconds < 0) {
    fail('--smoke-seconds must be a whole number of seconds', usage);
  }
  return {
    env: values.env,
    dryRun: values['dry-run'],
    url: values.url?.replace(/\/+$/, '') ?? null,
    smokeSeconds,
    config: values.config ?? `${root}wrangler.toml`,
  };
}

function fail(message: string, usage: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
}

/** The wrangler command: `OMNI_WRANGLER` (an executable) if set, else the project's wrangler. */
function wranglerCommand(): [string, string[]] {
  const stand = process.env.OMNI_WRANGLER;
  if (stand) return [stand, []];
  return [process.execPath, [`${root}node_modules/wrangler/bin/wrangler.js`]];
}

/** What a wrangler command printed, and how it ended. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs wrangler with `args` (the config file added), echoing its output when `echo` is set.
 * Output is captured either way, so that it can be parsed.
 */
export function runWrangler(args: string[], config: string, echo: boolean): Promise<Ran> {
  const [command, prefix] = wranglerCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, ...args, '--config', config], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Non-interactive: wrangler skips its confirmation prompts (d1 migrations apply).
      env: { ...process.env, CI: process.env.CI ?? 'true' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (echo) process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (echo) process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** `wrangler …` as a shell line, for plans and logs. */
export function show(args: string[]): string {
  return ['wrangler', ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(' ');
}

/**
 * Runs a read-only wrangler command (a dry run runs these too: they change nothing) and returns
 * its standard output; a failure ends the script with its output.
 */
export async function query(args: string[], config: string): Promise<string> {
  console.log(`$ ${show(args)}`);
  const ran = await runWrangler(args, config, false);
  if (ran.code !== 0) {
    console.error(ran.stdout + ran.stderr);
    throw new Error(`${show(args)} failed (exit ${ran.code})`);
  }
  return ran.stdout;
}

/**
 * Runs a wrangler command that changes the deployment, or only prints it in a dry run (then
 * returns null). A failure ends the script.
 */
export async function change(args: string[], options: DeployOptions): Promise<string | null> {
  if (options.dryRun) {
    console.log(`would run: ${show(args)}`);
    return null;
  }
  console.log(`$ ${show(args)}`);
  const ran = await runWrangler(args, options.config, true);
  if (ran.code !== 0) throw new Error(`${show(args)} failed (exit ${ran.code})`);
  return ran.stdout + ran.stderr;
}

/**
 * Polls `GET {url}/health/ready` until it answers 200 (and, when `version` is given, reports that
 * version: the new one may take some seconds to reach every location), for at most `seconds`.
 * @throws Error with the last answer when it never did.
 */
export async function smokeTest(
  url: string,
  version: string | null,
  seconds: number,
): Promise<void> {
  const target = `${url}/health/ready`;
  const deadline = Date.now() + seconds * 1000;
  let last = '';
  for (;;) {
    try {
      const response = await fetch(target, { signal: AbortSignal.timeout(10_000) });
      const body = await response.text();
      const reported = /"version"\s*:\s*"([^"]*)"/.exec(body)?.[1] ?? null;
      last = `HTTP ${response.status}: ${body.slice(0, 500)}`;
      if (response.status === 200 && (version === null || reported === version)) {
        console.log(`smoke test passed: GET ${target} → 200, version ${reported ?? 'unknown'}`);
        return;
      }
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
  throw new Error(
    `smoke test FAILED: GET ${target} did not answer 200${version ? ` with version ${version}` : ''} within ${seconds} s; last answer: ${last}`,
  );
}
