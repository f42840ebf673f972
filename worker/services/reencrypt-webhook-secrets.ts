/**
 * The scheduled re-encryption of webhook signing secrets after a key rotation, beside that of
 * tenant secrets (reencrypt-secrets.ts, docs/secrets.md): subscriptions whose secret is under an
 * older key of SECRETS_KEYS get it under the current one, a batch per run. Secrets are in memory
 * only while this runs, and never logged.
 */
import { ConfigError } from '../config.ts';
import { listSubscriptionsWithKeys, replaceSubscriptionSecret } from '../db/webhooks.ts';
import { errorFields, log } from '../lib/log.ts';
import { loadSecretsKeys, openSecret, sealSecret } from '../lib/secrets-crypto.ts';

const BATCH = 200;

/**
 * Re-encrypts up to `batch` webhook secrets of older keys; returns how many, or null (nothing
 * done) when the keys are not configured.
 */
export async function reencryptWebhookSecrets(
  env: Env,
  batch = BATCH,
): Promise<{ reencrypted: number; failed: number } | null> {
  let keyring;
  try {
    keyring = await loadSecretsKeys(env);
  } catch (error) {
    if (error instanceof ConfigError) return null;
    throw error;
  }
  const older = [...keyring.keys.keys()].filter((id) => id !== keyring.currentId);
  const rows = await listSubscriptionsWithKeys(env.DB, older, batch);
  const summary = { reencrypted: 0, failed: 0 };
  for (const row of rows) {
    const name = `webhook:${row.id}`;
    try {
      const secret = await openSecret(keyring, row.tenantId, name, row);
      const next = await sealSecret(keyring, row.tenantId, name, secret);
      if (await replaceSubscriptionSecret(env.DB, row, next)) summary.reencrypted++;
    } catch (error) {
      summary.failed++;
      log('error', 'could not re-encrypt a webhook secret', {
        tenant_id: row.tenantId,
        subscription_id: row.id,
        key_id: row.keyId,
        ...errorFields(error),
      });
    }
  }
  if (rows.length > 0) {
    log(summary.failed > 0 ? 'warn' : 'info', 'webhook secrets re-encrypted', {
      key_id: keyring.currentId,
      ...summary,
      more: rows.length === batch,
    });
  }
  return summary;
}
