/**
 * worker/github/private-key.ts: GitHub's PKCS#1 keys wrapped into PKCS#8 byte for byte as
 * node:crypto (OpenSSL) encodes them, PKCS#8 keys passed through, DER lengths, bad PEMs refused.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  derLength,
  parsePrivateKeyPem,
  pkcs1ToPkcs8,
  pkcs8Der,
} from '../../worker/github/private-key.ts';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs1Pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const pkcs8Pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const pkcs8 = new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' }));
const pkcs1 = new Uint8Array(privateKey.export({ type: 'pkcs1', format: 'der' }));

describe('private keys', () => {
  it('wraps a PKCS#1 key into the PKCS#8 OpenSSL writes for the same key', () => {
    expect(parsePrivateKeyPem(pkcs1Pem)).toEqual({ form: 'pkcs1', der: pkcs1 });
    expect(pkcs1ToPkcs8(pkcs1)).toEqual(pkcs8);
    expect(pkcs8Der(pkcs1Pem)).toEqual(pkcs8);
  });

  it('passes a PKCS#8 key through, and a 4096-bit key too', () => {
    expect(pkcs8Der(pkcs8Pem)).toEqual(pkcs8);
    const big = generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey;
    const bigPkcs1 = big.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(pkcs8Der(bigPkcs1)).toEqual(
      new Uint8Array(big.export({ type: 'pkcs8', format: 'der' })),
    );
  });

  it('accepts a PEM whose newlines were written as \\r\\n', () => {
    expect(pkcs8Der(pkcs1Pem.replaceAll('\n', '\r\n'))).toEqual(pkcs8);
  });

  it('encodes DER lengths in short and long form', () => {
    expect([...derLength(5)]).toEqual([5]);
    expect([...derLength(127)]).toEqual([127]);
    expect([...derLength(128)]).toEqual([0x81, 0x80]);
    expect([...derLength(1190)]).toEqual([0x82, 0x04, 0xa6]);
    expect([...derLength(70000)]).toEqual([0x83, 0x01, 0x11, 0x70]);
  });

  it('refuses what is not a private key PEM', () => {
    expect(() => parsePrivateKeyPem('not a key')).toThrow(/PEM/);
    expect(() =>
      parsePrivateKeyPem('-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'),
    ).toThrow(/PEM/);
    expect(() => pkcs1ToPkcs8(Uint8Array.of(0x02, 0x01, 0x00))).toThrow(/SEQUENCE/);
  });
});
