/**
 * Follows a running command's log for one slice of an alarm run, storing each new byte exactly
 * once. A re-attached log replays from its first byte, so what is already stored (counted in
 * UTF-8 bytes per stream) is skipped; a character split across frames waits for its last byte.
 * While following, the command's exit code is polled, so a command that exited is finished even
 * if its log never closes, and a log that drops before the command ends is read again.
 */
import { DaytonaNotFoundError, type Sandbox } from '@daytonaio/sdk';
import type { Config } from '../../worker/config.ts';
import { callBudgetMs } from './decisions.ts';
import { commandLogTarget, exitCodeOf, sandboxCondition } from './daytona.ts';
import type { CallScope } from './calls.ts';
import type { OutputStream, Piece } from './log-demux.ts';
import { LogOpenError, openCommandLog, type LogEnd } from './log-stream.ts';
import { agentStop } from './agents/job-output.ts';
import type { JobRecord } from './record.ts';
import type { JobState } from './state.ts';
import { completePrefix, concatBytes } from './utf8.ts';

/** How a slice of following ended. */
export type FollowResult =
  /** The command exited and its whole log is stored. */
  | { kind: 'exited'; exitCode: number }
  /** The log ended before the command did; `progressed` if it delivered new output. */
  | { kind: 'reattach'; progressed: boolean }
  /** The slice is over and the command still runs. */
  | { kind: 'slice' }
  /** The sandbox or the command is gone, or the sandbox stopped. */
  | { kind: 'missing' }
  /** The agent's output showed that its run cannot succeed (agents/job-output.ts agentStop). */
  | { kind: 'agent_stop' };

/** After the exit code appeared, how long the log may stay silent before it counts as complete. */
const QUIET_AFTER_EXIT_MS = 1000;
/** How often the log is checked for that silence. */
const QUIET_CHECK_MS = 250;

export class LogFollower {
  private readonly seen: Record<OutputStream, number> = { stdout: 0, stderr: 0 };
  /** Bytes of an unfinished character at the end of what arrived, per stream. */
  private readonly pending: Record<OutputStream, Uint8Array> = {
    stdout: new Uint8Array(0),
    stderr: new Uint8Array(0),
  };
  private lastPieceAt = Date.now();
  private progressed = false;
  /** Resolves once stored output asked for the agent job to end now. */
  private readonly agentStopped: Promise<'agent_stop'>;
  private stopAgent: () => void = () => undefined;

  private readonly record: JobRecord;
  private readonly scope: CallScope;
  private readonly config: Pick<Config, 'daytona' | 'jobPollSeconds'>;

  constructor(
    record: JobRecord,
    scope: CallScope,
    config: Pick<Config, 'daytona' | 'jobPollSeconds'>,
  ) {
    this.record = record;
    this.scope = scope;
    this.config = config;
    this.agentStopped = new Promise((resolve) => (this.stopAgent = () => resolve('agent_stop')));
  }

  /** Follows the log of `state.cmdId` until the command exits, the log ends, or `until`. */
  async follow(
    sandbox: Sandbox,
    state: JobState,
    cmdId: string,
    until: number,
  ): Promise<FollowResult> {
    const callMs = this.config.daytona.callTimeoutSeconds * 1000;
    const target = commandLogTarget(sandbox, this.config.daytona, cmdId);
    let connection;
    try {
      connection = await this.scope.run(
        'Opening the command log',
        callBudgetMs(state, Date.now(), callMs),
        () => openCommandLog(target, (piece) => this.take(piece), this.scope.signal),
      );
    } catch (error) {
      if (error instanceof LogOpenError && error.status === 404) return { kind: 'missing' };
      throw error;
    }
    try {
      for (;;) {
        const ended = await this.waitForEnd(
          Promise.race([connection.ended, this.agentStopped]),
          Math.min(this.config.jobPollSeconds * 1000, until - Date.now()),
        );
        if (ended === 'agent_stop') return { kind: 'agent_stop' };
        const quietTick = Date.now() - this.lastPieceAt >= this.config.jobPollSeconds * 1000;
        const status = await this.poll(sandbox, state, cmdId, quietTick || ended !== null);
        if (status === 'missing') return { kind: 'missing' };
        if (ended !== null) return this.afterEnd(ended, status);
        if (status !== null) {
          // Exited, but the log is still open: it is complete once it closes or goes quiet.
          const end = await this.drain(connection.ended);
          return this.afterEnd(end ?? 'clean', status);
        }
        if (Date.now() >= until) return { kind: 'slice' };
      }
    } finally {
      connection.close();
    }
  }

