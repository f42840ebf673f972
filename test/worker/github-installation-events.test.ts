/**
 * `installation` deliveries (real @octokit/webhooks-examples payloads, signed as GitHub signs
 * them): `deleted` removes the mapping (audit-logged as the system) so later triggers are
 * ignored as unmapped; `suspend` makes the installation start nothing until `unsuspend`;
 * `new_permissions_accepted` refreshes the mapping's account login.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { issueCommentPayload, setUpGitHubTenant, settled } from './github-job-helpers.ts';
import { standInState } from './github-stand-in-client.ts';
import { deliver, example, merged } from './github-webhook-helpers.ts';

const SENDER = 'octo-installer';

function setUp() {
  // Read permission: a trigger that gets past the installation's gates stops at the permission
  // check, so no job (no paid work) is ever started here.
  return setUpGitHubTenant({
    sender: SENDER,
    permission: 'read',
    anthropicKey: null,
    mapping: { account_login: 'before' },
  });
}

type Setup = Awaited<ReturnType<typeof setUp>>;

async function installationEvent(setup: Setup, action: string, login = 'Codertocat') {
  const payload = merged(example('installation', action), {
    installation: { id: setup.repo.installationId, account: { login } },
    sender: { login: SENDER, type: 'User' },
  });
  const { res, deliveryId } = await deliver('installation', payload);
  const body: unknown = await res.json();
  return { status: res.status, body, deliveryId };
}

async function trigger(setup: Setup) {
  const payload = issueCommentPayload(setup.repo, {
    sender: SENDER,
    issueNumber: 4,
    title: 'Something',
    commentId: 800_000 + Math.floor(Math.random() * 100_000),
    body: '/omni look at this',
  });
  const { res, deliveryId } = await deliver('issue_comment', payload);
  const body: unknown = await res.json();
  return { status: res.status, body, deliveryId };
}

async function auditOf(tenantId: string, action: string) {
  const rows = await env.DB.prepare(
    'SELECT actor, target, request_id AS requestId FROM audit_log WHERE tenant_id = ? AND action = ?',
  )
    .bind(tenantId, action)
    .all();
  return rows.results;
}

describe('installation deliveries', { timeout: 120_000 }, () => {
  it('deleted: the mapping goes, audit-logged as the system, and later triggers are ignored', async () => {
    const setup = await setUp();
    const id = setup.repo.installationId;
    const deleted = await installationEvent(setup, 'deleted');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({
      outcome: 'ignored',
      reason: 'installation deleted on GitHub: its mapping was removed',
    });
    const mapping = await env.DB.prepare(
      'SELECT * FROM github_installations WHERE installation_id = ?',
    )
      .bind(id)
      .first();
    expect(mapping).toBeNull();
    expect(await auditOf(setup.tenantId, 'github.installation.delete')).toEqual([
      { actor: 'system:github', target: String(id), requestId: deleted.deliveryId },
    ]);

    const after = await trigger(setup);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ outcome: 'ignored' });
    expect(JSON.stringify(after.body)).toContain('is not mapped');
    expect((await standInState(setup.repo.fullName)).requests).toEqual([]);
  });

  it('suspend: triggers start nothing until unsuspend', async () => {
    const setup = await setUp();
    const suspended = await installationEvent(setup, 'suspend');
    expect(suspended.status).toBe(200);
    expect(suspended.body).toMatchObject({ outcome: 'ignored' });
    expect(await auditOf(setup.tenantId, 'github.installation.suspend')).toEqual([
      {
        actor: 'system:github',
        target: String(setup.repo.installationId),
        requestId: suspended.deliveryId,
      },
    ]);

    const during = await trigger(setup);
    expect(during.status).toBe(202);
    const row = await settled(during.deliveryId);
    expect(row).toMatchObject({ outcome: 'ignored', job_id: null });
    expect(row.reason).toContain('suspended');
    // Nothing was asked of GitHub: not even the permission check.
    expect((await standInState(setup.repo.fullName)).requests).toEqual([]);

    const unsuspended = await installationEvent(setup, 'unsuspend');
    expect(unsuspended.body).toMatchObject({ outcome: 'ignored' });
    expect(await auditOf(setup.tenantId, 'github.installation.unsuspend')).toHaveLength(1);
    const later = await trigger(setup);
    expect(later.status).toBe(202);
    const laterRow = await settled(later.deliveryId);
    // Past the installation's gate again: it stopped at the sender's permission.
    expect(laterRow.outcome).toBe('ignored');
    expect(laterRow.reason).toContain('read permission');
  });

  it('new_permissions_accepted refreshes the account login of the mapping', async () => {
    const setup = await setUp();
    const res = await installationEvent(setup, 'new_permissions_accepted', 'renamed-org');
    expect(res.status).toBe(200);
    const mapping = await env.DB.prepare(
      'SELECT account_login AS login FROM github_installations WHERE installation_id = ?',
    )
      .bind(setup.repo.installationId)
      .first();
    expect(mapping).toEqual({ login: 'renamed-org' });
  });
});
