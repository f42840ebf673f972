/**
 * The GitHub App's private key, from the PEM GitHub hands out. GitHub's keys are PKCS#1
 * (`BEGIN RSA PRIVATE KEY`, RFC 8017 appendix A.1.2); WebCrypto and jose import PKCS#8 only
 * (`BEGIN PRIVATE KEY`, RFC 5208), so a PKCS#1 key is wrapped into a PKCS#8 PrivateKeyInfo first:
 *
 *     PrivateKeyInfo ::= SEQUENCE {
 *       version             INTEGER (0),
 *       privateKeyAlgorithm AlgorithmIdentifier { rsaEncryption, NULL },
 *       privateKey          OCTET STRING (the PKCS#1 RSAPrivateKey, DER) }
 *
 * Pure code (no Workers imports), so it is unit-tested under Node against node:crypto's export.
 */

/** The two PEM forms accepted, and their DER. */
export interface PrivateKeyDer {
  form: 'pkcs1' | 'pkcs8';
  der: Uint8Array;
}

const PEM = /-----BEGIN (RSA )?PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END (RSA )?PRIVATE KEY-----/;

/**
 * The DER inside a PEM private key.
 * @throws Error when the text holds no PKCS#1 or PKCS#8 private key (the message names no key bytes).
 */
export function parsePrivateKeyPem(pem: string): PrivateKeyDer {
  const match = PEM.exec(pem);
  if (match === null || (match[1] ?? '') !== (match[3] ?? '')) {
    throw new Error('The private key is not a PEM "RSA PRIVATE KEY" or "PRIVATE KEY".');
  }
  const base64 = (match[2] ?? '').replace(/\s+/g, '');
  let binary: string;
  try {
    binary = atob(base64);
  } catch {
    throw new Error('The private key PEM does not hold valid base64.');
  }
  const der = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return { form: match[1] === undefined ? 'pkcs8' : 'pkcs1', der };
}

/** A DER length (X.690 8.1.3): short form below 128, else 0x80 | count, then big-endian bytes. */
export function derLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function tlv(tag: number, content: Uint8Array): Uint8Array {
  const length = derLength(content.length);
  const out = new Uint8Array(1 + length.length + content.length);
  out[0] = tag;
  out.set(length, 1);
  out.set(content, 1 + length.length);
  return out;
}

/** INTEGER 0, then AlgorithmIdentifier { OID 1.2.840.113549.1.1.1 (rsaEncryption), NULL }. */
// prettier-ignore
const VERSION_AND_ALGORITHM = Uint8Array.of(
  0x02, 0x01, 0x00,
  0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
);

/** Wraps a PKCS#1 RSAPrivateKey (DER) into a PKCS#8 PrivateKeyInfo (DER). */
export function pkcs1ToPkcs8(pkcs1: Uint8Array): Uint8Array {
  if (pkcs1[0] !== 0x30) throw new Error('The PKCS#1 private key is not a DER SEQUENCE.');
  const octets = tlv(0x04, pkcs1);
  const body = new Uint8Array(VERSION_AND_ALGORITHM.length + octets.length);
  body.set(VERSION_AND_ALGORITHM, 0);
  body.set(octets, VERSION_AND_ALGORITHM.length);
  return tlv(0x30, body);
}

/** The PKCS#8 DER of a PEM key in either form. */
export function pkcs8Der(pem: string): Uint8Array {
  const key = parsePrivateKeyPem(pem);
  return key.form === 'pkcs8' ? key.der : pkcs1ToPkcs8(key.der);
}
