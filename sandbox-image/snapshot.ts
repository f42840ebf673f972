/**
 * Builds sandbox-image/Dockerfile as a Daytona snapshot: the image that Omni's job sandboxes are
 * created from (DAYTONA_SNAPSHOT in wrangler.toml). Daytona builds the image itself from the
 * Dockerfile text; nothing is built or uploaded locally, so no Docker engine is needed here.
 * It waits (bounded) until the snapshot is active, records it in .omni/snapshot.json and prints
 * the wrangler.toml line that makes jobs use it. `--prune` deletes old snapshots.
 *
 *   DAYTONA_API_KEY=... npm run snapshot -- --name omni-sandbox-20261201 [--env staging]
 *   DAYTONA_API_KEY=... npm run snapshot -- --prune [--keep 2] [--dry-run]
 *
 * Exit codes: 0 done (built, already present, pruned); 1 Daytona refused, could not be reached,
 * the build failed or did not finish in time; 2 invalid arguments or environment.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
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

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCKERFILE = fileURLToPath(new URL('./Dockerfile', import.meta.url));
const WRANGLER_TOML = path.join(ROOT, 'wrangler.toml');
const DEFAULT_API_URL = 'https://app.daytona.io/api';
const DEFAULT_TARGET = 'us';
/** Snapshot names `--prune` considers; every Omni snapshot is named so. */
const DEFAULT_PREFIX = 'omni-sandbox-';
/** The current snapshot and the previous one, so that a rollback still finds its snapshot. */
const DEFAULT_KEEP = 2;
const DEFAULT_TIMEOUT_MINUTES = 30;
const ENVIRONMENTS = ['staging', 'production'] as const;
/** How long --replace waits for Daytona to finish deleting the old snapshot. */
const DELETE_TIMEOUT_MS = 5 * 60_000;
const POLL_MS = 2_000;
/** How often a line says the build is still running. */
const PROGRESS_MS = 30_000;

type ResourceName = 'cpu' | 'memory' | 'disk';
type ResourceSpec = { env: string; fallback: number; max: number; unit: string };

/** Omni's defaults, and Daytona's per-sandbox maximums (whole numbers only). */
const RESOURCES: Record<ResourceName, ResourceSpec> = {
  cpu: { env: 'OMNI_SNAPSHOT_CPU', fallback: 2, max: 4, unit: 'vCPU' },
  memory: { env: 'OMNI_SNAPSHOT_MEMORY', fallback: 4, max: 8, unit: 'GiB' },
  disk: { env: 'OMNI_SNAPSHOT_DISK', fallback: 8, max: 10, unit: 'GiB' },
};

const USAGE = `Usage: npm run snapshot -- --name NAME [--env ENV] [--replace] [--timeout-minutes N]
       npm run snapshot -- --prune [--keep N] [--prefix P] [--dry-run]

Builds sandbox-image/Dockerfile as a Daytona snapshot, waits until it is active, records it in
.omni/snapshot.json and prints the DAYTONA_SNAPSHOT line for wrangler.toml. With --prune it
deletes old snapshots instead (both can be given: build first, then prune).

  --name NAME           snapshot name, e.g. omni-sandbox-20261201
  --env ENV             staging or production: the environment the printed line is for
  --replace             delete an existing snapshot of that name and build it again
  --timeout-minutes N   how long to wait for the build (default ${DEFAULT_TIMEOUT_MINUTES})
  --prune               delete snapshots named PREFIX* except the newest N and every name
                        wrangler.toml's DAYTONA_SNAPSHOT uses
  --keep N              how many of the newest to keep (default ${DEFAULT_KEEP})
  --prefix P            names --prune considers (default ${DEFAULT_PREFIX})
  --dry-run             with --prune: list what would be deleted, delete nothing
  -h, --help            show this help

Environment:
  DAYTONA_API_KEY       required; needs write:snapshots (and delete:snapshots for --replace
                        and --prune)
  DAYTONA_API_URL       default ${DEFAULT_API_URL}
  DAYTONA_TARGET        region, default ${DEFAULT_TARGET}
  OMNI_SNAPSHOT_CPU     vCPUs, 1-${RESOURCES.cpu.max} (default ${RESOURCES.cpu.fallback})
  OMNI_SNAPSHOT_MEMORY  memory in GiB, 1-${RESOURCES.memory.max} (default ${RESOURCES.memory.fallback})
  OMNI_SNAPSHOT_DISK    disk in GiB, 1-${RESOURCES.disk.max} (default ${RESOURCES.disk.fallback})
  OMNI_STATE_DIR        where snapshot.json is written (default .omni)

Exit codes: 0 done, 1 Daytona error, failed or unfinished build, 2 bad input.`;

