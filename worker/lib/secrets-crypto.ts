/**
 * Encryption of tenant secrets at rest: AES-256-GCM through WebCrypto, with keys from the Worker
 * secret SECRETS_KEYS (a JSON object of key id → base64 of 32 random bytes) and SECRETS_KEY_ID,
 * the id of the key new values are written with. Each value gets a fresh 12-byte IV, and the
 * additional authenticated data binds the ciphertext to its tenant and name, so a row copied to
 * another tenant or another name does not decrypt. A row records its key id, so after a rotation
 * (docs/secrets.md) old rows still decrypt with the key they were written with.
 */
import { z } from 'zod';
import { ConfigError } from '../config.ts';

/** A value as stored: the key it was encrypted with, its IV and the ciphertext (base64). */
export interface SealedSecret {
  keyId: string;
  iv: string;
  ciphertext: string;
}

/** The keys of SECRETS_KEYS, imported, and the id of the one new values use. */
export interface SecretsKeyring {
  currentId: string;
  keys: ReadonlyMap<string, CryptoKey>;
}

/** A stored value did not decrypt: wrong tenant or name, a damaged row, or a replaced key. */
export class SecretDecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretDecryptError';
  }
}

const IV_BYTES = 12;
const KEY_BYTES = 32;

const settingsSchema = z.object({
  SECRETS_KEYS: z.string().min(1),
  SECRETS_KEY_ID: z.string().min(1),
});
const keysSchema = z.record(z.string().min(1).max(64), z.string());

function toBase64(bytes: Uint8Array): string {
  return btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''));
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

/** The additional authenticated data of the secret `name` of `tenantId`. */
function additionalData(tenantId: string, name: string): Uint8Array {
  return new TextEncoder().encode(`omni.secret.v1\n${tenantId}\n${name}`);
}

/** The keyring of this isolate, by the settings it was made from (they change on a deploy). */
let cached: { source: string; keyring: Promise<SecretsKeyring> } | null = null;

/**
 * The keyring SECRETS_KEYS and SECRETS_KEY_ID describe.
 * @throws ConfigError naming the setting that is missing or malformed.
 */
export async function loadSecretsKeys(env: object): Promise<SecretsKeyring> {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const setting = parsed.error.issues[0]?.path.join('.') ?? 'SECRETS_KEYS';
    throw new ConfigError(
      `The setting ${setting} is missing or invalid: secrets need SECRETS_KEYS and SECRETS_KEY_ID (docs/secrets.md).`,
    );
  }
  const { SECRETS_KEYS: raw, SECRETS_KEY_ID: currentId } = parsed.data;
  const source = `${currentId}\n${raw}`;
  if (cached?.source !== source) cached = { source, keyring: importKeys(raw, currentId) };
  return cached.keyring;
}

/** Parses and imports the keys; synchronous checks throw before the first await. */
function importKeys(raw: string, currentId: string): Promise<SecretsKeyring> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError(
      'The setting SECRETS_KEYS is missing or invalid: it must be a JSON object of key id → base64 key.',
    );
  }
  const entries = keysSchema.safeParse(json);
  if (!entries.success) {
    throw new ConfigError(
      'The setting SECRETS_KEYS is missing or invalid: it must be a JSON object of key id → base64 key.',
    );
  }
  const material = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const [id, encoded] of Object.entries(entries.data)) {
    const bytes = fromBase64(encoded);
    if (bytes?.length !== KEY_BYTES) {
      throw new ConfigError(
        `The setting SECRETS_KEYS is missing or invalid: the key ${id} must be base64 of ${KEY_BYTES} bytes.`,
      );
    }
    material.set(id, bytes);
  }
  if (!material.has(currentId)) {
    throw new ConfigError(
      `The setting SECRETS_KEY_ID is missing or invalid: SECRETS_KEYS has no key with id ${currentId}.`,
    );
  }
  const imports = [...material].map(async ([id, bytes]) => {
    const key = await crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ]);
    return [id, key] as const;
  });
  return Promise.all(imports).then((keys) => ({ currentId, keys: new Map(keys) }));
}

/** Encrypts `value`, the secret `name` of `tenantId`, with the current key and a fresh IV. */
export async function sealSecret(
  keyring: SecretsKeyring,
  tenantId: string,
  name: string,
  value: string,
): Promise<SealedSecret> {
  const key = keyring.keys.get(keyring.currentId);
  if (!key) throw new ConfigError(`SECRETS_KEYS has no key with id ${keyring.currentId}.`);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: additionalData(tenantId, name) },
    key,
    new TextEncoder().encode(value),
  );
  return {
    keyId: keyring.currentId,
    iv: toBase64(iv),
    ciphertext: toBase64(new Uint8Array(ciphertext)),
  };
}

/**
 * Decrypts the stored secret `name` of `tenantId`.
 * @throws ConfigError if SECRETS_KEYS no longer has the row's key (it was removed too early).
 * @throws SecretDecryptError if the row does not decrypt as this tenant's secret of this name.
 */
export async function openSecret(
  keyring: SecretsKeyring,
  tenantId: string,
  name: string,
  sealed: SealedSecret,
): Promise<string> {
  const key = keyring.keys.get(sealed.keyId);
  if (!key) {
    throw new ConfigError(
      `The setting SECRETS_KEYS is missing or invalid: it has no key with id ${sealed.keyId}, which the secret ${name} was encrypted with.`,
    );
  }
  const iv = fromBase64(sealed.iv);
  const ciphertext = fromBase64(sealed.ciphertext);
  if (iv?.length !== IV_BYTES || !ciphertext) {
    throw new SecretDecryptError(`The stored secret ${name} is damaged.`);
  }
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: additionalData(tenantId, name) },
      key,
      ciphertext,
    );
    return new TextDecoder().decode(plain);
  } catch {
    throw new SecretDecryptError(`The stored secret ${name} does not decrypt.`);
  }
}
