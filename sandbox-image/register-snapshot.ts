/**
 * Registers sandbox-image/Dockerfile as a Daytona snapshot: the image that Omni's job sandboxes
 * are created from (DAYTONA_SNAPSHOT in wrangler.toml). Daytona builds the image itself from the
 * Dockerfile text; nothing is built or uploaded locally, so no Docker engine is needed here.
 *
 *   DAYTONA_API_KEY=... node sandbox-image/register-snapshot.ts [name] [--replace]
 *
 * Exit codes: 0 registered, or already registered; 1 Daytona refused, could not be reached, or
 * the build failed; 2 invalid arguments or environment.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  Daytona,
  DaytonaAuthenticationError,
  DaytonaConnectionError,
  DaytonaError,
  DaytonaForbiddenError,
  DaytonaNotFoundError,
  Image,
} from '@daytonaio/sdk';
import type { Snapshot } from '@daytonaio/sdk';

const DOCKERFILE = fileURLToPath(new URL('./Dockerfile', import.meta.url));
const DEFAULT_API_URL = 'https://app.daytona.io/api';
const DEFAULT_TARGET = 'us';
/** Matches DAYTONA_SNAPSHOT in wrangler.toml. */
const DEFAULT_NAME = 'omni-sandbox';
/** How long --replace waits for Daytona to finish deleting the old snapshot. */
const DELETE_TIMEOUT_MS = 5 * 60_000;
const DELETE_POLL_MS = 2_000;

type ResourceName = 'cpu' | 'memory' | 'disk';
type ResourceSpec = { env: string; fallback: number; max: number; unit: string };

/** Omni's defaults, and Daytona's per-sandbox maximums (whole numbers only). */
const RESOURCES: Record<ResourceName, ResourceSpec> = {
  cpu: { env: 'OMNI_SNAPSHOT_CPU', fallback: 2, max: 4, unit: 'vCPU' },
  memory: { env: 'OMNI_SNAPSHOT_MEMORY', fallback: 4, max: 8, unit: 'GiB' },
  disk: { env: 'OMNI_SNAPSHOT_DISK', fallback: 8, max: 10, unit: 'GiB' },
};

const USAGE = `Usage: node sandbox-image/register-snapshot.ts [name] [--replace]

Registers sandbox-image/Dockerfile as a Daytona snapshot and streams its build logs.

  name          snapshot name (default: $OMNI_SNAPSHOT, else ${DEFAULT_NAME})
  --replace     delete an existing snapshot of that name and build it again
  -h, --help    show this help

Environment:
  DAYTONA_API_KEY       required; needs the write:snapshots (and, for --replace,
                        delete:snapshots) permissions
  DAYTONA_API_URL       default ${DEFAULT_API_URL}
  DAYTONA_TARGET        region, default ${DEFAULT_TARGET}
  OMNI_SNAPSHOT         snapshot name when none is given on the command line
  OMNI_SNAPSHOT_CPU     vCPUs, 1-${RESOURCES.cpu.max} (default ${RESOURCES.cpu.fallback})
  OMNI_SNAPSHOT_MEMORY  memory in GiB, 1-${RESOURCES.memory.max} (default ${RESOURCES.memory.fallback})
  OMNI_SNAPSHOT_DISK    disk in GiB, 1-${RESOURCES.disk.max} (default ${RESOURCES.disk.fallback})

Exit codes: 0 registered or already present, 1 Daytona error or failed build, 2 bad input.`;

interface Options {
  name: string;
  replace: boolean;
  apiKey: string;
  apiUrl: string;
  target: string;
  resources: Record<ResourceName, number>;
}

/** Invalid arguments or environment: reported without a stack trace, exit code 2. */
class UsageError extends Error {}

type Env = Record<string, string | undefined>;

/** The value of an environment variable, or undefined when it is unset or blank. */
function envValue(env: Env, key: string): string | undefined {
  const value = env[key]?.trim();
  return value ? value : undefined;
}

