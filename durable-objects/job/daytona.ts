/**
 * Every Daytona call the Job DO makes, through @daytonaio/sdk (and the command log's WebSocket,
 * see log-stream.ts). Kept in one place so the DO's lifecycle code reads as steps, and so error
 * classification (retry or give up) is uniform.
 */
import {
  Daytona,
  DaytonaConnectionError,
  DaytonaError,
  DaytonaNotFoundError,
  DaytonaConflictError,
  type CreateSandboxFromImageParams,
  type CreateSandboxFromSnapshotParams,
  type Sandbox,
} from '@daytonaio/sdk';
import { Buffer } from 'node:buffer';
import { ConfigError, type Config } from '../../worker/config.ts';
import { daytonaNetwork, type SandboxShape } from '../../worker/domain/sandbox-shape.ts';
import { SecretDecryptError } from '../../worker/lib/secrets-crypto.ts';
import { CallTimedOut } from './calls.ts';
import { CLONE_ENV, CloneFailed, cloneCommand, cloneFailure, type CloneSpec } from './clone.ts';
import {
  GIT_TOKEN_VAR,
  GitHubStepFailed,
  maskTokens,
  PUSH_ENV,
  pushCommand,
  pushFailure,
  pushOutcome,
  type PushOutcome,
  type PushSpec,
} from './git-lines.ts';
import type { LogTarget } from './log-stream.ts';
import { shellQuote } from './shell.ts';

/** The session the job's command runs in. One job, one sandbox, one session. */
const SESSION_ID = 'omni-job';
/** Where the repository is cloned, relative to the sandbox user's home directory. */
export const REPO_DIR = 'repo';

/** The SDK release whose wire format (headers, log markers) log-stream.ts speaks. */
const SDK_VERSION = '0.218.0';

/** Makes an SDK client. No request is sent until a method is called. */
export function daytonaClient(config: Config['daytona']): Daytona {
  return new Daytona({
    apiKey: config.apiKey,
    apiUrl: config.apiUrl,
    target: config.target,
    // A backstop under the DO's own per-call bounds (calls.ts): the request itself is ended.
    requestTimeoutMs: config.callTimeoutSeconds * 1000,
    // The SDK polls for sandbox state (waitUntilStarted); its socket.io subscription would only
    // hold an extra connection per job.
    useDeprecatedPolling: true,
  });
}

/** What a failed call means for the step that made it. */
type Failure = { kind: 'transient'; retryAfterMs: number } | { kind: 'permanent' };

/**
 * Transient when trying again later may succeed: no answer, timeouts, 408, 429 (with the
 * server's Retry-After) and 5xx. Permanent: every other 4xx (bad request, bad credentials, no
 * permission, unknown snapshot), an argument the SDK refused, and a configuration error, which
 * no retry can fix.
 */
export function classify(error: unknown): Failure {
  const transient = (retryAfterMs = 0): Failure => ({ kind: 'transient', retryAfterMs });
  // A setting, or a stored secret that does not decrypt: trying again cannot help.
  if (error instanceof ConfigError || error instanceof SecretDecryptError) {
    return { kind: 'permanent' };
  }
  if (error instanceof CloneFailed || error instanceof GitHubStepFailed) {
    return error.transient ? transient() : { kind: 'permanent' };
  }
  if (error instanceof CallTimedOut || error instanceof DaytonaConnectionError) return transient();
  if (error instanceof DaytonaError) {
    const status = error.statusCode;
    if (status === undefined) {
      // Raised by the SDK itself before any request: a bad argument stays bad.
      return error.name === 'DaytonaInvalidArgumentError' ? { kind: 'permanent' } : transient();
    }
    if (status === 429) return transient(retryAfterMs(error.headers));
    return status === 408 || status >= 500 ? transient() : { kind: 'permanent' };
  }
  // Anything else (a network TypeError, a closed socket) is treated as transient.
  return transient();
}

