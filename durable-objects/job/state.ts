/**
 * The Job Durable Object's persisted state: its shape, the zod schema that checks it when it is
 * read back from storage, and its mapping to the D1 `jobs` row.
 */
import { z } from 'zod';
import type { JobRow } from '../../worker/db/schema.ts';
import type { GitHubJobLink, GitHubPush } from '../../worker/github/work.ts';
import type { JobEnv } from '../../worker/domain/env.ts';
import { jobErrorCodes, jobKinds, jobStatuses, type JobKind } from '../../worker/domain/jobs.ts';
import { sandboxShapeSchema, type SandboxShape } from '../../worker/domain/sandbox-shape.ts';
import { agentRunSchema, emptyAgentRun } from './agents/run.ts';
import { agentSpecSchema, type AgentSpec } from './agents/types.ts';
import { jobEnvSchema, sealedEnvSchema } from './env.ts';

const nullableTime = z.number().int().nullable();

const tokenCount = z.number().int().nonnegative();

/** Tokens one model used (and what the agent CLI itself said they cost), per contract §2. */
export const modelUsageSchema = z.object({
  inputTokens: tokenCount,
  outputTokens: tokenCount,
  cacheReadTokens: tokenCount,
  cacheWriteTokens: tokenCount,
  reportedCostMicroUsd: z.number().int().nonnegative(),
});

export type ModelUsage = z.infer<typeof modelUsageSchema>;

/** The size, lifetime and network policy of a job's sandbox, resolved at creation (contract §3). */
export { sandboxShapeSchema, type SandboxShape };

const gitHubJobLinkSchema = z.object({
  installationId: z.number().int().positive(),
  repository: z.string(),
  pushBranch: z.string().nullable(),
}) satisfies z.ZodType<GitHubJobLink>;

const gitHubPushSchema = z.object({
  branch: z.string(),
  commitSha: z.string(),
  changedFiles: z.number().int().nonnegative(),
}) satisfies z.ZodType<GitHubPush>;

export const jobStateSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  status: z.enum(jobStatuses),
  repoUrl: z.string(),
  repoRef: z.string().nullable(),
  command: z.string(),
  timeoutSeconds: z.number().int().positive(),
  snapshot: z.string(),
  exitCode: z.number().int().nullable(),
  errorCode: z.enum(jobErrorCodes).nullable(),
  errorMessage: z.string().nullable(),
  sandboxId: z.string().nullable(),
  createdBy: z.string().nullable().default(null),
  /** The job's project (its budget and sandbox shape); null for jobs from before projects. */
  projectId: z.string().nullable().default(null),
  kind: z.enum(jobKinds).default('command'),
  /** What the job cost so far (the ledger's total), in millionths of a US dollar. */
  costMicroUsd: z.number().int().nonnegative().default(0),
  /** Tokens per model the agent used so far (durable-objects/job/agents/); {} for commands. */
  agentUsage: z.record(z.string(), modelUsageSchema).default({}),
  /** The agent an `agent` job runs (its prompt and options); null for commands. */
  agent: agentSpecSchema.nullable().default(null),
  /** The agent's final text (bounded), once its CLI reported it. */
  agentResult: z.string().nullable().default(null),
  /** How far the agent's output was read: line buffer, session, outcome (agents/run.ts). */
  agentRun: agentRunSchema.nullable().default(null),
  /** The sandbox's size; null for jobs from before shapes (priced as Daytona's default size). */
  sandboxShape: sandboxShapeSchema.nullable().default(null),
  /** The image to create the sandbox from when its size is not the snapshot's; null: the snapshot. */
  sandboxImage: z.string().nullable().default(null),
  /** When the sandbox was first asked for, and when it was deleted: the sandbox's billed time. */
  sandboxCreatedAt: nullableTime.default(null),
  sandboxDeletedAt: nullableTime.default(null),
  createdAt: z.number().int(),
  provisioningAt: nullableTime,
  cloningAt: nullableTime,
  runningAt: nullableTime,
  /** When the command first printed something (metrics: time to first output). */
  firstOutputAt: nullableTime.default(null),
  finishedAt: nullableTime,
  updatedAt: z.number().int(),
  /** The name the sandbox is (or will be) created under, recorded before Daytona is called. */
  sandboxName: z.string(),
  /** Set once a create call may have reached Daytona, so a retry looks the sandbox up first. */
  createRequested: z.boolean(),
  /** When the last create call was sent: one still in flight may create the sandbox late. */
  lastCreateAt: nullableTime.default(null),
  /** Set before the first clone, so a repeated clone starts from a clean directory. */
  cloneRequested: z.boolean().default(false),
  /** Set before the command is started, so a retry finds the started command instead of re-running it. */
  commandRequested: z.boolean(),
  /** When the command was first asked for: a retry waits a little for that request to land. */
  commandRequestedAt: nullableTime.default(null),
  cmdId: z.string().nullable(),
  /** UTF-8 bytes of each stream already stored: re-attaching to the log skips this many. */
  stdoutBytes: z.number().int().nonnegative().default(0),
  stderrBytes: z.number().int().nonnegative().default(0),
  /** Output bytes kept in the event log (capped). */
  storedOutputBytes: z.number().int().nonnegative().default(0),
  outputTruncated: z.boolean(),
  /** When the current step first failed with a transient error (its retry budget counts from here). */
  retryingSince: nullableTime.default(null),
  /** Log connections in a row that ended before the command did (re-attaching backs off). */
  reattachAttempts: z.number().int().nonnegative().default(0),
  /** When the sandbox or command was first seen gone or stopped, while the job still ran. */
  missingSince: nullableTime.default(null),
  sandboxDeleted: z.boolean(),
  /** False while the job waits in its tenant's queue for a running slot. */
  slotGranted: z.boolean().default(true),
  /** The command's environment: literals and names of secrets, never a secret's value (env.ts). */
  env: jobEnvSchema.default({}),
  /** The encrypted secrets the command was started with, to mask them after an eviction. */
  envSealed: sealedEnvSchema.default({}),
  /** The GitHub installation and repository of a job started from GitHub (github.ts); else null. */
  github: gitHubJobLinkSchema.nullable().default(null),
  /**
   * Where the push of a succeeded agent job's changes is (github.ts): `pending` from the job's
   * end until its result is recorded, `requested` once a push command may have been sent (a
   * retry then runs the same idempotent command again), `done` with its result; null: no push.
   */
  githubPushStep: z.enum(['pending', 'requested', 'done']).nullable().default(null),
  /** The branch the push made; null when nothing was pushed. */
  githubPush: gitHubPushSchema.nullable().default(null),
  /** Why the push failed (bounded, tokens masked); the job itself still succeeded. */
  githubPushError: z.string().nullable().default(null),
});