function parseResource(env: Env, name: ResourceName): number {
  const spec = RESOURCES[name];
  const raw = envValue(env, spec.env);
  if (raw === undefined) return spec.fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > spec.max) {
    throw new UsageError(
      `${spec.env} must be a whole number from 1 to ${spec.max} (${spec.unit}, Daytona's per-sandbox maximum), got "${raw}"`,
    );
  }
  return value;
}

function parseApiUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`DAYTONA_API_URL is not a valid URL: "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`DAYTONA_API_URL must be an http(s) URL, got "${raw}"`);
  }
  // The SDK appends its paths directly ("<apiUrl>/snapshots"), so drop trailing slashes.
  return raw.replace(/\/+$/, '');
}

/** Reads argv and the environment; returns undefined when help was asked for. */
function parseOptions(argv: string[], env: Env): Options | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        replace: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (parsed.values.help) return undefined;
  if (parsed.positionals.length > 1) {
    throw new UsageError(
      `expected at most one snapshot name, got: ${parsed.positionals.join(' ')}`,
    );
  }

  const name = (parsed.positionals[0] ?? envValue(env, 'OMNI_SNAPSHOT') ?? DEFAULT_NAME).trim();
  if (name === '' || /\s/.test(name)) {
    throw new UsageError(
      `the snapshot name must be non-empty and contain no whitespace: "${name}"`,
    );
  }

  const apiKey = envValue(env, 'DAYTONA_API_KEY');
  if (apiKey === undefined) {
    throw new UsageError(
      'DAYTONA_API_KEY is not set. Create an API key with the write:snapshots permission ' +
        '(https://app.daytona.io/dashboard/keys) and run:\n' +
        '  DAYTONA_API_KEY=... node sandbox-image/register-snapshot.ts',
    );
  }

  return {
    name,
    replace: parsed.values.replace,
    apiKey,
    apiUrl: parseApiUrl(envValue(env, 'DAYTONA_API_URL') ?? DEFAULT_API_URL),
    target: envValue(env, 'DAYTONA_TARGET') ?? DEFAULT_TARGET,
    resources: {
      cpu: parseResource(env, 'cpu'),
      memory: parseResource(env, 'memory'),
      disk: parseResource(env, 'disk'),
    },
  };
}

/** Reads the Dockerfile; refuses one that needs a build context (COPY of local files). */
function loadImage(): Image {
  const image = Image.fromDockerfile(DOCKERFILE);
  if (image.contextList.length > 0) {
    const sources = image.contextList.map((c) => c.sourcePath).join(', ');
    throw new Error(
      `${DOCKERFILE} copies local files (${sources}). Uploading a build context needs Daytona ` +
        'object storage, which this script does not use: install what the image needs with RUN instead.',
    );
  }
  return image;
}

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

/** The snapshot called `name`, or undefined if there is none. */
async function findSnapshot(daytona: Daytona, name: string): Promise<Snapshot | undefined> {
  try {
    return await daytona.snapshot.get(name);
  } catch (error) {
    if (error instanceof DaytonaNotFoundError) return undefined;
    throw error;
  }
}

async function waitUntilDeleted(daytona: Daytona, name: string): Promise<void> {
  const deadline = Date.now() + DELETE_TIMEOUT_MS;
  for (;;) {
    const snapshot = await findSnapshot(daytona, name);
    if (!snapshot) return;
    if (Date.now() > deadline) {
      throw new Error(
        `snapshot "${name}" still exists (state ${snapshot.state}) ${DELETE_TIMEOUT_MS / 60_000} minutes after it was deleted`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, DELETE_POLL_MS));
  }
}

function describeResources(r: Record<ResourceName, number>): string {
  return `${r.cpu} vCPU, ${r.memory} GiB memory, ${r.disk} GiB disk`;
}

/** Reports a snapshot that already exists and was not asked to be replaced; returns the exit code. */
function reportExisting(snapshot: Snapshot, options: Options): number {
  const name = snapshot.name;
  if (snapshot.state === 'error' || snapshot.state === 'build_failed') {
    process.stderr.write(
      `register-snapshot: snapshot "${name}" exists but is in state ${snapshot.state}` +
        `${snapshot.errorReason ? ` (${snapshot.errorReason})` : ''}; sandboxes cannot be created from it. ` +
        'Run again with --replace to rebuild it.\n',
    );
    return 1;
  }
  log(`Snapshot "${name}" already exists (state ${snapshot.state}); nothing to do.`);
  if (snapshot.state === 'inactive') {
    log(
      'It is inactive (Daytona deactivates snapshots unused for two weeks): activate it in the ' +
        'Daytona dashboard before running jobs, or rebuild it with --replace.',
    );
  }
  const current = { cpu: snapshot.cpu, memory: snapshot.mem, disk: snapshot.disk };
  const wanted = options.resources;
  if (
    current.cpu !== wanted.cpu ||
    current.memory !== wanted.memory ||
    current.disk !== wanted.disk
  ) {
    log(
      `Its resources (${describeResources(current)}) differ from the requested ones ` +
        `(${describeResources(wanted)}); run again with --replace to apply them.`,
    );
  } else {
    log('Run again with --replace to rebuild it from the current Dockerfile.');
  }
  return 0;
}

async function register(daytona: Daytona, image: Image, options: Options): Promise<number> {
  const { name, resources } = options;
  const existing = await findSnapshot(daytona, name);
  if (existing && !options.replace) return reportExisting(existing, options);
  if (existing) {
    log(`Deleting snapshot "${name}" (id ${existing.id}, state ${existing.state}) to replace it…`);
    await daytona.snapshot.delete(existing);
    await waitUntilDeleted(daytona, name);
  }

  log(
    `Building snapshot "${name}" in region ${options.target} from ${DOCKERFILE} ` +
      `(${describeResources(resources)}). Daytona builds it remotely; this takes a few minutes.`,
  );
  const snapshot = await daytona.snapshot.create(
    { name, image, resources },
    { onLogs: (chunk) => process.stdout.write(`${chunk}\n`) },
  );
  log(
    `Snapshot "${snapshot.name}" is ${snapshot.state} (id ${snapshot.id}). ` +
      `Omni creates job sandboxes from it when DAYTONA_SNAPSHOT="${snapshot.name}".`,
  );
  return 0;
}

/** One line saying what went wrong, without a stack trace. */
function describeError(error: unknown, options: Options): string {
  if (error instanceof DaytonaConnectionError) {
    return `cannot reach the Daytona API at ${options.apiUrl}: ${error.message}. Check DAYTONA_API_URL and the network.`;
  }
  if (error instanceof DaytonaAuthenticationError) {
    return `Daytona rejected DAYTONA_API_KEY: ${error.message}`;
  }
  if (error instanceof DaytonaForbiddenError) {
    return `DAYTONA_API_KEY may not do this (it needs write:snapshots, and delete:snapshots for --replace): ${error.message}`;
  }
  if (error instanceof DaytonaError && error.statusCode) {
    return `Daytona API error (HTTP ${error.statusCode}): ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

async function main(): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`register-snapshot: ${error.message}\nRun with --help for usage.\n`);
    return 2;
  }
  if (!options) {
    log(USAGE);
    return 0;
  }

  let image: Image;
  try {
    image = loadImage();
  } catch (error) {
    process.stderr.write(`register-snapshot: ${describeError(error, options)}\n`);
    return 1;
  }

  const daytona = new Daytona({
    apiKey: options.apiKey,
    apiUrl: options.apiUrl,
    target: options.target,
  });
  try {
    return await register(daytona, image, options);
  } catch (error) {
    process.stderr.write(`register-snapshot: ${describeError(error, options)}\n`);
    return 1;
  } finally {
    // Closes the SDK's event socket so that the process can exit.
    await daytona[Symbol.asyncDispose]().catch(() => undefined);
  }
}

process.exitCode = await main();