/** The delay a `Retry-After` header asks for (seconds or an HTTP date), or 0. */
function retryAfterMs(headers: unknown, now = Date.now()): number {
  if (typeof headers !== 'object' || headers === null) return 0;
  const entry = Object.entries(headers).find(([name]) => name.toLowerCase() === 'retry-after');
  const value: unknown = entry?.[1];
  if (typeof value !== 'string' && typeof value !== 'number') return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(String(value));
  return Number.isNaN(date) ? 0 : Math.max(0, date - now);
}

/** A message for the job's `error.message`: Daytona's own words, without stack or headers. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.slice(0, 2000);
  return String(error).slice(0, 2000);
}

interface CreateSandboxInput {
  name: string;
  snapshot: string;
  labels: Record<string, string>;
  /** The job's sandbox shape; null for a job from before shapes. */
  shape: SandboxShape | null;
  /** The image to create a sandbox of another size than the snapshot's from; null: the snapshot. */
  image: string | null;
  /** Auto-stop of a job without a shape (its time limit and a margin). */
  autoStopMinutes: number;
  /** True when an earlier attempt may already have created it. */
  mayExist: boolean;
  /** How long Daytona may take to start it. */
  startTimeoutSeconds: number;
}

/** Finds the sandbox called `name`, or null if Daytona has none. */
export async function findSandbox(daytona: Daytona, name: string): Promise<Sandbox | null> {
  try {
    return await daytona.get(name);
  } catch (error) {
    if (error instanceof DaytonaNotFoundError) return null;
    throw error;
  }
}

/**
 * The create parameters of the job's sandbox (docs/projects.md). The lifecycle intervals and the
 * network policy are always sent, so nothing is left to Daytona's defaults. The size can only be
 * sent with an image: Daytona refuses resources on a sandbox created from a snapshot, whose size
 * is the one it was registered with (sandbox-image/README.md).
 */
export function createParams(
  input: Omit<CreateSandboxInput, 'mayExist' | 'startTimeoutSeconds'>,
): CreateSandboxFromSnapshotParams | CreateSandboxFromImageParams {
  const { name, labels, shape } = input;
  if (shape === null) {
    // Deleted by Daytona as soon as it stops: a leak is bounded by the auto-stop interval.
    const lifecycle = { autoStopInterval: input.autoStopMinutes, ephemeral: true };
    return { name, labels, snapshot: input.snapshot, ...lifecycle };
  }
  const settings = {
    name,
    labels,
    autoStopInterval: shape.autoStopMinutes,
    autoDeleteInterval: shape.autoDeleteMinutes,
    ...daytonaNetwork(shape.network),
  };
  if (input.image === null) return { ...settings, snapshot: input.snapshot };
  const resources = { cpu: shape.cpu, memory: shape.memoryGiB, disk: shape.diskGiB };
  return { ...settings, image: input.image, resources };
}

/**
 * Creates the job's sandbox, or adopts the one an earlier attempt created, so retries never
 * leave a second sandbox behind.
 */
export async function createOrAdoptSandbox(
  daytona: Daytona,
  input: CreateSandboxInput,
): Promise<Sandbox> {
  if (input.mayExist) {
    const existing = await findSandbox(daytona, input.name);
    if (existing) return startedSandbox(existing, input.startTimeoutSeconds);
  }
  try {
    return await daytona.create(createParams(input), { timeout: input.startTimeoutSeconds });
  } catch (error) {
    if (error instanceof DaytonaConflictError) {
      const existing = await findSandbox(daytona, input.name);
      if (existing) return startedSandbox(existing, input.startTimeoutSeconds);
    }
    throw error;
  }
}

/**
 * An adopted sandbox, once it is started: an earlier attempt's create may still be starting it,
 * and a stopped one (auto-stop, or Daytona's own doing) is started again.
 */
async function startedSandbox(sandbox: Sandbox, timeoutSeconds: number): Promise<Sandbox> {
  if (sandbox.state === 'started') return sandbox;
  if (sandbox.state === 'stopped') await sandbox.start(timeoutSeconds);
  else await sandbox.waitUntilStarted(timeoutSeconds);
  return sandbox;
}

