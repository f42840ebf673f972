/**
 * What Omni says on GitHub about a job, as pure functions of the job's latest update: the check
 * run's fields, the answering comment, the pull request's title and body, and the comment that
 * explains why no job was started. Every comment carries {@link OMNI_MARKER}, so Omni never
 * takes its own words for a trigger, and stays under GitHub's 65536 characters.
 */
import { isFinalStatus } from '../../worker/domain/jobs.ts';
import { OMNI_MARKER } from '../../worker/github/triggers.ts';
import type { GitHubJobUpdate } from '../../worker/github/work.ts';

/** Marks every comment Omni writes (an HTML comment: invisible once rendered); the intake ignores it. */
export { OMNI_MARKER };

/** Marks the answering comment of job `jobId`, so that a retry finds it instead of posting another. */
export function jobMarker(jobId: string): string {
  return `<!-- omni job:${jobId} -->`;
}

/** Marks the comment that answers delivery `deliveryId` when it started no job. */
export function deliveryMarker(deliveryId: string): string {
  return `<!-- omni delivery:${deliveryId} -->`;
}

/** The check run's name, in the pull request's checks list. */
export const CHECK_RUN_NAME = 'Omni';
/** GitHub refuses comment bodies over 65536 characters; this leaves room for the frame. */
export const MAX_RESULT_CHARS = 60_000;
/** GitHub caps a check run's output summary at 65535 characters. */
const MAX_SUMMARY_CHARS = 60_000;

export type CheckConclusion = 'success' | 'failure' | 'cancelled' | 'timed_out';

/** What a check run create or update sends (the REST API's field names). */
export interface CheckRunFields {
  status: 'queued' | 'in_progress' | 'completed';
  started_at?: string;
  completed_at?: string;
  conclusion?: CheckConclusion;
  output?: { title: string; summary: string };
}

/** A job's links: its page (null when the Worker's public URL is not set). */
export interface JobLinks {
  page: string | null;
}

/** The conclusion of an ended job. */
export function conclusionOf(update: Pick<GitHubJobUpdate, 'status'>): CheckConclusion {
  switch (update.status) {
    case 'succeeded':
      return 'success';
    case 'canceled':
      return 'cancelled';
    case 'timed_out':
      return 'timed_out';
    default:
      return 'failure';
  }
}

/** `$0.0123`: millionths of a dollar in USD, to the cent or, below a cent, four places. */
export function formatUsd(microUsd: number): string {
  const usd = microUsd / 1e6;
  return usd >= 0.01 || usd === 0 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
}

/** `1m 05s`, `42s`, `2h 03m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h ${two(m)}m`;
  if (m > 0) return `${m}m ${two(s)}s`;
  return `${s}s`;
}

/** How long the job ran (from its start, else its creation, to its end or `now`). */
function durationOf(update: GitHubJobUpdate, now: number): number {
  return (update.finishedAt ?? now) - (update.runningAt ?? update.createdAt);
}

