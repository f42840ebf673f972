/**
 * The Job DO's side of a job started from GitHub (docs/github.md): whether and when it pushes
 * its changes, and the updates GitHubAppDO answers on GitHub with. The git lines themselves are
 * in git-lines.ts; the runner (runner.ts) carries them out in the sandbox.
 */
import { isTerminal } from './decisions.ts';
import type { JobState } from './state.ts';
import type { GitHubJobUpdate } from '../../worker/github/work.ts';

/** Whether a job that has just ended pushes its changes: a succeeded agent job with a branch. */
export function needsPush(state: JobState): boolean {
  return (
    state.status === 'succeeded' &&
    state.kind === 'agent' &&
    state.github !== null &&
    state.github.pushBranch !== null &&
    state.sandboxId !== null
  );
}

/** Whether the job's push is still to be carried out (its end is then not reported yet). */
export function pushPending(state: JobState): boolean {
  return state.githubPushStep === 'pending' || state.githubPushStep === 'requested';
}

/** The commit message of a job's push. */
export function commitMessage(state: JobState): string {
  return `Omni job ${state.id}\n\nChanges made by the agent of Omni job ${state.id}.`;
}

/**
 * The update GitHubAppDO gets for the job as it is now, or null when there is none to send: the
 * job is not from GitHub, or it has ended and its push is still to be carried out (its end is
 * reported once the push's result is known).
 */
export function gitHubUpdate(state: JobState): GitHubJobUpdate | null {
  if (state.github === null) return null;
  if (isTerminal(state) && pushPending(state)) return null;
  return {
    jobId: state.id,
    tenantId: state.tenantId,
    status: state.status,
    exitCode: state.exitCode,
    errorCode: state.errorCode,
    errorMessage: state.errorMessage,
    costMicroUsd: state.costMicroUsd,
    createdAt: state.createdAt,
    runningAt: state.runningAt,
    finishedAt: state.finishedAt,
    agentResult: state.agentResult,
    push: state.githubPush,
    pushError: state.githubPushError,
  };
}
