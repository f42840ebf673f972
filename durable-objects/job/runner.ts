/**
 * The job's work in its Daytona sandbox: provision, clone, start the command, follow its log,
 * and delete the sandbox at the end. Each step is safe to repeat after a crash or a retry; what
 * to do next is decided by nextStep() from the stored state.
 */
import type { Daytona, Sandbox } from '@daytonaio/sdk';
import { loadConfig } from '../../worker/config.ts';
import { errorFields, log } from '../../worker/lib/log.ts';
import {
  autoStopMinutes,
  commandOutcome,
  followUntil,
  isTerminal,
  MAX_STEP_ATTEMPTS,
  nextStep,
  retryDelayMs,
  type Step,
} from './decisions.ts';
import {
  createOrAdoptSandbox,
  daytonaClient,
  deleteSandbox,
  describeError,
  isRetryable,
  REPO_DIR,
  SESSION_ID,
  startCommand,
} from './daytona.ts';
import type { JobRecord, Outcome } from './record.ts';
import type { JobState } from './state.ts';

export class JobRunner {
  private readonly record: JobRecord;
  private readonly env: Env;
  private daytona: Daytona | null = null;
  private sandbox: Sandbox | null = null;
  /** Bumped to detach a log follower: output from an older follower is ignored. */
  private followGeneration = 0;
  /** Ends the current log follower's wait at once. */
  private stopFollowing: () => void = () => undefined;

  constructor(record: JobRecord, env: Env) {
    this.record = record;
    this.env = env;
  }

  /** Detaches the log follower now (the job was canceled or timed out). */
  stop(): void {
    this.followGeneration++;
    this.stopFollowing();
  }

  /** Carries the job forward step by step until it waits on something or ends. */
  async advance(attempts: number): Promise<void> {
    let failures = attempts;
    for (;;) {
      const state = this.record.state;
      if (!state) return;
      const step = nextStep(state, Date.now());
      if (step === 'none') return;
      try {
        const more = await this.runStep(step, state, failures);
        if (!more) return;
        failures = 0;
      } catch (error) {
        if (isRetryable(error) && failures + 1 < MAX_STEP_ATTEMPTS) {
          log('warn', 'job step failed; will retry', {
            job_id: state.id,
            step,
            attempts: failures + 1,
            ...errorFields(error),
          });
          const due = Date.now() + retryDelayMs(failures + 1);
          this.record.store.setDeadline('advance', due, failures + 1);
          return;
        }
        await this.record.finish(stepFailure(step, state, error));
        return;
      }
    }
  }

  /** Runs one step. Returns false when the job must wait (the step re-armed `advance` itself). */
  private async runStep(step: Step, state: JobState, failures: number): Promise<boolean> {
    const record = this.record;
    switch (step) {
      case 'provision': {
        let current = state;
        if (current.status === 'queued') {
          current = await record.transition({ status: 'provisioning', provisioningAt: Date.now() });
        }
        // Recorded before Daytona is called, so a retry looks for the sandbox before creating one.
        const mayExist = current.createRequested;
        if (!mayExist) record.save({ ...current, createRequested: true });
        this.sandbox = await createOrAdoptSandbox(this.client(), {
          name: current.sandboxName,
          snapshot: current.snapshot,
          labels: { 'omni.job': current.id, 'omni.tenant': current.tenantId },
          autoStopMinutes: autoStopMinutes(current.timeoutSeconds),
          mayExist,
        });
        await record.transition({
          status: 'cloning',
          cloningAt: Date.now(),
          sandboxId: this.sandbox.id,
        });
        return true;
      }
      case 'clone': {
        const sandbox = await this.getSandbox(state);
        // A failed attempt may have left a partial checkout behind.
        if (failures > 0) await sandbox.process.executeCommand(`rm -rf ${REPO_DIR}`);
        await sandbox.git.clone(state.repoUrl, REPO_DIR, state.repoRef ?? undefined);
        await record.transition({ status: 'running', runningAt: Date.now() });
        return true;
      }
      case 'start_command': {
        const sandbox = await this.getSandbox(state);
        const requested = state.commandRequested;
        if (!requested) record.save({ ...state, commandRequested: true });
        const cmdId = await startCommand(sandbox, state.command, requested);
        record.save({ ...record.require(), cmdId });
        return true;
      }
      case 'follow': {
        const sandbox = await this.getSandbox(state);
        const exitCode = await this.followLog(sandbox, state, followUntil(state, Date.now()));
        // Canceled or timed out meanwhile: the cleanup deadline takes it from here.
        if (isTerminal(record.require())) return false;
        if (exitCode === null) {
          // The slice ended or the log closed early: re-attach (deduplicated by offset).
          record.store.setDeadline('advance', Date.now());
          return false;
        }
        await record.finish({ ...commandOutcome(exitCode), exitCode });
        return false;
      }
      case 'none':
        return false;
    }
  }

