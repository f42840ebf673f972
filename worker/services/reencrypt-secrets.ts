/**
 * The scheduled re-encryption of secrets after a key rotation (docs/secrets.md): secrets still
 * encrypted with an older key of SECRETS_KEYS are decrypted and encrypted again with the current
 * one (SECRETS_KEY_ID), a batch per run, so that the old key can be removed once none is left.
 * A value put meanwhile is left alone (it is under the current key already). Values are in
 * memory only while this runs, and never logged.
 */
import { ConfigError } from '../config.ts';
import {
  countSecretsWithoutKeys,
  listSecretsWithKeys,
  replaceSealedSecret,
} from '../db/secrets.ts';
import { errorFields, log } from '../lib/log.ts';
import { loadSecretsKeys, openSecret, sealSecret } from '../lib/secrets-crypto.ts';

/** Secrets re-encrypted per run at most; the next run carries on. */
const BATCH = 200;

/** What one run did. */
export interface ReencryptSummary {
  /** Secrets now encrypted with the current key. */
  reencrypted: number;
  /** Secrets that could not be re-encrypted (damaged, or D1 failed). */
  failed: number;
  /** True if the batch was full: more may be left for the next run. */
  more: boolean;
  /** Secrets encrypted with a key that SECRETS_KEYS no longer has: they cannot be read. */
  unreadable: number;
}

/**
 * Re-encrypts up to `batch` secrets of older keys with the current key; logs a summary when
 * there was something to do. Null (and nothing done) when the keys are not configured.
 */
export async function reencryptSecrets(env: Env, batch = BATCH): Promise<ReencryptSummary | null> {
  let keyring;
  try {
    keyring = await loadSecretsKeys(env);
  } catch (error) {
    if (error instanceof ConfigError) return null;
    throw error;
  }
  const older = [...keyring.keys.keys()].filter((id) => id !== keyring.currentId);
  const rows = await listSecretsWithKeys(env.DB, older, batch);
  const summary: ReencryptSummary = {
    reencrypted: 0,
    failed: 0,
    more: rows.length === batch,
    unreadable: 0,
  };
  for (const row of rows) {
    try {
      const value = await openSecret(keyring, row.tenantId, row.name, row);
      const next = await sealSecret(keyring, row.tenantId, row.name, value);
      if (await replaceSealedSecret(env.DB, row, next)) summary.reencrypted++;
    } catch (error) {
      summary.failed++;
      log('error', 'could not re-encrypt a secret', {
        tenant_id: row.tenantId,
        secret: row.name,
        key_id: row.keyId,
        ...errorFields(error),
      });
    }
  }
  summary.unreadable = await countSecretsWithoutKeys(env.DB, [...keyring.keys.keys()]);
  if (rows.length > 0 || summary.unreadable > 0) {
    log(summary.failed > 0 || summary.unreadable > 0 ? 'warn' : 'info', 'secrets re-encrypted', {
      key_id: keyring.currentId,
      ...summary,
    });
  }
  return summary;
}
