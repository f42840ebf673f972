/**
 * Toolbox sessions.
 *
 * The real daemon keeps one long-lived shell per session and feeds it each command. Here every
 * command runs in a fresh `bash` (its own process group, so it can be killed cleanly) and the
 * session's state is carried between commands instead: the wrapper restores the working directory
 * and exported variables saved by the previous command and saves them again on exit. So `cd` and
 * `export` persist as in the real thing; shell functions, aliases and unexported variables do not.
 * Commands of a session run strictly one after another, in submission order.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { HttpError } from './errors.ts';
import { killGroup, type ProcessTracker } from './processes.ts';
import { SessionCommand } from './session-command.ts';

/**
 * Runs as `bash -c WRAPPER local-daytona <stateDir> <commandFile>`. The command file is sourced
 * (as the daemon does) so a syntax error in it is just a failing command, and `exit N` inside it
 * still passes through the EXIT trap that saves the session state.
 */
const WRAPPER = `__ld_state="$1"; __ld_cmd="$2"; set --
if [ -f "$__ld_state/env" ]; then . "$__ld_state/env" 2>/dev/null; fi
if [ -f "$__ld_state/cwd" ]; then cd -- "$(cat "$__ld_state/cwd")" 2>/dev/null; fi
trap '__ld_ec=$?; printf "%s" "$PWD" > "$__ld_state/cwd"; export -p > "$__ld_state/env"; exit $__ld_ec' EXIT
. "$__ld_cmd"`;

/** What a session needs from its sandbox to run commands. */
interface SessionHost {
  readonly processes: ProcessTracker;
  /** Host working directory for a new session. */
  readonly workDir: string;
  /** Host directory where session state and logs are kept. */
  readonly stateDir: string;
  env(): Record<string, string>;
}

/** A named session: a queue of commands sharing working directory and exports. */
export class Session {
  readonly id: string;
  readonly commands = new Map<string, SessionCommand>();
  readonly #host: SessionHost;
  readonly #dir: string;
  #tail: Promise<void> = Promise.resolve();
  #running: { cmd: SessionCommand; pid: number | undefined; stdin: Writable | null } | undefined;
  #deleted = false;

  constructor(id: string, host: SessionHost) {
    this.id = id;
    this.#host = host;
    // The id is user-chosen: encode it so it is always a single safe path segment.
    const segment = encodeURIComponent(id).replace(/^\.+/, (dots) => '%2E'.repeat(dots.length));
    this.#dir = path.join(host.stateDir, segment);
  }

  /**
   * Queues a command and returns its record immediately. Like the daemon, an async command's
   * stdin stays open (for sendSessionCommandInput) while a sync command sees EOF at once.
   */
  exec(command: string, async: boolean): SessionCommand {
    const id = randomUUID();
    const cmd = new SessionCommand(id, command, path.join(this.#dir, id));
    this.commands.set(id, cmd);
    this.#tail = this.#tail
      .then(() => this.#run(cmd, async))
      .catch((err: unknown) => {
        // Never let one broken command stall the queue or escape as an unhandled rejection.
        cmd.append('stderr', Buffer.from(`local-daytona: cannot run command: ${String(err)}\n`));
        cmd.finish(-1);
        this.#running = undefined;
      });
    return cmd;
  }

  /** Writes to a running async command's stdin. */
  sendInput(cmd: SessionCommand, data: string): void {
    if (cmd.done) {
      throw new HttpError(410, 'command has already completed', 'COMMAND_ALREADY_COMPLETED');
    }
    const stdin = this.#running?.cmd === cmd ? this.#running.stdin : undefined;
    if (!stdin) throw new HttpError(400, 'command is not running or does not accept input');
    stdin.write(data);
  }

  /** Kills the running command and abandons queued ones. */
  kill(): void {
    this.#deleted = true;
    killGroup(this.#running?.pid);
    for (const cmd of this.commands.values()) {
      if (!cmd.done && cmd !== this.#running?.cmd) cmd.finish(undefined);
    }
  }

  async #run(cmd: SessionCommand, async: boolean): Promise<void> {
    if (this.#deleted) {
      cmd.finish(undefined);
      return;
    }
    const file = path.join(cmd.dir, 'cmd.sh');
    writeFileSync(file, cmd.command + '\n');
    const child = this.#host.processes.spawn(
      'bash',
      ['-c', WRAPPER, 'local-daytona', this.#dir, file],
      this.#host.workDir,
      this.#host.env(),
      async ? 'pipe' : 'ignore',
    );
    child.stdin?.on('error', () => undefined); // EPIPE once the command stops reading.
    this.#running = { cmd, pid: child.pid, stdin: child.stdin };
    child.stdout?.on('data', (chunk: Buffer) => cmd.append('stdout', chunk));
    child.stderr?.on('data', (chunk: Buffer) => cmd.append('stderr', chunk));
    await new Promise<void>((resolve) => {
      child.once('error', (err) => {
        cmd.append('stderr', Buffer.from(`failed to start command: ${err.message}\n`));
        cmd.finish(-1);
        resolve();
      });
      // 'close' waits for stdout/stderr to end as well, like the daemon waits for its labelers.
      child.once('close', (code, signal) => {
        child.stdin?.destroy();
        cmd.finish(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : -1));
        resolve();
      });
    });
    this.#running = undefined;
  }
}

/** All sessions of one sandbox. */
export class SessionManager {
  readonly #sessions = new Map<string, Session>();
  readonly #host: SessionHost;

  constructor(host: SessionHost) {
    this.#host = host;
  }

  create(id: string): Session {
    if (this.#sessions.has(id))
      throw new HttpError(409, `session ${id} already exists`, 'CONFLICT');
    const session = new Session(id, this.#host);
    this.#sessions.set(id, session);
    return session;
  }

  get(id: string): Session {
    const session = this.#sessions.get(id);
    if (!session) throw new HttpError(404, 'session not found', 'NOT_FOUND');
    return session;
  }

  list(): Session[] {
    return [...this.#sessions.values()];
  }

  delete(id: string): void {
    this.get(id).kill();
    this.#sessions.delete(id);
  }

  /** Drops every session (the sandbox stopped, so its shells are gone). */
  clear(): void {
    for (const session of this.#sessions.values()) session.kill();
    this.#sessions.clear();
  }
}