interface Options {
  name: string | undefined;
  env: (typeof ENVIRONMENTS)[number] | undefined;
  replace: boolean;
  timeoutMs: number;
  prune: boolean;
  keep: number;
  prefix: string;
  dryRun: boolean;
  apiKey: string;
  apiUrl: string;
  target: string;
  stateDir: string;
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

function wholeNumber(raw: string, what: string, min: number, max: number): number {
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${what} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function parseResource(env: Env, name: ResourceName): number {
  const spec = RESOURCES[name];
  const raw = envValue(env, spec.env);
  if (raw === undefined) return spec.fallback;
  return wholeNumber(raw, `${spec.env} (${spec.unit}, Daytona's per-sandbox maximum)`, 1, spec.max);
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

function parseName(raw: string): string {
  const name = raw.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(name)) {
    throw new UsageError(
      `the snapshot name must start with a letter or digit and hold only letters, digits and . _ : -, got "${raw}"`,
    );
  }
  return name;
}

function parseEnvName(raw: string | undefined): Options['env'] {
  if (raw === undefined) return undefined;
  const found = ENVIRONMENTS.find((e) => e === raw);
  if (!found) throw new UsageError(`--env must be one of ${ENVIRONMENTS.join(', ')}, got "${raw}"`);
  return found;
}

/** Reads argv and the environment; returns undefined when help was asked for. */
function parseOptions(argv: string[], env: Env): Options | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
        name: { type: 'string' },
        env: { type: 'string' },
        replace: { type: 'boolean', default: false },
        'timeout-minutes': { type: 'string' },
        prune: { type: 'boolean', default: false },
        keep: { type: 'string' },
        prefix: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  if (v.help) return undefined;

  const name = v.name === undefined ? undefined : parseName(v.name);
  if (name === undefined && !v.prune) {
    throw new UsageError(
      'give the snapshot to build with --name (e.g. --name omni-sandbox-20261201), or --prune',
    );
  }
  if (!v.prune && (v.keep !== undefined || v.prefix !== undefined || v['dry-run'])) {
    throw new UsageError('--keep, --prefix and --dry-run go with --prune');
  }
  if (
    name === undefined &&
    (v.replace || v.env !== undefined || v['timeout-minutes'] !== undefined)
  ) {
    throw new UsageError('--env, --replace and --timeout-minutes go with --name');
  }
  const prefix = v.prefix ?? DEFAULT_PREFIX;
  if (prefix.trim() === '') throw new UsageError('--prefix must not be empty');

  const apiKey = envValue(env, 'DAYTONA_API_KEY');
  if (apiKey === undefined) {
    throw new UsageError(
      'DAYTONA_API_KEY is not set. Create an API key with the write:snapshots and delete:snapshots ' +
        'permissions (https://app.daytona.io/dashboard/keys) and run:\n' +
        '  DAYTONA_API_KEY=... npm run snapshot -- --name omni-sandbox-YYYYMMDD',
    );
  }

  return {
    name,
    env: parseEnvName(v.env),
    replace: v.replace,
    timeoutMs:
      wholeNumber(
        v['timeout-minutes'] ?? String(DEFAULT_TIMEOUT_MINUTES),
        '--timeout-minutes',
        1,
        240,
      ) * 60_000,
    prune: v.prune,
    keep: wholeNumber(v.keep ?? String(DEFAULT_KEEP), '--keep', 1, 100),
    prefix,
    dryRun: v['dry-run'],
    apiKey,
    apiUrl: parseApiUrl(envValue(env, 'DAYTONA_API_URL') ?? DEFAULT_API_URL),
    target: envValue(env, 'DAYTONA_TARGET') ?? DEFAULT_TARGET,
    stateDir: path.resolve(ROOT, envValue(env, 'OMNI_STATE_DIR') ?? '.omni'),
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
    await sleep(POLL_MS);
  }
}

function describeResources(r: Record<ResourceName, number>): string {
  return `${r.cpu} vCPU, ${r.memory} GiB memory, ${r.disk} GiB disk`;
}

/** Reports a snapshot that already exists and was not asked to be replaced; false if unusable. */
function reportExisting(snapshot: Snapshot, options: Options): boolean {
  const name = snapshot.name;
  if (snapshot.state === 'error' || snapshot.state === 'build_failed') {
    process.stderr.write(
      `snapshot: snapshot "${name}" exists but is in state ${snapshot.state}` +
        `${snapshot.errorReason ? ` (${snapshot.errorReason})` : ''}; sandboxes cannot be created from it. ` +
        'Run again with --replace to rebuild it, or build under a new name.\n',
    );
    return false;
  }
  log(`Snapshot "${name}" already exists (state ${snapshot.state}); not rebuilding it.`);
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
        `(${describeResources(wanted)}); build under a new name (or --replace) to apply them.`,
    );
  }
  return true;
}