/** Deletes the sandbox called `nameOrId`; a sandbox that is already gone counts as deleted. */
export async function deleteSandbox(daytona: Daytona, nameOrId: string): Promise<void> {
  const sandbox = await findSandbox(daytona, nameOrId);
  if (!sandbox) return;
  try {
    await sandbox.delete();
  } catch (error) {
    if (!(error instanceof DaytonaNotFoundError)) throw error;
  }
}

/**
 * Clones the repository into the sandbox with the git CLI (see clone.ts for why not
 * `sandbox.git.clone`). Daytona ends git after `timeoutSeconds` (a 408, transient).
 * @throws CloneFailed if git failed, saying whether trying again may help.
 */
export async function cloneRepository(
  sandbox: Sandbox,
  spec: CloneSpec,
  timeoutSeconds: number,
  token: string | null = null,
): Promise<void> {
  // The token is in the command's environment alone, never its text (github.ts).
  const env = token === null ? CLONE_ENV : { ...CLONE_ENV, [GIT_TOKEN_VAR]: token };
  const clone = { ...spec, authenticated: token !== null };
  const response = await sandbox.process.executeCommand(
    cloneCommand(clone),
    undefined,
    env,
    timeoutSeconds,
  );
  if (response.exitCode !== 0) {
    const failure = cloneFailure(response.exitCode, response.result, clone);
    if (token === null) throw failure;
    throw new CloneFailed(maskTokens(failure.message, [token]), failure.transient);
  }
}

/**
 * Commits the checkout's changes and pushes them to a new branch (github.ts: pushCommand), with
 * the installation token in the command's environment alone. Returns what was pushed.
 * @throws GitHubStepFailed if git failed (its message has the token masked).
 */
export async function pushChanges(
  sandbox: Sandbox,
  spec: PushSpec,
  token: string,
  timeoutSeconds: number,
): Promise<PushOutcome> {
  const response = await sandbox.process.executeCommand(
    pushCommand(spec),
    undefined,
    { ...PUSH_ENV, [GIT_TOKEN_VAR]: token },
    timeoutSeconds,
  );
  const output = maskTokens(response.result, [token]);
  const outcome = response.exitCode === 0 ? pushOutcome(output) : null;
  if (outcome === null) throw pushFailure(response.exitCode, output);
  return outcome;
}

/** The folder of the environment file: only the sandbox user may enter it. */
const ENV_DIR = '.omni-env';
/** The job's environment, as shell assignments, between its upload and the command's start. */
const ENV_FILE = `${ENV_DIR}/env`;

/**
 * Exit code of a command that found the job's command already started (see commandLine). A real
 * command may exit with it too, so it only counts when another copy is in the session.
 */
export const ALREADY_STARTED_EXIT = 75;

/**
 * The shell line that runs the job's command. A subshell, because Daytona sources session
 * commands into one long-lived shell, where a top-level `exit` or `exec` would end the session
 * itself. `mkdir` is atomic: if a start request is ever delivered twice (an eviction between a
 * request and its answer, a request that lands late), the second copy exits at once instead of
 * running the command again. Stdin is closed: an async session command's stdin otherwise stays
 * open and anything reading it would wait forever.
 */
function commandLine(command: string, withEnv: boolean): string {
  const run = `cd ${REPO_DIR} && bash -c ${shellQuote(command)} < /dev/null`;
  if (!withEnv) return `(mkdir .omni-command 2>/dev/null || exit ${ALREADY_STARTED_EXIT}; ${run})`;
  // The environment file is read into this subshell's environment (set -a exports what it
  // assigns) and deleted at once; a second copy of the start request deletes it too.
  return [
    `(mkdir .omni-command 2>/dev/null || { rm -f ${ENV_FILE}; exit ${ALREADY_STARTED_EXIT}; }`,
    `[ -r ${ENV_FILE} ] || { echo 'omni: the job environment did not reach the sandbox' >&2; exit 1; }`,
    `set -a`,
    `. ./${ENV_FILE}`,
    `set +a`,
    `rm -f ${ENV_FILE}`,
    `${run})`,
  ].join('; ');
}