  /** Stores the part of a piece not stored before, up to its last complete character. */
  private take(piece: Piece): void {
    const stream = piece.stream;
    const start = this.seen[stream];
    this.seen[stream] += piece.bytes.length;
    this.lastPieceAt = Date.now();
    const state = this.record.require();
    // Past the output cap only an agent's stdout is still read (for its result; record.ts).
    if (state.outputTruncated && (stream !== 'stdout' || state.agentRun === null)) return;
    const stored = stream === 'stdout' ? state.stdoutBytes : state.stderrBytes;
    // Positions before `stored` are stored; the pending bytes follow them.
    const from = Math.max(0, stored + this.pending[stream].length - start);
    if (from >= piece.bytes.length) return;
    const fresh = concatBytes(this.pending[stream], piece.bytes.subarray(from));
    const complete = completePrefix(fresh);
    if (complete === 0) {
      this.pending[stream] = fresh;
      return;
    }
    this.progressed = true;
    // What the record does not take (a tail that may be the start of a secret) stays pending.
    const taken = this.record.storeOutput(stream, fresh.subarray(0, complete));
    this.pending[stream] = fresh.slice(taken);
    if (agentStop(this.record.require()) !== null) this.stopAgent();
  }

  /** An ended log with the command's exit code (`null`: still running). */
  private afterEnd(end: LogEnd, exitCode: number | null): FollowResult {
    if (end === 'clean' && exitCode !== null) {
      // A character the command never finished is stored as it is (it decodes to U+FFFD).
      for (const stream of ['stdout', 'stderr'] as const) {
        const rest = this.pending[stream];
        this.pending[stream] = new Uint8Array(0);
        if (rest.length > 0) this.record.storeOutput(stream, rest, true);
      }
      return { kind: 'exited', exitCode };
    }
    return { kind: 'reattach', progressed: this.progressed };
  }

  /** The exit code (null while running), or 'missing'. Transient failures count as running. */
  private async poll(
    sandbox: Sandbox,
    state: JobState,
    cmdId: string,
    checkSandbox: boolean,
  ): Promise<number | null | 'missing'> {
    const ms = callBudgetMs(state, Date.now(), this.config.daytona.callTimeoutSeconds * 1000);
    try {
      if (checkSandbox) {
        const condition = await this.scope.run('Checking the sandbox', ms, () =>
          sandboxCondition(sandbox),
        );
        if (condition !== 'running') return 'missing';
      }
      return await this.scope.run('Checking the command', ms, () => exitCodeOf(sandbox, cmdId));
    } catch (error) {
      if (error instanceof DaytonaNotFoundError) return 'missing';
      if (this.scope.stopped) throw error;
      return null;
    }
  }

  /** Resolves with how the log ended, or null after `ms` if it has not. */
  private async waitForEnd<T>(ended: Promise<T>, ms: number): Promise<T | null> {
    if (ms <= 0) return null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
    try {
      return await this.scope.run('Following the log', ms + 1000, () =>
        Promise.race([ended, tick]),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for a log whose command has exited to close, or to stay silent for a moment. */
  private async drain(ended: Promise<LogEnd>): Promise<LogEnd | null> {
    for (;;) {
      const end = await this.waitForEnd(ended, QUIET_CHECK_MS);
      if (end !== null) return end;
      if (Date.now() - this.lastPieceAt >= QUIET_AFTER_EXIT_MS) return null;
    }
  }
}