/** Daytona's create, which waits until the snapshot is active; bounded by `timeoutMs`. */
async function createAndWait(
  daytona: Daytona,
  image: Image,
  name: string,
  options: Options,
): Promise<Snapshot> {
  const started = Date.now();
  const progress = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    log(
      `… still building "${name}" after ${seconds} s (gives up after ${options.timeoutMs / 60_000} min)`,
    );
  }, PROGRESS_MS);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new Error(
          `snapshot "${name}" is not active after ${options.timeoutMs / 60_000} minutes. Daytona ` +
            'goes on building it: run the same command again later to see its state.',
        ),
      );
    }, options.timeoutMs);
  });
  try {
    return await Promise.race([
      daytona.snapshot.create(
        { name, image, resources: options.resources },
        { onLogs: (chunk) => process.stdout.write(`${chunk}\n`) },
      ),
      timeout,
    ]);
  } finally {
    clearInterval(progress);
    clearTimeout(timer);
  }
}

/** What .omni/snapshot.json holds: the snapshot last built, per environment. */
interface SnapshotRecord {
  name: string;
  id: string;
  state: string;
  cpu: number;
  memory: number;
  disk: number;
  dockerfileSha256: string;
  apiUrl: string;
  target: string;
  recordedAt: string;
}

function record(snapshot: Snapshot, options: Options): string {
  const file = path.join(options.stateDir, 'snapshot.json');
  let all: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      all = { ...parsed };
    }
  } catch {
    // No record yet, or an unreadable one: start again.
  }
  const entry: SnapshotRecord = {
    name: snapshot.name,
    id: snapshot.id,
    state: snapshot.state,
    cpu: snapshot.cpu,
    memory: snapshot.mem,
    disk: snapshot.disk,
    dockerfileSha256: createHash('sha256').update(readFileSync(DOCKERFILE)).digest('hex'),
    apiUrl: options.apiUrl,
    target: options.target,
    recordedAt: new Date().toISOString(),
  };
  all[options.env ?? 'default'] = entry;
  mkdirSync(options.stateDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
  return file;
}

function printUsage(snapshot: Snapshot, options: Options, file: string): void {
  const section = options.env ? `[env.${options.env}.vars]` : '[vars] (and each [env.*.vars])';
  log(`Snapshot "${snapshot.name}" is ${snapshot.state} (id ${snapshot.id}); recorded in ${file}.`);
  log(`Jobs use it once wrangler.toml has, under ${section}:`);
  log(`  DAYTONA_SNAPSHOT = "${snapshot.name}"`);
  log(
    `and SANDBOX_DEFAULT_CPU = "${snapshot.cpu}", SANDBOX_DEFAULT_MEMORY_GIB = "${snapshot.mem}", ` +
      `SANDBOX_DEFAULT_DISK_GIB = "${snapshot.disk}"; then deploy` +
      (options.env ? ` (npm run deploy -- --env ${options.env}).` : '.'),
  );
  log(
    'Keep the previous snapshot until that deploy is verified; then npm run snapshot -- --prune.',
  );
}

