/**
 * What passes between the parts of the GitHub App (docs/github.md):
 *
 * - the Worker's intake (`POST /webhooks/github`) checks the signature, records the delivery,
 *   decides from the payload alone whether it is a trigger, and hands a {@link GitHubWork} to the
 *   installation's GitHubAppDO;
 * - GitHubAppDO checks the sender's permission, reacts, creates the job (with a
 *   {@link GitHubJobLink}) and its check run;
 * - the Job DO clones and pushes with installation tokens, and reports each change of the job to
 *   GitHubAppDO as a {@link GitHubJobUpdate}, which answers on GitHub.
 */
import type { GitHubTrigger } from '../db/schema.ts';
import type { JobStatus } from '../domain/jobs.ts';
import type { GitHubInstallationSettings } from './settings.ts';

/** The name of an installation's GitHubAppDO. */
export const gitHubAppObjectName = (installationId: number) => `installation:${installationId}`;

export interface GitHubRepository {
  owner: string;
  name: string;
  id: number;
  /** https clone URL of the repository (the payload's `clone_url`). */
  cloneUrl: string;
  defaultBranch: string;
  private: boolean;
}

/** A trigger the intake accepted, for GitHubAppDO to carry out. */
export interface GitHubWork {
  deliveryId: string;
  installationId: number;
  tenantId: string;
  projectId: string;
  trigger: GitHubTrigger;
  repository: GitHubRepository;
  /** Login of whoever caused the event: must have write or admin permission on the repository. */
  sender: string;
  /** The issue or pull request the trigger is on (null for a rerequested check run). */
  issueNumber: number | null;
  isPullRequest: boolean;
  /** The comment that asked (it gets the reaction), for the command and mention triggers. */
  commentId: number | null;
  /**
   * The commit and branch to run on, when the payload names them (pull_request events); null:
   * GitHubAppDO looks them up (a pull request's head, or the repository's default branch).
   */
  head: { sha: string; ref: string; cloneUrl: string } | null;
  /** The agent's prompt, built from the trigger (empty for a rerequest: the old job's is used). */
  prompt: string;
  /** check_run.rerequested: the check run whose job starts again. */
  rerunOfCheckRunId: number | null;
  settings: GitHubInstallationSettings;
  receivedAt: number;
}

/** What a job started from GitHub carries into its Job DO (JobSpec.github). */
export interface GitHubJobLink {
  installationId: number;
  /** `owner/name`. */
  repository: string;
  /** Push the agent's changes to this new branch once it succeeded; null: never push. */
  pushBranch: string | null;
}

/** What the branch push of a successful agent job did. */
export interface GitHubPush {
  branch: string;
  commitSha: string;
  changedFiles: number;
}

/** A change of a GitHub job, from its Job DO to GitHubAppDO.jobChanged (idempotent, latest wins). */
export interface GitHubJobUpdate {
  jobId: string;
  tenantId: string;
  status: JobStatus;
  exitCode: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  costMicroUsd: number;
  createdAt: number;
  runningAt: number | null;
  finishedAt: number | null;
  /** The agent's final text (bounded), for the answering comment. */
  agentResult: string | null;
  /** The pushed branch; null when nothing was pushed (no changes, not asked, or it failed). */
  push: GitHubPush | null;
  /** Why the push failed, when it did (the job itself still succeeded). */
  pushError: string | null;
}