/** The environment file: one `NAME='value'` line per variable (names are checked at creation). */
function envFile(env: Record<string, string>): Uint8Array {
  const lines = Object.entries(env).map(([name, value]) => `${name}=${shellQuote(value)}\n`);
  return new TextEncoder().encode(lines.join(''));
}

/**
 * Puts the environment file into the sandbox (mode 700 folder in the user's home) and checks that
 * it arrived whole: in workerd the SDK does not look at the upload's answer (SDK-CONTRACT.md A7).
 */
async function uploadEnv(sandbox: Sandbox, env: Record<string, string>): Promise<void> {
  const bytes = envFile(env);
  await sandbox.fs.createFolder(ENV_DIR, '700');
  await sandbox.fs.uploadFile(Buffer.from(bytes), ENV_FILE);
  const details = await sandbox.fs.getFileDetails(ENV_FILE);
  if (details.size !== bytes.length) {
    throw new DaytonaError('The job environment did not reach the sandbox whole.');
  }
}

/** The ids of the job's command in the session, oldest first (empty if it was never started). */
export async function startedCommands(
  sandbox: Sandbox,
  command: string,
  withEnv = false,
): Promise<string[]> {
  const line = commandLine(command, withEnv);
  const session = await sandbox.process.getSession(SESSION_ID).catch((error: unknown) => {
    if (error instanceof DaytonaNotFoundError) return null;
    throw error;
  });
  return (session?.commands ?? []).filter((c) => c.command === line).map((c) => c.id);
}

/**
 * Starts the job's command in the clone, asynchronously, and returns its command id. The values
 * of `env` reach the command's environment through a file (uploadEnv), never its text: the text
 * is what Daytona lists and logs.
 */
export async function startCommand(
  sandbox: Sandbox,
  command: string,
  env: Record<string, string> = {},
): Promise<string> {
  try {
    await sandbox.process.createSession(SESSION_ID);
  } catch (error) {
    if (!(error instanceof DaytonaConflictError)) throw error;
  }
  const withEnv = Object.keys(env).length > 0;
  if (withEnv) await uploadEnv(sandbox, env);
  const response = await sandbox.process.executeSessionCommand(SESSION_ID, {
    command: commandLine(command, withEnv),
    runAsync: true,
  });
  if (!response.cmdId) throw new DaytonaError('Daytona did not return a command id.');
  return response.cmdId;
}

/** The command's exit code, or null while it runs. A vanished command is DaytonaNotFoundError. */
export async function exitCodeOf(sandbox: Sandbox, cmdId: string): Promise<number | null> {
  const command = await sandbox.process.getSessionCommand(SESSION_ID, cmdId);
  return command.exitCode ?? null;
}

/**
 * Whether the sandbox can still run the command: 'gone' (Daytona no longer has it), 'stopped'
 * (stopped, archived, destroyed or failed: the command's processes are dead) or 'running'.
 */
export async function sandboxCondition(sandbox: Sandbox): Promise<'gone' | 'stopped' | 'running'> {
  try {
    await sandbox.refreshData();
  } catch (error) {
    if (error instanceof DaytonaNotFoundError) return 'gone';
    throw error;
  }
  const dead = ['stopped', 'stopping', 'archived', 'archiving', 'destroyed', 'destroying', 'error'];
  return sandbox.state && dead.includes(sandbox.state) ? 'stopped' : 'running';
}

/** Where the command's live log is, with the headers the SDK would send (see log-stream.ts). */
export function commandLogTarget(
  sandbox: Sandbox,
  config: Config['daytona'],
  cmdId: string,
): LogTarget {
  const base = sandbox.toolboxProxyUrl.replace(/\/$/, '');
  return {
    url: `${base}/${sandbox.id}/process/session/${SESSION_ID}/command/${cmdId}/logs?follow=true`,
    headers: {
      Authorization: `Bearer ${config.apiKey}`,
      'X-Daytona-Source': 'sdk-typescript-legacy',
      'X-Daytona-SDK-Version': SDK_VERSION,
    },
  };
}
