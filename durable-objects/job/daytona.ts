/**
 * Every Daytona call the Job DO makes, through @daytonaio/sdk. Kept in one place so the DO's
 * lifecycle code reads as steps, and so error classification (retry or give up) is uniform.
 */
import {
  Daytona,
  DaytonaConnectionError,
  DaytonaError,
  DaytonaNotFoundError,
  DaytonaConflictError,
  type Sandbox,
} from '@daytonaio/sdk';
import { ConfigError, type Config } from '../../worker/config.ts';

/** The session the job's command runs in. One job, one sandbox, one session. */
export const SESSION_ID = 'omni-job';
/** Where the repository is cloned, relative to the sandbox user's home directory. */
export const REPO_DIR = 'repo';

/** Makes an SDK client. No request is sent until a method is called. */
export function daytonaClient(config: Config['daytona']): Daytona {
  return new Daytona({
    apiKey: config.apiKey,
    apiUrl: config.apiUrl,
    target: config.target,
    // The DO waits for sandbox state itself (creates return `started` or are retried), so the
    // SDK's background socket.io subscription would only hold an extra connection per job.
    useDeprecatedPolling: true,
  });
}

/**
 * True when trying again later may succeed: no answer, timeouts, 429 and 5xx. A configuration
 * error is permanent: no retry fixes a missing or bad setting.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ConfigError) return false;
  if (error instanceof DaytonaConnectionError) return true;
  if (error instanceof DaytonaError) {
    const status = error.statusCode;
    return status === undefined || status === 408 || status === 429 || status >= 500;
  }
  // Anything else (a network TypeError, a closed socket) is treated as transient.
  return true;
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
  autoStopMinutes: number;
  /** True when an earlier attempt may already have created it. */
  mayExist: boolean;
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
 * Creates the job's sandbox, or adopts the one an earlier attempt created, so retries never
 * leave a second sandbox behind.
 */
export async function createOrAdoptSandbox(
  daytona: Daytona,
  input: CreateSandboxInput,
): Promise<Sandbox> {
  if (input.mayExist) {
    const existing = await findSandbox(daytona, input.name);
    if (existing) return existing;
  }
  try {
    return await daytona.create(
      {
        name: input.name,
        snapshot: input.snapshot,
        labels: input.labels,
        autoStopInterval: input.autoStopMinutes,
        // Deleted by Daytona as soon as it stops: a leak is bounded by the auto-stop interval.
        ephemeral: true,
      },
      { timeout: 120 },
    );
  } catch (error) {
    if (error instanceof DaytonaConflictError) {
      const existing = await findSandbox(daytona, input.name);
      if (existing) return existing;
    }
    throw error;
  }
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

/** Quotes `value` for a POSIX shell. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Starts the job's command in the clone, asynchronously, and returns its command id. If an
 * earlier attempt already started it, returns that command instead of starting it again.
 */
export async function startCommand(
  sandbox: Sandbox,
  command: string,
  alreadyRequested: boolean,
): Promise<string> {
  // A subshell, because Daytona sources session commands into one long-lived shell, where a
  // top-level `exit` or `exec` would end the session itself. Stdin is closed: an async session
  // command's stdin otherwise stays open and anything reading it would wait forever.
  const wrapped = `(cd ${REPO_DIR} && bash -c ${shellQuote(command)} < /dev/null)`;
  if (alreadyRequested) {
    const session = await sandbox.process.getSession(SESSION_ID).catch((error: unknown) => {
      if (error instanceof DaytonaNotFoundError) return null;
      throw error;
    });
    const started = session?.commands?.find((c) => c.command === wrapped);
    if (started?.id) return started.id;
  }
  try {
    await sandbox.process.createSession(SESSION_ID);
  } catch (error) {
    if (!(error instanceof DaytonaConflictError)) throw error;
  }
  const response = await sandbox.process.executeSessionCommand(SESSION_ID, {
    command: wrapped,
    runAsync: true,
  });
  if (!response.cmdId) throw new DaytonaError('Daytona did not return a command id.');
  return response.cmdId;
}
