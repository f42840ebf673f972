/** Process checks shared by the local-daytona tests. */
import { readFileSync } from 'node:fs';

/** True while `pid` exists and is not a zombie (an orphan may linger unreaped as one). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