/** One line on how the job ended: its exit code, or its error. */
export function outcomeLine(update: GitHubJobUpdate): string {
  if (update.status === 'succeeded') return 'Succeeded (exit code 0).';
  const error = update.errorMessage ? `: ${oneLine(update.errorMessage, 500)}` : '';
  const code = update.errorCode ?? update.status;
  const exit = update.exitCode === null ? '' : ` (exit code ${update.exitCode})`;
  return `Ended ${update.status} — ${code}${exit}${error}`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function titleOf(update: GitHubJobUpdate): string {
  switch (conclusionOf(update)) {
    case 'success':
      return 'The agent job succeeded';
    case 'cancelled':
      return 'The agent job was canceled';
    case 'timed_out':
      return 'The agent job ran out of time';
    default:
      return 'The agent job failed';
  }
}

/**
 * The check run's fields for `update`: queued until the job runs, in progress while it runs,
 * completed with a conclusion and a summary (duration, cost, outcome, log link) at its end.
 */
export function checkRunFields(
  update: GitHubJobUpdate,
  links: JobLinks,
  now: number,
): CheckRunFields {
  const logLine = links.page ? `\n\n[Live log and details](${links.page})` : '';
  if (isFinalStatus(update.status)) {
    const summary = [
      `**Duration** ${formatDuration(durationOf(update, now))} · **Cost** ${formatUsd(update.costMicroUsd)}`,
      '',
      outcomeLine(update),
    ].join('\n');
    return {
      status: 'completed',
      ...(update.runningAt === null ? {} : { started_at: iso(update.runningAt) }),
      completed_at: iso(update.finishedAt ?? now),
      conclusion: conclusionOf(update),
      output: { title: titleOf(update), summary: (summary + logLine).slice(0, MAX_SUMMARY_CHARS) },
    };
  }
  if (update.status === 'running') {
    return {
      status: 'in_progress',
      started_at: iso(update.runningAt ?? now),
      output: {
        title: 'The agent is working',
        summary: `Job ${update.jobId} is running.${logLine}`,
      },
    };
  }
  return { status: 'queued' };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `text` cut to `max` characters, saying so. */
export function bounded(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n\n… (cut: ${text.length - max} more characters in the job's log)`;
}

/** Text shown inside a fenced block: a fence longer than every backtick run in it. */
function fenced(text: string): string {
  const longest = Math.max(2, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${text}\n${fence}`;
}

/** What the answering comment says about the pull request with the agent's changes. */
export type PullRequestNote =
  { kind: 'opened'; number: number; url: string } | { kind: 'failed'; reason: string } | null;

/** The comment on the issue or pull request once the job has ended. */
export function resultComment(
  update: GitHubJobUpdate,
  links: JobLinks,
  pullRequest: PullRequestNote,
  now: number,
): string {
  const icon = update.status === 'succeeded' ? '✅' : '❌';
  const lines = [
    OMNI_MARKER,
    jobMarker(update.jobId),
    `${icon} **${titleOf(update)}** in ${formatDuration(durationOf(update, now))}, cost ${formatUsd(update.costMicroUsd)}.`,
  ];
  if (update.status !== 'succeeded') lines.push('', outcomeLine(update));
  if (pullRequest?.kind === 'opened') {
    lines.push('', `The agent's changes are in pull request #${pullRequest.number}.`);
  }
  if (pullRequest?.kind === 'failed') {
    lines.push(
      '',
      `The agent's changes could not be proposed: ${oneLine(pullRequest.reason, 500)}`,
    );
  }
  if (update.pushError) {
    lines.push('', `Pushing the agent's changes failed: ${oneLine(update.pushError, 500)}`);
  }
  if (update.agentResult) {
    lines.push(
      '',
      "<details open><summary>The agent's answer</summary>",
      '',
      fenced(bounded(update.agentResult, MAX_RESULT_CHARS)),
      '',
      '</details>',
    );
  }
  if (links.page) lines.push('', `[Job ${update.jobId}: live log and details](${links.page})`);
  else lines.push('', `Job \`${update.jobId}\``);
  return lines.join('\n');
}

/** The comment that says why a trigger started no job, and what to fix. */
export function refusalComment(reason: string, marker?: string): string {
  return [
    OMNI_MARKER,
    ...(marker === undefined ? [] : [marker]),
    `⚠️ **Omni did not start a job.** ${oneLine(reason, 2_000)}`,
  ].join('\n');
}

/** The pull request that proposes the agent's changes. */
export function pullRequestText(
  update: GitHubJobUpdate,
  issueNumber: number | null,
  isPullRequest: boolean,
  links: JobLinks,
): { title: string; body: string } {
  const about = issueNumber === null ? '' : ` for #${issueNumber}`;
  const lines = [OMNI_MARKER, `Changes made by an Omni agent job${about}.`];
  if (issueNumber !== null && !isPullRequest) lines.push('', `Closes #${issueNumber}`);
  if (links.page) lines.push('', `Job: ${links.page}`);
  else lines.push('', `Job: \`${update.jobId}\``);
  if (update.agentResult) {
    lines.push('', fenced(bounded(update.agentResult, MAX_RESULT_CHARS / 2)));
  }
  return { title: `Omni: changes from job ${update.jobId}${about}`, body: lines.join('\n') };
}
