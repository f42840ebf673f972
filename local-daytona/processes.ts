/**
 * Spawning processes "inside" a sandbox and killing every one of them again.
 *
 * Each spawned command leads its own process group (detached), so a timeout or session delete can
 * kill the whole tree with `kill(-pgid)`. Every process also carries `DAYTONA_SANDBOX_ID` in its
 * environment (the real sandboxes set it too); stop/delete find processes by that marker
 * (proc-scan.ts) so that those which left their group die with the sandbox as well.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { anyAlive, markedPids } from './proc-scan.ts';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * PATH for sandbox processes: the agent tools directory (agent-tools.ts) if there is one, the
 * host's PATH without project-local `node_modules/.bin` entries (which `npm run` injects),
 * followed by the standard system directories.
 */
function sandboxPath(toolsDir: string | null): string {
  const entries = (process.env['PATH'] ?? '')
    .split(':')
    .filter((p) => p !== '' && !p.includes('node_modules/.bin'));
  if (toolsDir !== null) entries.unshift(toolsDir);
  for (const p of DEFAULT_PATH.split(':')) if (!entries.includes(p)) entries.push(p);
  return entries.join(':');
}

/** What a sandbox contributes to its processes' environment. */
interface SandboxEnvSource {
  readonly id: string;
  readonly workDir: string;
  readonly snapshot: string;
  readonly env: Readonly<Record<string, string>>;
  /** A directory of agent CLIs to put first on PATH (agent-tools.ts), or null. */
  readonly toolsDir?: string | null;
}

/**
 * Environment for a sandbox process. The host environment is deliberately not inherited (it may
 * hold secrets such as the server's API key); only a minimal, predictable base is provided.
 */
export function sandboxEnv(
  sandbox: SandboxEnvSource,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    PATH: sandboxPath(sandbox.toolsDir ?? null),
    HOME: sandbox.workDir,
    USER: 'daytona',
    LOGNAME: 'daytona',
    SHELL: '/bin/bash',
    LANG: process.env['LANG'] ?? 'C.UTF-8',
    TERM: 'xterm-256color',
    // Local sandboxes run as whoever runs local-daytona, root included (CI containers): Claude
    // Code refuses --dangerously-skip-permissions (bypassPermissions) as root unless it is told
    // it runs in a sandbox. The sandbox image runs jobs as a non-root user instead.
    IS_SANDBOX: '1',
    ...sandbox.env,
    ...extra,
    DAYTONA_SANDBOX_ID: sandbox.id,
    DAYTONA_SANDBOX_USER: 'daytona',
    DAYTONA_SANDBOX_SNAPSHOT: sandbox.snapshot,
  };
}

/** Sends a signal to a whole process group, ignoring groups that are already gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group already exited.
  }
}

/** Tracks the processes spawned for one sandbox. */
export class ProcessTracker {
  readonly #sandboxId: string;
  readonly #live = new Set<ChildProcess>();

  constructor(sandboxId: string) {
    this.#sandboxId = sandboxId;
  }

  /**
   * Spawns `file args` detached (own process group) with piped stdout/stderr. stdin is
   * /dev/null unless `stdin: 'pipe'` asks for a writable pipe (held open until closed).
   */
  spawn(
    file: string,
    args: string[],
    cwd: string,
    env: Record<string, string>,
    stdin: 'ignore' | 'pipe' = 'ignore',
  ): ChildProcess {
    const child = spawn(file, args, { cwd, env, detached: true, stdio: [stdin, 'pipe', 'pipe'] });
    this.#live.add(child);
    child.once('close', () => this.#live.delete(child));
    child.once('error', () => this.#live.delete(child));
    return child;
  }

  /**
   * Kills every process of the sandbox: the known process groups and anything marked with the
   * sandbox id, rescanning to catch forks that raced a pass. Resolves once every victim is dead
   * and the direct children have been reaped, or after a bounded wait.
   */
  async killAll(): Promise<void> {
    const children = [...this.#live];
    const reaped = Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) resolve();
            else c.once('exit', () => resolve());
          }),
      ),
    );
    const victims = new Set<number>();
    for (const child of children) {
      killGroup(child.pid);
      if (child.pid !== undefined) victims.add(child.pid);
    }
    // One empty scan proves nothing: a process in the middle of an execve (setsid, nohup and
    // exec wrappers do one right after the fork) shows an empty environment for a moment.
    for (let pass = 0, empty = 0; pass < 50 && empty < 2; pass++) {
      const pids = await markedPids(this.#sandboxId);
      empty = pids.length === 0 ? empty + 1 : 0;
      for (const pid of pids) {
        victims.add(pid);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await delay(20);
    }
    // A dying process stops showing its environment before it turns into a zombie, so an empty
    // scan does not yet mean the victims are dead: wait for that explicitly.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (await anyAlive(victims))) await delay(10);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(deadline - Date.now(), 0));
      timer.unref();
    });
    await Promise.race([reaped, timeout]);
    clearTimeout(timer);
  }
}
