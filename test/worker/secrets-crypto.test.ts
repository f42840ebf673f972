/**
 * Encryption of secrets at rest (worker/lib/secrets-crypto.ts) and masking of secret values in
 * output (durable-objects/job/mask.ts): round trips, the binding to tenant and name, rotation,
 * the settings' errors, and values split across pieces of output.
 */
import { describe, expect, it } from 'vitest';
import { OutputMasker } from '../../durable-objects/job/mask.ts';
import { ConfigError } from '../../worker/config.ts';
import {
  loadSecretsKeys,
  openSecret,
  sealSecret,
  SecretDecryptError,
} from '../../worker/lib/secrets-crypto.ts';

const KEY_A = 'YvceI2Ms9o9WMd7MeJ9vnNVL+z77U0LfpX24D19endo=';
const KEY_B = 'A81ktS4KqfKU1p8VHl9p9OFpVRmG5XcE/fdKkEPxDQk=';

function settings(keys: Record<string, string>, id: string) {
  return { SECRETS_KEYS: JSON.stringify(keys), SECRETS_KEY_ID: id };
}

describe('secrets-crypto', () => {
  it('round-trips a value, with a fresh IV each time and the current key id recorded', async () => {
    const keyring = await loadSecretsKeys(settings({ a: KEY_A }, 'a'));
    const value = 'ghp_söme sécret\nwith lines';
    const one = await sealSecret(keyring, 'ten_1', 'TOKEN', value);
    const two = await sealSecret(keyring, 'ten_1', 'TOKEN', value);
    expect(one.keyId).toBe('a');
    expect(one.iv).not.toBe(two.iv);
    expect(one.ciphertext).not.toBe(two.ciphertext);
    expect(one.ciphertext).not.toContain('ghp_');
    expect(await openSecret(keyring, 'ten_1', 'TOKEN', one)).toBe(value);
    expect(await openSecret(keyring, 'ten_1', 'TOKEN', two)).toBe(value);
  });

  it('binds a ciphertext to its tenant and name: moved to another, it does not decrypt', async () => {
    const keyring = await loadSecretsKeys(settings({ a: KEY_A }, 'a'));
    const sealed = await sealSecret(keyring, 'ten_1', 'TOKEN', 'value-1');
    await expect(openSecret(keyring, 'ten_1', 'OTHER', sealed)).rejects.toThrow(SecretDecryptError);
    await expect(openSecret(keyring, 'ten_2', 'TOKEN', sealed)).rejects.toThrow(SecretDecryptError);
    // A damaged ciphertext fails the same way.
    const bytes = Uint8Array.from(atob(sealed.ciphertext), (ch) => ch.charCodeAt(0));
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    const damaged = btoa(String.fromCharCode(...bytes));
    await expect(
      openSecret(keyring, 'ten_1', 'TOKEN', { ...sealed, ciphertext: damaged }),
    ).rejects.toThrow(SecretDecryptError);
  });

  it('rotates: new values use the new key id, old ones still decrypt with theirs', async () => {
    const before = await loadSecretsKeys(settings({ a: KEY_A }, 'a'));
    const old = await sealSecret(before, 'ten_1', 'TOKEN', 'old value');
    const after = await loadSecretsKeys(settings({ a: KEY_A, b: KEY_B }, 'b'));
    const fresh = await sealSecret(after, 'ten_1', 'TOKEN', 'new value');
    expect(fresh.keyId).toBe('b');
    expect(await openSecret(after, 'ten_1', 'TOKEN', old)).toBe('old value');
    expect(await openSecret(after, 'ten_1', 'TOKEN', fresh)).toBe('new value');
    // Once the old key is removed, its rows are a setting to fix, named as such.
    const removed = await loadSecretsKeys(settings({ b: KEY_B }, 'b'));
    await expect(openSecret(removed, 'ten_1', 'TOKEN', old)).rejects.toThrow(
      /SECRETS_KEYS .*no key with id a/,
    );
  });

  it.each([
    ['no settings', {}, /SECRETS_KEYS/],
    ['no key id', { SECRETS_KEYS: JSON.stringify({ a: KEY_A }) }, /SECRETS_KEY_ID/],
    ['keys that are not JSON', { SECRETS_KEYS: 'a=b', SECRETS_KEY_ID: 'a' }, /SECRETS_KEYS/],
    ['a short key', settings({ a: btoa('short') }, 'a'), /SECRETS_KEYS.*key a/],
    ['an unknown current id', settings({ a: KEY_A }, 'b'), /SECRETS_KEY_ID.*no key with id b/],
  ])('refuses %s with a ConfigError naming the setting', async (_, env, message) => {
    const loaded = loadSecretsKeys(env);
    await expect(loaded).rejects.toThrow(ConfigError);
    await expect(loaded).rejects.toThrow(message);
  });
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Feeds `pieces` through `masker` the way the log follower does: what is not taken comes again. */
function maskStream(masker: OutputMasker, pieces: string[]): { out: string; outputs: string[] } {
  let pending = new Uint8Array(0);
  const outputs: string[] = [];
  pieces.forEach((piece, index) => {
    const bytes = encoder.encode(piece);
    const input = new Uint8Array(pending.length + bytes.length);
    input.set(pending);
    input.set(bytes, pending.length);
    const { output, consumed } = masker.mask(input, index === pieces.length - 1);
    outputs.push(decoder.decode(output));
    pending = input.slice(consumed);
  });
  return { out: outputs.join(''), outputs };
}

describe('OutputMasker', () => {
  it('masks every occurrence, in one piece', () => {
    const masker = new OutputMasker(['abcdefgh', 'zz']);
    expect(maskStream(masker, ['x abcdefgh y abcdefghabcdefgh zz\n']).out).toBe('x *** y *** zz\n');
  });

  it('masks a value split across pieces, holding back only what may start it', () => {
    const masker = new OutputMasker(['abcdefgh']);
    const { out, outputs } = maskStream(masker, ['hello abc', 'defgh\n', 'end']);
    expect(out).toBe('hello ***\nend');
    expect(outputs[0]).toBe('hello ');
    // A tail that turns out not to be the value is released with the next piece.
    expect(maskStream(masker, ['abc', 'xyz']).out).toBe('abcxyz');
    // At the end of the command whatever is held back is released.
    expect(maskStream(masker, ['ok abcdef']).out).toBe('ok abcdef');
  });

  it('masks values split into many pieces, and overlapping values as one', () => {
    const masker = new OutputMasker(['secret-one', 'one-two']);
    expect(maskStream(masker, ['s', 'ec', 'ret-o', 'ne', '!\n']).out).toBe('***!\n');
    expect(maskStream(masker, ['a secret-one-two b']).out).toBe('a *** b');
  });

  it('does not mask values shorter than four bytes, and handles multi-byte text', () => {
    expect(maskStream(new OutputMasker(['abc']), ['abc abc']).out).toBe('abc abc');
    const masker = new OutputMasker(['pässwörd']);
    expect(maskStream(masker, ['my pä', 'sswörd ok']).out).toBe('my *** ok');
  });
});