export type JobState = z.infer<typeof jobStateSchema>;

/** What the Worker hands the Job DO to start a job. */
export interface JobSpec {
  id: string;
  tenantId: string;
  repoUrl: string;
  repoRef: string | null;
  command: string;
  timeoutSeconds: number;
  snapshot: string;
  /** The actor that created the job (`key:<id>` or `user:<subject>`), for the record. */
  createdBy: string | null;
  createdAt: number;
  /** The job's project; absent for callers from before projects. */
  projectId?: string | null;
  /** What the job runs; `command` when absent. */
  kind?: JobKind;
  /** The command's environment (literals and secret references); none when absent. */
  env?: JobEnv;
  /** The agent of an `agent` job; `command` is then the agent CLI's shell line. */
  agent?: AgentSpec | null;
  /** The sandbox's size, resolved at creation from the project or the operator's defaults. */
  sandboxShape?: SandboxShape | null;
  /** The image of a sandbox whose size is not the snapshot's (Daytona sizes only those). */
  sandboxImage?: string | null;
  /** The GitHub App installation and repository a job from GitHub answers (GitHubAppDO). */
  github?: GitHubJobLink | null;
}

/** The initial state of a job that has just been accepted; `waiting` if it is queued for a slot. */
export function initialState(spec: JobSpec, waiting = false): JobState {
  return {
    ...spec,
    projectId: spec.projectId ?? null,
    kind: spec.kind ?? 'command',
    env: spec.env ?? {},
    envSealed: {},
    costMicroUsd: 0,
    agentUsage: {},
    agent: spec.agent ?? null,
    agentResult: null,
    agentRun: spec.agent ? emptyAgentRun : null,
    sandboxShape: spec.sandboxShape ?? null,
    sandboxImage: spec.sandboxImage ?? null,
    github: spec.github ?? null,
    githubPushStep: null,
    githubPush: null,
    githubPushError: null,
    sandboxCreatedAt: null,
    sandboxDeletedAt: null,
    status: 'queued',
    exitCode: null,
    errorCode: null,
    errorMessage: null,
    sandboxId: null,
    provisioningAt: null,
    cloningAt: null,
    runningAt: null,
    firstOutputAt: null,
    finishedAt: null,
    updatedAt: spec.createdAt,
    // Daytona sandbox names are unique per organisation; the job id makes this one unique.
    sandboxName: `omni-${spec.id}`,
    createRequested: false,
    lastCreateAt: null,
    cloneRequested: false,
    commandRequested: false,
    commandRequestedAt: null,
    cmdId: null,
    stdoutBytes: 0,
    stderrBytes: 0,
    storedOutputBytes: 0,
    outputTruncated: false,
    retryingSince: null,
    reattachAttempts: 0,
    missingSince: null,
    sandboxDeleted: false,
    slotGranted: !waiting,
  };
}

/** The D1 row that mirrors `state`. */
export function toRow(state: JobState): JobRow {
  return {
    id: state.id,
    tenantId: state.tenantId,
    status: state.status,
    repoUrl: state.repoUrl,
    repoRef: state.repoRef,
    command: state.command,
    timeoutSeconds: state.timeoutSeconds,
    exitCode: state.exitCode,
    errorCode: state.errorCode,
    errorMessage: state.errorMessage,
    sandboxId: state.sandboxId,
    createdBy: state.createdBy,
    projectId: state.projectId,
    kind: state.kind,
    costMicroUsd: state.costMicroUsd,
    createdAt: state.createdAt,
    provisioningAt: state.provisioningAt,
    cloningAt: state.cloningAt,
    runningAt: state.runningAt,
    firstOutputAt: state.firstOutputAt,
    finishedAt: state.finishedAt,
    updatedAt: state.updatedAt,
  };
}