  /**
   * Follows the command's log until it ends or `until`, storing each new chunk as an event.
   * Returns the exit code, or null if the command was still running when following stopped.
   */
  private async followLog(
    sandbox: Sandbox,
    state: JobState,
    until: number,
  ): Promise<number | null> {
    const cmdId = state.cmdId;
    if (cmdId === null) return null;
    const generation = ++this.followGeneration;
    const seen = { stdout: 0, stderr: 0 };
    const onChunk = (stream: 'stdout' | 'stderr') => (chunk: string) => {
      if (generation !== this.followGeneration) return;
      this.record.storeOutput(stream, chunk, seen[stream]);
      seen[stream] += chunk.length;
    };
    const logs = sandbox.process.getSessionCommandLogs(
      SESSION_ID,
      cmdId,
      onChunk('stdout'),
      onChunk('stderr'),
    );
    // If the slice ends first, a later failure of this follower is of no interest.
    logs.catch(() => undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const sliceEnd = new Promise<'slice'>((resolve) => {
      timer = setTimeout(() => resolve('slice'), Math.max(0, until - Date.now()));
      this.stopFollowing = () => resolve('slice');
    });
    try {
      const ended = await Promise.race([logs.then(() => 'closed' as const), sliceEnd]);
      if (ended === 'slice') return null;
    } finally {
      clearTimeout(timer);
      if (generation === this.followGeneration) this.followGeneration++;
    }
    const command = await sandbox.process.getSessionCommand(SESSION_ID, cmdId);
    return command.exitCode ?? null;
  }

  /** Deletes the job's sandbox (if one may exist). */
  async cleanup(): Promise<void> {
    const state = this.record.state;
    if (!state || state.sandboxDeleted) return;
    if (state.createRequested) {
      this.stop();
      await deleteSandbox(this.client(), state.sandboxId ?? state.sandboxName);
      this.sandbox = null;
    }
    this.record.save({ ...this.record.require(), sandboxDeleted: true });
    log('info', 'sandbox deleted', {
      job_id: state.id,
      sandbox: state.sandboxId ?? state.sandboxName,
    });
  }

  private client(): Daytona {
    this.daytona ??= daytonaClient(loadConfig(this.env).daytona);
    return this.daytona;
  }

  private async getSandbox(state: JobState): Promise<Sandbox> {
    this.sandbox ??= await this.client().get(state.sandboxId ?? state.sandboxName);
    return this.sandbox;
  }
}

/** How a step that could not be completed ends the job, in words the user can act on. */
function stepFailure(step: Step, state: JobState, error: unknown): Outcome {
  const reason = describeError(error);
  switch (step) {
    case 'provision':
      return {
        status: 'failed',
        errorCode: 'sandbox_create_failed',
        errorMessage: `Could not create the sandbox: ${reason}`,
      };
    case 'clone':
      return {
        status: 'failed',
        errorCode: 'clone_failed',
        errorMessage: `Could not clone ${state.repoUrl}${state.repoRef ? ` at ${state.repoRef}` : ''}: ${reason}`,
      };
    default:
      return {
        status: 'failed',
        errorCode: 'sandbox_error',
        errorMessage: `The sandbox failed: ${reason}`,
      };
  }
}