async function build(
  daytona: Daytona,
  image: Image,
  name: string,
  options: Options,
): Promise<boolean> {
  const existing = await findSnapshot(daytona, name);
  let snapshot: Snapshot;
  if (existing && !options.replace) {
    if (!reportExisting(existing, options)) return false;
    snapshot = existing;
  } else {
    if (existing) {
      log(
        `Deleting snapshot "${name}" (id ${existing.id}, state ${existing.state}) to replace it…`,
      );
      await daytona.snapshot.delete(existing);
      await waitUntilDeleted(daytona, name);
    }
    log(
      `Building snapshot "${name}" in region ${options.target} from ${DOCKERFILE} ` +
        `(${describeResources(options.resources)}). Daytona builds it remotely; this takes a few minutes.`,
    );
    snapshot = await createAndWait(daytona, image, name, options);
  }
  printUsage(snapshot, options, record(snapshot, options));
  return true;
}

/** Every snapshot of the organisation, page by page. */
async function listSnapshots(daytona: Daytona): Promise<Snapshot[]> {
  const all: Snapshot[] = [];
  for (let page = 1; ; page++) {
    const result = await daytona.snapshot.list(page, 100);
    all.push(...result.items);
    if (page >= result.totalPages || result.items.length === 0) return all;
  }
}

/** The snapshot names wrangler.toml's environments use: never pruned. */
async function namesInUse(): Promise<Set<string>> {
  // Loaded here: wrangler takes a while to load, and only --prune needs it.
  const { readEnvironment } = await import('../scripts/lib/wrangler-config.ts');
  const names = new Set<string>();
  for (const env of [undefined, ...ENVIRONMENTS]) {
    const value = readEnvironment(WRANGLER_TOML, env).vars['DAYTONA_SNAPSHOT'];
    if (typeof value === 'string') names.add(value);
  }
  return names;
}

async function prune(daytona: Daytona, options: Options): Promise<void> {
  const protectedNames = await namesInUse();
  if (options.name) protectedNames.add(options.name);
  const candidates = (await listSnapshots(daytona))
    .filter((s) => s.name.startsWith(options.prefix))
    .sort((a, b) => Date.parse(String(b.createdAt)) - Date.parse(String(a.createdAt)));
  const kept = candidates.slice(0, options.keep);
  const doomed = candidates.slice(options.keep).filter((s) => !protectedNames.has(s.name));
  log(
    `${candidates.length} snapshot(s) named ${options.prefix}*; keeping the newest ${options.keep}` +
      ` and those wrangler.toml uses (${[...protectedNames].join(', ')}).`,
  );
  for (const s of kept) log(`  keep    ${s.name} (created ${String(s.createdAt)}, ${s.state})`);
  for (const s of candidates.slice(options.keep)) {
    if (protectedNames.has(s.name)) log(`  keep    ${s.name} (in use)`);
  }
  for (const s of doomed) {
    if (options.dryRun) {
      log(`  would delete ${s.name} (created ${String(s.createdAt)}, ${s.state})`);
      continue;
    }
    await daytona.snapshot.delete(s);
    log(`  deleted ${s.name} (created ${String(s.createdAt)})`);
  }
  if (doomed.length === 0) log('Nothing to delete.');
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
    return `DAYTONA_API_KEY may not do this (it needs write:snapshots, and delete:snapshots for --replace and --prune): ${error.message}`;
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
    process.stderr.write(`snapshot: ${error.message}\nRun with --help for usage.\n`);
    return 2;
  }
  if (!options) {
    log(USAGE);
    return 0;
  }

  const daytona = new Daytona({
    apiKey: options.apiKey,
    apiUrl: options.apiUrl,
    target: options.target,
  });
  try {
    if (options.name !== undefined && !(await build(daytona, loadImage(), options.name, options))) {
      return 1;
    }
    if (options.prune) await prune(daytona, options);
    return 0;
  } catch (error) {
    process.stderr.write(`snapshot: ${describeError(error, options)}\n`);
    return 1;
  } finally {
    // Closes the SDK's event socket so that the process can exit.
    await daytona[Symbol.asyncDispose]().catch(() => undefined);
  }
}

process.exitCode = await main();
