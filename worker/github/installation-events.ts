/**
 * What an `installation` delivery changes in Omni (docs/github.md, "Uninstalling and
 * suspending"): `deleted` removes the installation's mapping, so no later delivery of it starts a
 * job; `suspend` makes its GitHubAppDO take no trigger until `unsuspend`; `created` and
 * `new_permissions_accepted` refresh the mapping's account login. Each change of a mapped
 * installation is audit-logged in its tenant's log as the system (`system:github`), with the
 * delivery id as the request id.
 */
import { deleteInstallation, setInstallationAccount } from '../db/github.ts';
import type { GitHubInstallationRow } from '../db/schema.ts';
import { auditAs } from '../lib/audit.ts';
import type { InstallationPayload } from './payloads.ts';
import { gitHubAppObjectName } from './work.ts';

/** The actor of what GitHub itself asked for (the audit log's `actor`). */
export const GITHUB_SYSTEM_ACTOR = 'system:github';

export type InstallationChange =
  | { kind: 'deleted' }
  | { kind: 'suspended' }
  | { kind: 'unsuspended' }
  | { kind: 'account'; login: string };

/** The change `payload` asks for, or null when its action changes nothing. */
export function installationChangeOf(payload: InstallationPayload): InstallationChange | null {
  switch (payload.action) {
    case 'deleted':
      return { kind: 'deleted' };
    case 'suspend':
      return { kind: 'suspended' };
    case 'unsuspend':
      return { kind: 'unsuspended' };
    case 'created':
    case 'new_permissions_accepted': {
      const login = payload.installation.account?.login;
      return login === undefined ? null : { kind: 'account', login };
    }
    default:
      return null;
  }
}

/** The delivery's recorded reason for `change` of installation `id` (mapped or not). */
export function installationReason(
  change: InstallationChange,
  id: number,
  mapped: boolean,
): string {
  switch (change.kind) {
    case 'deleted':
      return mapped
        ? `installation deleted on GitHub: its mapping was removed`
        : `installation deleted on GitHub (it was not mapped)`;
    case 'suspended':
      return `installation suspended on GitHub: no trigger starts a job until it is unsuspended`;
    case 'unsuspended':
      return `installation unsuspended on GitHub: triggers start jobs again`;
    case 'account':
      return mapped
        ? `installation created`
        : `installation created: map it with PUT /v1/github/installations/${id}`;
  }
}

/**
 * Carries out `change` of installation `id`, whose mapping is `row` (null: not mapped). Safe to
 * repeat: a redelivery of a failed delivery does it again.
 */
export async function applyInstallationChange(
  env: Env,
  change: InstallationChange,
  id: number,
  row: GitHubInstallationRow | null,
  delivery: { deliveryId: string; sender: string | null },
): Promise<void> {
  const stub = () => env.GITHUB.getByName(gitHubAppObjectName(id));
  const auditOf = (
    action:
      | 'github.installation.delete'
      | 'github.installation.suspend'
      | 'github.installation.unsuspend',
  ) =>
    row === null
      ? Promise.resolve()
      : auditAs(
          env.DB,
          {
            tenantId: row.tenantId,
            actor: GITHUB_SYSTEM_ACTOR,
            requestId: delivery.deliveryId,
            ip: null,
          },
          action,
          String(id),
          { github_action: change.kind, sender: delivery.sender },
        );
  switch (change.kind) {
    case 'deleted':
      await auditOf('github.installation.delete');
      if (row !== null) await deleteInstallation(env.DB, row.tenantId, id);
      // A new installation of the App gets a new id; this one is gone for good.
      await stub().setSuspended(false);
      return;
    case 'suspended':
      await stub().setSuspended(true);
      await auditOf('github.installation.suspend');
      return;
    case 'unsuspended':
      await stub().setSuspended(false);
      await auditOf('github.installation.unsuspend');
      return;
    case 'account':
      if (row !== null && row.accountLogin !== change.login) {
        await setInstallationAccount(env.DB, id, change.login);
      }
      return;
  }
}
