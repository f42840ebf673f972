/**
 * The setup shared by the workerd tests that drive GitHubAppDO end to end: a tenant (with its
 * Anthropic key, or none) mapped to a repository of its own on the GitHub stand-in with the
 * sender's permission, `issue_comment` payloads on that repository, and waits for a delivery to
 * settle.
 */
import { expect } from 'vitest';
import { GOOD_KEY_PREFIX } from '../anthropic-script.ts';
import {
  addStandInRepository,
  setStandInPermission,
  type StandInPermission,
} from './github-stand-in-client.ts';
import { deliveryRow, example, mapInstallation, merged } from './github-webhook-helpers.ts';
import { newTenant } from './helpers.ts';
import { send } from './identity-helpers.ts';

export type StandInRepository = Awaited<ReturnType<typeof addStandInRepository>>;

/** Reads `read` until `done` holds; the test's own timeout bounds the wait. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The delivery's row once GitHubAppDO settled it (its outcome is no longer `accepted`). */
export async function settled(deliveryId: string) {
  const row = await eventually(
    () => deliveryRow(deliveryId),
    (r) => r !== null && r.outcome !== 'accepted',
  );
  if (row === null) throw new Error('no delivery row');
  return row;
}

/** The job id of a delivery that settled as `job_created`. */
export async function jobOf(deliveryId: string): Promise<string> {
  const row = await settled(deliveryId);
  expect(row.outcome, row.reason ?? '').toBe('job_created');
  return row.job_id ?? '';
}

/** A fresh ANTHROPIC_API_KEY the Anthropic stand-in accepts. */
export function goodAnthropicKey(): string {
  return `${GOOD_KEY_PREFIX}${crypto.randomUUID()}`;
}

export interface GitHubTenantOptions {
  /** The login whose permission on the repository is set. */
  sender: string;
  permission: StandInPermission;
  /** The tenant's ANTHROPIC_API_KEY; null: none is set. */
  anthropicKey: string | null;
  /** The body of the installation mapping's PUT. */
  mapping?: Record<string, unknown>;
}

/**
 * A tenant (owner key) with its ANTHROPIC_API_KEY, a repository of its own on the stand-in on
 * which `sender` has `permission`, and the repository's installation mapped to the tenant.
 */
export async function setUpGitHubTenant(options: GitHubTenantOptions) {
  const { apiKey, tenantId } = await newTenant('owner');
  if (options.anthropicKey !== null) {
    const put = await send('PUT', '/v1/secrets/ANTHROPIC_API_KEY', apiKey, {
      value: options.anthropicKey,
    });
    expect(put.status, await put.text()).toBe(201);
  }
  const repo = await addStandInRepository();
  await setStandInPermission(repo.fullName, options.sender, options.permission);
  await mapInstallation(apiKey, repo.installationId, options.mapping ?? {});
  return { apiKey, tenantId, repo };
}

/** The `repository` object of a delivery about `repo`. */
export function repositoryFields(repo: StandInRepository) {
  return {
    name: repo.name,
    full_name: repo.fullName,
    owner: { login: repo.owner },
    clone_url: repo.cloneUrl,
    default_branch: 'main',
    private: false,
  };
}

export interface CommentFields {
  sender: string;
  issueNumber: number;
  title: string;
  commentId: number;
  body: string;
  /** The issue is a pull request. */
  onPullRequest?: boolean;
}

/** An `issue_comment.created` payload: `sender` comments `body` on an issue of `repo`. */
export function issueCommentPayload(repo: StandInRepository, fields: CommentFields) {
  const pullRequest = fields.onPullRequest
    ? { html_url: `https://github.com/${repo.fullName}/pull/${fields.issueNumber}` }
    : undefined;
  return merged(example('issue_comment', 'created'), {
    installation: { id: repo.installationId },
    repository: repositoryFields(repo),
    issue: { number: fields.issueNumber, title: fields.title, pull_request: pullRequest },
    comment: {
      id: fields.commentId,
      body: fields.body,
      user: { login: fields.sender, type: 'User' },
    },
    sender: { login: fields.sender, type: 'User' },
  });
}
