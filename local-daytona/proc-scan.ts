/**
 * Finding a sandbox's processes on the host through /proc: every process spawned for a sandbox
 * carries `DAYTONA_SANDBOX_ID=<id>` in its environment (as in real sandboxes), and children
 * inherit it, so the marker finds them even after they left their process group (nohup, setsid,
 * double forks). Without procfs (not Linux) nothing is found and only process groups are used.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

const MARKER = 'DAYTONA_SANDBOX_ID=';

const HAS_PROCFS = existsSync('/proc/self/stat');

/** Pids in /proc other than our own. */
async function pids(): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return [];
  }
  return names.map(Number).filter((pid) => Number.isInteger(pid) && pid !== process.pid);
}

/** The sandbox id in a process's environment, if it has one (undefined once it has exited). */
async function sandboxOf(pid: number): Promise<string | undefined> {
  let environ: Buffer;
  try {
    environ = await readFile(`/proc/${pid}/environ`);
  } catch {
    return undefined; // Exited meanwhile or not ours to read.
  }
  for (const entry of environ.toString('utf8').split('\0')) {
    if (entry.startsWith(MARKER)) return entry.slice(MARKER.length);
  }
  return undefined;
}

/** Pids of live processes whose environment carries DAYTONA_SANDBOX_ID=<sandboxId>. */
export async function markedPids(sandboxId: string): Promise<number[]> {
  const all = await pids();
  const owners = await Promise.all(all.map(sandboxOf));
  return all.filter((_, i) => owners[i] === sandboxId);
}

/**
 * How many live processes each of the given sandboxes has, in one pass over /proc. Zombies
 * are not counted: their environment is empty.
 */
export async function countMarked(sandboxIds: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map(sandboxIds.map((id) => [id, 0]));
  const owners = await Promise.all((await pids()).map(sandboxOf));
  for (const owner of owners) {
    const count = owner === undefined ? undefined : counts.get(owner);
    if (owner !== undefined && count !== undefined) counts.set(owner, count + 1);
  }
  return counts;
}

/** True while `pid` exists and is neither a zombie nor dead. */
async function isRunning(pid: number): Promise<boolean> {
  if (!HAS_PROCFS) {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state !== 'Z' && state !== 'X' && state !== 'x';
  } catch {
    return false;
  }
}

/** True while any of `pids` is running. */
export async function anyAlive(pids: Iterable<number>): Promise<boolean> {
  const states = await Promise.all([...pids].map(isRunning));
  return states.includes(true);
}
