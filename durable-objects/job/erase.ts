/**
 * Erasing a job when its tenant is deleted (durable-objects/tenant/deletion.ts): the Job DO's
 * whole storage (state, event log, deadlines) and its alarm go. Only a job that has ended and
 * whose end has been carried out may be erased: its changes pushed (`push`, a job from GitHub),
 * its sandbox deleted (`cleanup`), its final D1 row
 * written (`sync`), its slot returned (`release`), its final ledger written (`ledger`, so that no
 * late write brings a deleted ledger line back), and its last watchers sent the rest of the log
 * and closed. Erasing earlier would lose the sandbox, let a late mirror write bring a deleted row
 * back, or pull the log from under a replay. Other deadlines (the output retention) may still be
 * pending: erasing does their work or makes it moot.
 */
import { isTerminal } from './decisions.ts';
import type { JobState } from './state.ts';
import type { DeadlineKind } from './storage.ts';

/** What JobDO.erase() did: erased the job, refused (`busy`), or found no job of the tenant. */
export type EraseResult = 'erased' | 'busy' | 'unknown';

/** Deadlines that carry out a job's run or its end: while one is pending, erasing must wait. */
const UNFINISHED_WORK: ReadonlySet<DeadlineKind> = new Set<DeadlineKind>([
  'advance',
  'timeout',
  'cleanup',
  'push',
  'sync',
  'release',
  'ledger',
]);

/** Whether a job in `state`, with the deadlines `pending` and `watchers` open, may be erased. */
export function mayErase(
  state: Pick<JobState, 'status'>,
  pending: readonly DeadlineKind[],
  watchers: number,
): boolean {
  return isTerminal(state) && watchers === 0 && !pending.some((kind) => UNFINISHED_WORK.has(kind));
}
